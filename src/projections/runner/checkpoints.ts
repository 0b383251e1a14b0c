import { sql, type Kysely, type Migration } from 'kysely';

export interface ProjectionCheckpointsTable {
  /** The projection's name, or `<name>__rebuild` while a rebuild runs. */
  name: string;
  /** Global position the read model reflects: every event up to it has been applied. */
  position: number;
  updated_at: Date;
}

export interface CheckpointDatabase {
  projection_checkpoints: ProjectionCheckpointsTable;
}

export const projectionMigrations: Record<string, Migration> = {
  '0001-projection-checkpoints': {
    async up(db: Kysely<unknown>) {
      await sql`
        CREATE TABLE projection_checkpoints (
          name text PRIMARY KEY,
          position bigint NOT NULL CHECK (position >= 0),
          updated_at timestamptz NOT NULL DEFAULT now()
        )`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await sql`DROP TABLE projection_checkpoints`.execute(db);
    },
  },
};

export async function readCheckpoint(
  db: Kysely<CheckpointDatabase>,
  name: string,
): Promise<number | undefined> {
  const row = await db
    .selectFrom('projection_checkpoints')
    .select('position')
    .where('name', '=', name)
    .executeTakeFirst();
  return row === undefined ? undefined : Number(row.position);
}

/** Creates the checkpoint at 0 unless it exists. */
export async function ensureCheckpoint(
  db: Kysely<CheckpointDatabase>,
  name: string,
): Promise<void> {
  await db
    .insertInto('projection_checkpoints')
    .values({ name, position: 0, updated_at: sql<Date>`now()` })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}
