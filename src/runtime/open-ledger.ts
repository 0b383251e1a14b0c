import { mkdir } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import { accessMigrations, KeyStore } from '../access/key-store.js';
import { projectionMigrations } from '../projections/runner/checkpoints.js';
import { openPGliteStore } from '../store/pglite/pglite-store.js';
import type { EventStore } from '../store/port.js';
import { openEventStoreDbStore } from '../store/eventstoredb/open-esdb-store.js';
import { openPostgresDatabase, openPostgresStore } from '../store/postgres/postgres-store.js';
import { migrateToLatest } from '../store/sql/migrate.js';
import type { LedgerConfig } from './config.js';

export interface Ledger {
  readonly store: EventStore;
  /** The database holding the read models and projection checkpoints. */
  readonly db: Kysely<unknown>;
  /** The API keys, kept in `db` (one key store per ledger, whatever holds the log). */
  readonly keys: KeyStore;
  /** A line saying where the data lives, for the start-up banner. */
  readonly description: string;
  close(): Promise<void>;
}

/** Opens the configured store and brings both schemas (log and projections) up to date. */
export async function openLedger(config: LedgerConfig): Promise<Ledger> {
  if (config.EVENTSTORE_URL !== undefined) return openOnEventStoreDb(config, config.EVENTSTORE_URL);
  if (config.DATABASE_URL !== undefined) {
    const schema = config.LEDGER_DB_SCHEMA;
    const { store, db } = await openPostgresStore({
      connectionString: config.DATABASE_URL,
      schema,
    });
    await migrateReadModels(db as Kysely<unknown>, schema);
    return {
      store,
      db: db as Kysely<unknown>,
      keys: new KeyStore(db as Kysely<unknown>),
      description: `PostgreSQL ${redact(config.DATABASE_URL)}, schema ${schema}`,
      close: () => store.close(),
    };
  }
  await mkdir(config.LEDGER_DATA_DIR, { recursive: true });
  const { store, db } = await openPGliteStore({ dataDir: config.LEDGER_DATA_DIR });
  await migrateReadModels(db as Kysely<unknown>, 'public');
  return {
    store,
    db: db as Kysely<unknown>,
    keys: new KeyStore(db as Kysely<unknown>),
    description: `embedded PGlite in ${config.LEDGER_DATA_DIR}`,
    close: () => store.close(),
  };
}

/**
 * The log in EventStoreDB; read models, projection checkpoints and the position index in
 * PostgreSQL (DATABASE_URL) or, without it, in the embedded database.
 */
async function openOnEventStoreDb(config: LedgerConfig, eventStoreUrl: string): Promise<Ledger> {
  const readModels = await openReadModelDatabase(config);
  try {
    await migrateReadModels(readModels.db, readModels.schema);
    const store = await openEventStoreDbStore({
      connectionString: eventStoreUrl,
      db: readModels.db,
      schema: readModels.schema,
      namespace: config.LEDGER_ESDB_NAMESPACE,
    });
    return {
      store,
      db: readModels.db,
      keys: new KeyStore(readModels.db),
      description:
        `EventStoreDB ${redact(eventStoreUrl)} (streams ${config.LEDGER_ESDB_NAMESPACE}:*), ` +
        `read models in ${readModels.description}`,
      async close() {
        await store.close();
        await readModels.close();
      },
    };
  } catch (error) {
    await readModels.close();
    throw error;
  }
}

async function openReadModelDatabase(config: LedgerConfig): Promise<{
  db: Kysely<unknown>;
  schema: string;
  description: string;
  close(): Promise<void>;
}> {
  if (config.DATABASE_URL !== undefined) {
    const schema = config.LEDGER_DB_SCHEMA;
    const db = await openPostgresDatabase({ connectionString: config.DATABASE_URL, schema });
    return {
      db,
      schema,
      description: `PostgreSQL ${redact(config.DATABASE_URL)}, schema ${schema}`,
      close: () => db.destroy(),
    };
  }
  await mkdir(config.LEDGER_DATA_DIR, { recursive: true });
  // The embedded database also creates the (unused) log tables: harmless, and one code path.
  const { store, db } = await openPGliteStore({ dataDir: config.LEDGER_DATA_DIR });
  return {
    db: db as Kysely<unknown>,
    schema: 'public',
    description: `embedded PGlite in ${config.LEDGER_DATA_DIR}`,
    close: () => store.close(),
  };
}

/** The read models' part of the schema: projection checkpoints and the API keys. */
async function migrateReadModels(db: Kysely<unknown>, schema: string): Promise<void> {
  await migrateToLatest(db, 'projections', projectionMigrations, schema);
  await migrateToLatest(db, 'access', accessMigrations, schema);
}

/** Hides a password in a connection string before it is printed. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
