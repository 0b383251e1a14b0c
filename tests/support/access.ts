import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { accessMigrations, KeyStore, type KeyStoreOptions } from '../../src/access/key-store.js';
import type { NewKey } from '../../src/access/new-key.js';
import { buildApp, type AppDependencies } from '../../src/api/app.js';
import { migrateToLatest } from '../../src/store/sql/migrate.js';

/** The key store in a test's database (its current schema), as `openLedger` installs it. */
export async function openKeyStore(
  db: Kysely<unknown>,
  options: KeyStoreOptions = {},
): Promise<KeyStore> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db);
  const schema = rows[0]?.schema;
  if (schema === undefined) throw new Error('no current schema');
  await migrateToLatest(db, 'access', accessMigrations, schema);
  return new KeyStore(db, options);
}

/** Each test app's admin key, which the request helpers send unless told otherwise. */
const adminKeys = new WeakMap<FastifyInstance, string>();

/**
 * `buildApp` as the tests use it: a key store in the same database with an admin key the
 * request helpers send (`authorization(app)`), and a rate limit no test reaches unless it sets
 * its own.
 */
export async function buildTestApp(
  deps: Omit<AppDependencies, 'keys'> & { readonly keys?: KeyStore },
): Promise<FastifyInstance> {
  const keys = deps.keys ?? (await openKeyStore(deps.db));
  const { key } = await keys.create(adminKey);
  const app = await buildApp({
    ...deps,
    keys,
    limits: { rateLimitPerMinute: 1_000_000, ...deps.limits },
  });
  adminKeys.set(app, key);
  return app;
}

const adminKey: NewKey = { role: 'admin', sites: [], districts: [], label: 'test admin' };

/** The header that authenticates as the app's test admin. */
export function authorization(app: FastifyInstance): { authorization: string } {
  const key = adminKeys.get(app);
  if (key === undefined) throw new Error('this app was not built with buildTestApp');
  return { authorization: `Bearer ${key}` };
}

export function bearer(key: string): { authorization: string } {
  return { authorization: `Bearer ${key}` };
}
