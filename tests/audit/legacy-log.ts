/**
 * A log as it was before the hash chain (migrations 0001–0002 only), written with the
 * `ledger_append` of that time, then upgraded the way the application upgrades it: by opening
 * the store, which migrates to the latest version.
 */
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, sql, type Migration } from 'kysely';
import pg from 'pg';
import { PGliteDialect } from '../../src/store/pglite/pglite-dialect.js';
import type { EventStore, JsonObject } from '../../src/store/port.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { migrateToLatest } from '../../src/store/sql/migrate.js';
import { storeMigrations } from '../../src/store/sql/migrations/index.js';
import type { StoreDatabase } from '../../src/store/sql/schema.js';
import { createSqlEventStore } from '../../src/store/sql/sql-event-store.js';
import { POSTGRES_URL, type StoreHarness } from '../support/databases.js';

const BEFORE_HASH_CHAIN: Record<string, Migration> = Object.fromEntries(
  Object.entries(storeMigrations).filter(([name]) => name < '0003'),
);

export interface LegacyLog {
  /** Raw SQL on the log while it is still at migration 0002. */
  readonly db: Kysely<unknown>;
  /** Migrates to the latest version and opens the store over the same database. */
  upgrade(): Promise<EventStore>;
  close(): Promise<void>;
}

export interface LegacyAppend {
  readonly streamId: string;
  readonly events: readonly {
    readonly id: string;
    readonly type: string;
    readonly data: JsonObject;
  }[];
}

/** The 0001 `ledger_append`: no content hash in the batch, `e: -2` is expectedRevision 'any'. */
export async function legacyAppend(
  db: Kysely<unknown>,
  appends: readonly LegacyAppend[],
): Promise<void> {
  const batch = {
    streams: appends.map((a, i) => ({
      i,
      s: a.streamId,
      e: -2,
      n: a.events.length,
      ids: a.events.map((e) => e.id),
    })),
    events: appends.flatMap((a, i) =>
      a.events.map((e, k) => ({ i, k, id: e.id, t: e.type, d: e.data, m: { actor: 'legacy' } })),
    ),
  };
  await sql`SELECT * FROM ledger_append(${JSON.stringify(batch)}::jsonb)`.execute(db);
}

export async function openLegacyLog(harness: StoreHarness): Promise<LegacyLog> {
  if (harness.name === 'pglite') {
    // openPGliteStore always migrates to the latest; this is the same open, one step at a time.
    const pglite = await PGlite.create();
    const db = new Kysely<StoreDatabase>({ dialect: new PGliteDialect(pglite) });
    const destroy = async () => {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    };
    await migrateToLatest(db as Kysely<unknown>, 'store', BEFORE_HASH_CHAIN, 'public');
    let store: EventStore | undefined;
    return {
      db: db as Kysely<unknown>,
      async upgrade() {
        await migrateToLatest(db as Kysely<unknown>, 'store', storeMigrations, 'public');
        store = createSqlEventStore({
          db,
          listen: () => Promise.resolve(() => Promise.resolve()),
          destroy,
        });
        return store;
      },
      close: () => (store === undefined ? destroy() : store.close()),
    };
  }
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const legacy = await openPostgresStore({
    connectionString: POSTGRES_URL,
    schema,
    migrations: BEFORE_HASH_CHAIN,
  });
  let store: EventStore | undefined;
  return {
    db: legacy.db as Kysely<unknown>,
    async upgrade() {
      await legacy.store.close();
      store = (await openPostgresStore({ connectionString: POSTGRES_URL, schema })).store;
      return store;
    },
    async close() {
      await (store ?? legacy.store).close();
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}
