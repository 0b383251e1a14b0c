import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';

async function packageVersion(name: string): Promise<string> {
  // Read from node_modules: some packages do not export their package.json.
  const file = path.resolve('node_modules', name, 'package.json');
  try {
    const json = JSON.parse(await readFile(file, 'utf8')) as { version?: unknown };
    return typeof json.version === 'string' ? json.version : 'unknown';
  } catch {
    return 'not installed';
  }
}

/** What the figures depend on besides the machine: the runtime, the drivers, the server. */
export async function versions(databaseUrl: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let server = 'unknown';
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    server = rows[0]?.server_version ?? server;
  } finally {
    await client.end();
  }
  return {
    node: process.version,
    postgresql: server,
    pg: await packageVersion('pg'),
    kysely: await packageVersion('kysely'),
    '@event-driven-io/emmett': await packageVersion('@event-driven-io/emmett'),
    '@event-driven-io/emmett-postgresql': await packageVersion(
      '@event-driven-io/emmett-postgresql',
    ),
    '@event-driven-io/dumbo': await packageVersion('@event-driven-io/dumbo'),
  };
}

/** The command as typed, to put beside the figures it produced. */
export function commandLine(): string {
  return ['npm run bench --', ...process.argv.slice(2)].join(' ');
}
