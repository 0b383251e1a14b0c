import pg from 'pg';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A schema name of its own for one run of one store (dropped when the run ends). */
export function freshSchema(prefix: string): string {
  const name = `${prefix}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  if (!SCHEMA_NAME.test(name)) throw new Error(`Invalid schema name ${name}`);
  return name;
}

/** A client whose unqualified names resolve in `schema` (for the checks' direct SQL). */
export async function schemaClient(databaseUrl: string, schema: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    options: `-c search_path=${schema}`,
  });
  await client.connect();
  return client;
}

export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`Invalid schema name ${schema}`);
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.end();
  }
}
