import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { openEventStoreDbStore } from '../../src/store/eventstoredb/open-esdb-store.js';
import { openPGliteStore } from '../../src/store/pglite/pglite-store.js';
import { openPostgresDatabase } from '../../src/store/postgres/postgres-store.js';
import type { StoreDatabase } from '../../src/store/sql/schema.js';
import { startEsdbProtocolFake, type EsdbProtocolFake } from './esdb-protocol-fake/index.js';
import type { EventStore } from '../../src/store/port.js';
import {
  POSTGRES_URL,
  postgresAvailable,
  type OpenedStore,
  type StoreHarness,
} from './databases.js';

/** A real EventStoreDB (or KurrentDB) to run the contract against, when one is given. */
export const EVENTSTORE_URL = process.env.EVENTSTORE_URL;

let fake: Promise<EsdbProtocolFake> | undefined;

/** One protocol fake for the whole test file; every store gets its own namespace in it. */
export function sharedProtocolFake(): Promise<EsdbProtocolFake> {
  fake ??= startEsdbProtocolFake();
  return fake;
}

export async function closeSharedProtocolFake(): Promise<void> {
  const started = fake;
  fake = undefined;
  if (started !== undefined) await (await started).close();
}

/** The read models' database for a test store: a fresh PostgreSQL schema, or PGlite without one. */
async function openIndexDatabase(): Promise<{
  db: Kysely<unknown>;
  schema: string;
  drop(): Promise<void>;
}> {
  if (await postgresAvailable()) {
    const schema = `test_esdb_${randomBytes(6).toString('hex')}`;
    const db = await openPostgresDatabase({ connectionString: POSTGRES_URL, schema });
    return {
      db,
      schema,
      async drop() {
        await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
        await db.destroy();
      },
    };
  }
  const { store, db } = await openPGliteStore();
  return { db: db as Kysely<unknown>, schema: 'public', drop: () => store.close() };
}

/** A test store on EventStoreDB, with what only EventStoreDB tests need. */
export interface EventStoreDbTestStore extends OpenedStore {
  /** The stream-name prefix this store's log lives under in EventStoreDB. */
  readonly namespace: string;
  /** Another store over the same log, with a position index of its own, built from scratch. */
  openWithFreshIndex(): Promise<{ store: EventStore; close(): Promise<void> }>;
}

/**
 * A fresh log on the given server: a namespace of its own (stream names `<namespace>:…`) and a
 * fresh index database, so that a real, shared server needs no wiping between tests.
 */
export async function openEventStoreDbTestStore(
  url: string,
  options: { pollIntervalMs?: number } = {},
): Promise<EventStoreDbTestStore> {
  const namespace = `t${randomBytes(5).toString('hex')}`;
  const index = await openIndexDatabase();
  const open = (db: Kysely<unknown>, schema: string) =>
    openEventStoreDbStore({ connectionString: url, db, schema, namespace, ...options });
  const store = await open(index.db, index.schema);
  return {
    store,
    namespace,
    db: index.db as Kysely<StoreDatabase>,
    async appendElsewhere(streamId, event) {
      // Another client of the same server: only EventStoreDB's live subscription can tell
      // `store` about this append.
      const other = await open(index.db, index.schema);
      try {
        await other.append(streamId, [event], { expectedRevision: 'no_stream' });
      } finally {
        await other.close();
      }
    },
    async openWithFreshIndex() {
      const fresh = await openIndexDatabase();
      const other = await open(fresh.db, fresh.schema);
      return {
        store: other,
        async close() {
          await other.close();
          await fresh.drop();
        },
      };
    },
    async close() {
      await store.close();
      await index.drop();
    },
  };
}

/** The EventStoreDB adapter over a given server, for the shared contract suite. */
export function eventStoreDbHarness(connectionString: () => Promise<string>): StoreHarness {
  return {
    name: 'eventstoredb',
    async open(options = {}) {
      return openEventStoreDbTestStore(await connectionString(), options);
    },
  };
}

/**
 * The adapter over the shared protocol fake: for suites that run the whole ledger on each
 * store. The fake stays up until the test file's worker ends.
 */
export const fakeEventStoreDbHarness: StoreHarness = eventStoreDbHarness(
  async () => (await sharedProtocolFake()).connectionString,
);
