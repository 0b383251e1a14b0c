import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { contentHashOfCanonical } from '../../src/integrity/event-hash.js';
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { openPGliteStore } from '../../src/store/pglite/pglite-store.js';
import type { EventStore, EventToAppend } from '../../src/store/port.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { StoreDatabase } from '../../src/store/sql/schema.js';

/** The PostgreSQL the e2e tests use; `.ci/run` makes sure it is up. */
export const POSTGRES_URL =
  process.env.LEDGER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Set by `.ci/run`: a missing PostgreSQL is then a failure, not a skip. */
const REQUIRE_POSTGRES = process.env.LEDGER_REQUIRE_POSTGRES === '1';

async function canConnect(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

let availability: Promise<boolean> | undefined;

/**
 * Whether the PostgreSQL tests can run here. Prints one plain line when they are skipped, and
 * throws instead when `LEDGER_REQUIRE_POSTGRES=1` (CI), so CI never skips them silently.
 */
export function postgresAvailable(): Promise<boolean> {
  availability ??= canConnect().then((ok) => {
    if (!ok && REQUIRE_POSTGRES) {
      throw new Error(`LEDGER_REQUIRE_POSTGRES=1 but no PostgreSQL answers at ${POSTGRES_URL}`);
    }
    if (!ok) {
      console.warn(
        `SKIPPED: PostgreSQL tests — no PostgreSQL answers at ${POSTGRES_URL} ` +
          '(start one, or set LEDGER_TEST_DATABASE_URL).',
      );
    }
    return ok;
  });
  return availability;
}

export interface OpenedStore {
  readonly store: EventStore;
  /** The same database the store writes to, for read models and for tests that need raw SQL. */
  readonly db: Kysely<StoreDatabase>;
  /**
   * Appends one event to a new stream without going through `store` (raw SQL on the same
   * database, or another client of the same EventStoreDB), so that only the database's own
   * notification can tell `store`'s subscribers about it.
   */
  appendElsewhere(streamId: string, event: EventToAppend): Promise<void>;
  /** Closes the store and drops what the test created. */
  close(): Promise<void>;
}

export interface StoreHarness {
  readonly name: 'postgres' | 'pglite' | 'eventstoredb';
  /** A fresh, empty log: its own schema on PostgreSQL, its own in-memory database on PGlite. */
  open(options?: { pollIntervalMs?: number }): Promise<OpenedStore>;
}

export const pgliteHarness: StoreHarness = {
  name: 'pglite',
  async open(options = {}) {
    const { store, db } = await openPGliteStore(options);
    return {
      store,
      db,
      appendElsewhere: (streamId, event) => appendThroughSql(db, streamId, event),
      close: () => store.close(),
    };
  },
};

export const postgresHarness: StoreHarness = {
  name: 'postgres',
  async open(options = {}) {
    const schema = `test_${randomBytes(6).toString('hex')}`;
    const { store, db } = await openPostgresStore({
      connectionString: POSTGRES_URL,
      schema,
      ...options,
    });
    return {
      store,
      db,
      appendElsewhere: (streamId, event) => appendThroughSql(db, streamId, event),
      async close() {
        await store.close();
        const admin = new pg.Client({ connectionString: POSTGRES_URL });
        await admin.connect();
        try {
          await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        } finally {
          await admin.end();
        }
      },
    };
  },
};

interface RawBatch {
  readonly streams: readonly {
    readonly i: number;
    readonly s: string;
    /** The stream's events' content hashes, in order. */
    readonly h?: readonly string[];
    readonly [k: string]: unknown;
  }[];
  readonly events: readonly {
    readonly i: number;
    readonly id: string;
    readonly t: string;
    readonly d: unknown;
    readonly m?: unknown;
    readonly [k: string]: unknown;
  }[];
}

/**
 * Runs `ledger_append` inside a transaction the caller controls (to hold it open or roll it
 * back). Streams without content hashes get the ones the adapters send (integrity/event-hash.ts).
 */
export function rawAppendSql(batch: RawBatch) {
  const streams = batch.streams.map((stream) => ({
    ...stream,
    h:
      stream.h ??
      batch.events
        .filter((e) => e.i === stream.i)
        .map((e) =>
          contentHashOfCanonical(stream.s, e.id, e.t, canonicalJson(e.d), canonicalJson(e.m ?? {})),
        ),
  }));
  return sql`SELECT * FROM ledger_append(${JSON.stringify({ ...batch, streams })}::jsonb)`;
}

/** A new stream's first event, written by calling `ledger_append` directly. */
async function appendThroughSql(
  db: Kysely<StoreDatabase>,
  streamId: string,
  event: EventToAppend,
): Promise<void> {
  await rawAppendSql({
    streams: [{ i: 0, s: streamId, e: -1, n: 1, ids: [event.id] }],
    events: [{ i: 0, k: 0, id: event.id, t: event.type, d: event.data, m: event.metadata ?? {} }],
  }).execute(db);
}
