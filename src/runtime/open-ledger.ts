import { mkdir } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import { projectionMigrations } from '../projections/runner/checkpoints.js';
import { openPGliteStore } from '../store/pglite/pglite-store.js';
import type { EventStore } from '../store/port.js';
import { openPostgresStore } from '../store/postgres/postgres-store.js';
import { migrateToLatest } from '../store/sql/migrate.js';
import type { LedgerConfig } from './config.js';

export interface Ledger {
  readonly store: EventStore;
  /** The database holding the read models and projection checkpoints. */
  readonly db: Kysely<unknown>;
  /** A line saying where the data lives, for the start-up banner. */
  readonly description: string;
  close(): Promise<void>;
}

/** Opens the configured store and brings both schemas (log and projections) up to date. */
export async function openLedger(config: LedgerConfig): Promise<Ledger> {
  if (config.DATABASE_URL !== undefined) {
    const schema = config.LEDGER_DB_SCHEMA;
    const { store, db } = await openPostgresStore({
      connectionString: config.DATABASE_URL,
      schema,
    });
    await migrateToLatest(db as Kysely<unknown>, 'projections', projectionMigrations, schema);
    return {
      store,
      db: db as Kysely<unknown>,
      description: `PostgreSQL ${redact(config.DATABASE_URL)}, schema ${schema}`,
      close: () => store.close(),
    };
  }
  await mkdir(config.LEDGER_DATA_DIR, { recursive: true });
  const { store, db } = await openPGliteStore({ dataDir: config.LEDGER_DATA_DIR });
  await migrateToLatest(db as Kysely<unknown>, 'projections', projectionMigrations, 'public');
  return {
    store,
    db: db as Kysely<unknown>,
    description: `embedded PGlite in ${config.LEDGER_DATA_DIR}`,
    close: () => store.close(),
  };
}

/** Hides a password in a connection string before it is printed. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
