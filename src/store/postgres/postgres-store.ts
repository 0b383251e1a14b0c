import { Kysely, PostgresDialect, sql, type DatabaseIntrospector, type Migration } from 'kysely';
import pg from 'pg';
import type { EventStore } from '../port.js';
import { migrateToLatest } from '../sql/migrate.js';
import { storeMigrations } from '../sql/migrations/index.js';
import type { StoreDatabase } from '../sql/schema.js';
import { SchemaIntrospector } from '../sql/schema-introspector.js';
import { APPEND_SQL, createSqlEventStore, type AppendRow } from '../sql/sql-event-store.js';
import type { AppendSignal } from '../subscription/append-signal.js';

export interface PostgresStoreOptions {
  /** e.g. `postgres://postgres@127.0.0.1:5432/test` */
  readonly connectionString: string;
  /** Schema that holds the log (created if missing); tests give each store its own. */
  readonly schema?: string;
  readonly poolSize?: number;
  readonly pollIntervalMs?: number;
  /**
   * The log's migrations to apply (default: all). Benchmarks and migration tests pass an older
   * subset, to measure or upgrade a log as it was before a migration.
   */
  readonly migrations?: Record<string, Migration>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * int8 as a JS number: positions and revisions stay far below 2^53; anything larger is refused
 * rather than silently rounded.
 */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n))
    throw new RangeError(`int8 ${value} exceeds the safe integer range`);
  return n;
}

const INT8_OID = 20;

/** The pool's own type parsers: int8 as a safe number, everything else as pg parses it. */
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): unknown {
    return oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format);
  },
};

export function createPostgresPool(options: PostgresStoreOptions): pg.Pool {
  const schema = options.schema ?? 'ledger';
  if (!SCHEMA_NAME.test(schema)) throw new Error(`Invalid schema name ${schema}`);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    types: typeParsers,
    // Every connection resolves the log's tables and function in this schema.
    options: `-c search_path=${schema}`,
    // A database that does not give a connection within this fails the request (503 with
    // Retry-After, see store/unavailable.ts) instead of holding it until the client gives up.
    connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
  });
  // A connection the server drops (a restart, a network cut) raises 'error' on its client and,
  // if it sits idle, on the pool; unheard, either event would end the process. The query in
  // flight fails by itself, and the pool opens a new connection for the next one.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** The longest a request waits for a pooled connection (opening one included). */
const CONNECTION_TIMEOUT_MS = 5_000;

/** kysely's PostgreSQL dialect, introspecting only the ledger's schema (see SchemaIntrospector). */
class SchemaScopedPostgresDialect extends PostgresDialect {
  constructor(
    config: ConstructorParameters<typeof PostgresDialect>[0],
    private readonly schema: string,
  ) {
    super(config);
  }
  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SchemaIntrospector(db, this.schema);
  }
}

function schemaScopedDatabase(pool: pg.Pool, schema: string): Kysely<StoreDatabase> {
  return new Kysely<StoreDatabase>({ dialect: new SchemaScopedPostgresDialect({ pool }, schema) });
}

/**
 * A database for read models only (the log lives elsewhere, in EventStoreDB): a pool whose
 * search_path is `schema`, created if missing. The caller destroys it.
 */
export async function openPostgresDatabase(options: {
  readonly connectionString: string;
  readonly schema: string;
}): Promise<Kysely<unknown>> {
  const db = schemaScopedDatabase(createPostgresPool(options), options.schema);
  try {
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(options.schema)}`.execute(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db as Kysely<unknown>;
}

/** Opens (and migrates) the PostgreSQL event store; the caller closes it. */
export async function openPostgresStore(
  options: PostgresStoreOptions,
): Promise<{ store: EventStore; db: Kysely<StoreDatabase> }> {
  const schema = options.schema ?? 'ledger';
  const pool = createPostgresPool(options);
  const db = schemaScopedDatabase(pool, schema);
  try {
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
    await migrateToLatest(
      db as Kysely<unknown>,
      'store',
      options.migrations ?? storeMigrations,
      schema,
    );
  } catch (error) {
    await db.destroy();
    throw error;
  }

  async function listen(signal: AppendSignal): Promise<() => Promise<void>> {
    // A dedicated connection: LISTEN belongs to a session, and pooled sessions come and go.
    const client = new pg.Client({ connectionString: options.connectionString });
    client.on('notification', () => signal.notify());
    // A lost listener is not fatal: subscribers fall back to polling.
    client.on('error', () => undefined);
    await client.connect();
    await client.query('LISTEN ledger_appended');
    return async () => {
      await client.end().catch(() => undefined);
    };
  }

  const store = createSqlEventStore({
    db,
    listen,
    // A named statement is parsed and planned once per connection instead of once per append.
    executeAppend: async (batchJson) =>
      (
        await pool.query<AppendRow>({
          name: 'ledger_append',
          text: APPEND_SQL,
          values: [batchJson],
        })
      ).rows,
    destroy: () => db.destroy(),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
  });
  return { store, db };
}
