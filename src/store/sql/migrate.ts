import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';

/**
 * Runs one module's migrations, kept in its own history table so that each part of the schema
 * (the event log, the projections) can be installed where it lives: with EventStoreDB only the
 * projections' part goes to PostgreSQL. Migrations are listed in code, not read from a folder,
 * so they run the same under tsx, vitest and a bundle.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  module: string,
  migrations: Record<string, Migration>,
  schema: string,
): Promise<void> {
  const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };
  const migrator = new Migrator({
    db,
    provider,
    // Named explicitly: kysely looks the history table up across all schemas otherwise.
    migrationTableSchema: schema,
    migrationTableName: `migrations_${module}`,
    migrationLockTableName: `migrations_${module}_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    const reason = error instanceof Error ? error.message : JSON.stringify(error);
    throw new Error(`Migration ${module}/${failed} failed: ${reason}`, { cause: error });
  }
}
