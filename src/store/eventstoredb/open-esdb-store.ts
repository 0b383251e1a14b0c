import { EventStoreDBClient } from '@eventstore/db-client';
import type { Kysely } from 'kysely';
import { migrateToLatest } from '../sql/migrate.js';
import { EventStoreDbStore } from './esdb-store.js';
import { positionIndexMigrations } from './index-migrations.js';

export interface EventStoreDbOptions {
  /** An `esdb://` or `esdb+discover://` connection string. */
  readonly connectionString: string;
  /** The read models' database: the position index is created there. */
  readonly db: Kysely<unknown>;
  /** The schema `db` works in (its search_path), for the migration history. */
  readonly schema: string;
  /** Prefix of the ledger's stream names in EventStoreDB. */
  readonly namespace?: string;
  readonly pollIntervalMs?: number;
}

export const DEFAULT_ESDB_NAMESPACE = 'ledger';
const NAMESPACE = /^[a-z][a-z0-9_-]{0,39}$/;

/** Opens the EventStoreDB store; the caller owns `db` and closes it after the store. */
export async function openEventStoreDbStore(
  options: EventStoreDbOptions,
): Promise<EventStoreDbStore> {
  const namespace = options.namespace ?? DEFAULT_ESDB_NAMESPACE;
  if (!NAMESPACE.test(namespace)) {
    throw new Error(`EventStoreDB namespace ${namespace} must match ${NAMESPACE.source}`);
  }
  await migrateToLatest(options.db, 'esdb_index', positionIndexMigrations, options.schema);
  const client = EventStoreDBClient.connectionString(options.connectionString);
  const store = new EventStoreDbStore({
    client,
    index: options.db,
    namespace,
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
  });
  try {
    // Reach the server now, so a wrong address fails at start with a clear message.
    await store.headPosition();
  } catch (error) {
    await store.close().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot use EventStoreDB at ${redact(options.connectionString)}: ${reason}`, {
      cause: error,
    });
  }
  return store;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
