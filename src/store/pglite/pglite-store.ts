import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import type { EventStore } from '../port.js';
import { migrateToLatest } from '../sql/migrate.js';
import { storeMigrations } from '../sql/migrations/index.js';
import type { StoreDatabase } from '../sql/schema.js';
import { createSqlEventStore } from '../sql/sql-event-store.js';
import type { AppendSignal } from '../subscription/append-signal.js';
import { PGliteDialect } from './pglite-dialect.js';

export interface PGliteStoreOptions {
  /** Folder the database persists to; omitted, the database lives in memory (tests). */
  readonly dataDir?: string;
  readonly pollIntervalMs?: number;
}

/** Opens (and migrates) the embedded event store; the caller closes it. */
export async function openPGliteStore(
  options: PGliteStoreOptions = {},
): Promise<{ store: EventStore; db: Kysely<StoreDatabase>; pglite: PGlite }> {
  // PGlite parses int8 to a JS number and jsonb to objects, as the pg adapter is set up to.
  const pglite = await PGlite.create(options.dataDir);
  const db = new Kysely<StoreDatabase>({ dialect: new PGliteDialect(pglite) });
  try {
    await migrateToLatest(db as Kysely<unknown>, 'store', storeMigrations, 'public');
  } catch (error) {
    await pglite.close();
    throw error;
  }

  async function listen(signal: AppendSignal): Promise<() => Promise<void>> {
    const unlisten = await pglite.listen('ledger_appended', () => signal.notify());
    return async () => {
      if (!pglite.closed) await unlisten();
    };
  }

  const store = createSqlEventStore({
    db,
    listen,
    destroy: async () => {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
  });
  return { store, db, pglite };
}
