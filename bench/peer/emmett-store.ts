import { dumbo, type Dumbo } from '@event-driven-io/dumbo';
import {
  getPostgreSQLEventStore,
  type PostgresEventStore,
} from '@event-driven-io/emmett-postgresql';
import pg from 'pg';
import { emmettTypeParsers } from './emmett-types.js';
import { dropSchema } from './schema.js';

export interface EmmettStore {
  readonly store: PostgresEventStore;
  /** The same connections as the store's, for Emmett's lower-level reads and its consumer. */
  readonly pool: Dumbo;
  readonly connectionString: string;
  readonly schema: string;
  close(): Promise<void>;
}

/**
 * Emmett's store creates its functions only if no function of that name exists anywhere in the
 * database (its check ignores schemas): functions left in another schema would then be the ones
 * called. Refuse to start rather than measure someone else's functions.
 */
async function refuseForeignEmmettSchema(databaseUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ nspname: string }>(
      `SELECT DISTINCT n.nspname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.proname LIKE 'emt\\_%'`,
    );
    if (rows.length > 0) {
      throw new Error(
        `Emmett functions already exist in schema(s) ${rows.map((r) => r.nspname).join(', ')}: ` +
          'drop them (a crashed earlier run?) before running the peer benchmark',
      );
    }
  } finally {
    await admin.end();
  }
}

/**
 * Emmett's PostgreSQL event store in a schema of its own. Emmett has no schema option: its SQL
 * names tables and functions unqualified, so its connections get `search_path` set to the
 * schema, which is dropped with everything in it on close.
 */
export async function openEmmettStore(
  databaseUrl: string,
  schema: string,
  poolSize: number,
): Promise<EmmettStore> {
  await refuseForeignEmmettSchema(databaseUrl);
  const setup = new pg.Client({ connectionString: databaseUrl });
  await setup.connect();
  await setup.query(`CREATE SCHEMA ${schema}`).finally(() => setup.end());
  const pgPool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolSize,
    options: `-c search_path=${schema}`,
    types: emmettTypeParsers(),
  });
  const pool = dumbo({ connectionString: databaseUrl, pool: pgPool });
  const store = getPostgreSQLEventStore(databaseUrl, { connectionOptions: { dumbo: pool } });
  try {
    // Creates the tables and functions now, so that no phase pays for it.
    await store.schema.migrate();
  } catch (error) {
    await pgPool.end();
    await dropSchema(databaseUrl, schema);
    throw error;
  }
  return {
    store,
    pool,
    connectionString: databaseUrl,
    schema,
    async close() {
      await store.close();
      await pgPool.end();
      await dropSchema(databaseUrl, schema);
    },
  };
}
