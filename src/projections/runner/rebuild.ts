import { sql, type Kysely, type Transaction } from 'kysely';
import { ensureCheckpoint, readCheckpoint, type CheckpointDatabase } from './checkpoints.js';
import type { Projection, TableNames } from './projection.js';
import {
  applyNextBatch,
  createTablesOnce,
  liveTables,
  REBUILD_SUFFIX,
  type RunnerOptions,
} from './runner.js';

export interface RebuildProgress {
  readonly checkpoint: number;
  readonly head: number;
  readonly applied: number;
}

export interface RebuildResult {
  /** The checkpoint the rebuilt tables had when they were swapped in. */
  readonly swappedAt: number;
  readonly applied: number;
}

function rebuildTables<T extends string>(projection: Projection<T>): TableNames<T> {
  return Object.fromEntries(
    projection.tables.map((t): [string, string] => [t, `${t}${REBUILD_SUFFIX}`]),
  ) as TableNames<T>;
}

/**
 * Rebuilds a projection from the whole log into fresh tables and swaps them in, while the live
 * runner and ingestion go on:
 *
 * 1. fresh `…__rebuild` tables and a `<name>__rebuild` checkpoint at 0 (an unfinished rebuild is
 *    resumed, not restarted);
 * 2. catch up batch by batch until the rebuild is at least where the live read model is;
 * 3. in one transaction: lock the live checkpoint (a live batch in flight finishes first or
 *    retries after), drop the live tables, rename the rebuilt ones (and their indexes) to the
 *    live names, and set the live checkpoint to the rebuild's. The live runner then goes on from
 *    there, so nothing is applied twice or skipped, and readers never see a model older than
 *    the one it replaced.
 */
export async function rebuildProjection<T extends string>(
  options: RunnerOptions<T>,
  onProgress?: (progress: RebuildProgress) => void,
): Promise<RebuildResult> {
  const { projection, store } = options;
  const db = options.db as Kysely<CheckpointDatabase>;
  const live = liveTables(projection);
  const fresh = rebuildTables(projection);
  const rebuildName = `${projection.name}${REBUILD_SUFFIX}`;

  if ((await readCheckpoint(db, rebuildName)) === undefined) {
    await dropTables(options.db, Object.values<string>(fresh));
  }
  await createTablesOnce(options.db, projection, fresh);
  await createTablesOnce(options.db, projection, live);
  await ensureCheckpoint(db, rebuildName);
  await ensureCheckpoint(db, projection.name);

  let applied = 0;
  for (;;) {
    const target = Math.max((await readCheckpoint(db, projection.name)) ?? 0, 0);
    const head = await store.headPosition();
    const outcome = await applyNextBatch(options, rebuildName, fresh);
    applied += outcome.applied;
    onProgress?.({ checkpoint: outcome.checkpoint, head, applied });
    if (outcome.moved && outcome.checkpoint < target) continue;
    const swappedAt = await trySwap(db, projection, live, fresh, rebuildName);
    if (swappedAt !== undefined) return { swappedAt, applied };
  }
}

/** Swaps the rebuilt tables in if the rebuild has reached the live checkpoint; else undefined. */
async function trySwap<T extends string>(
  db: Kysely<CheckpointDatabase>,
  projection: Projection<T>,
  live: TableNames<T>,
  fresh: TableNames<T>,
  rebuildName: string,
): Promise<number | undefined> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('projection_checkpoints')
      .select(['name', 'position'])
      .where('name', 'in', [projection.name, rebuildName])
      .orderBy('name')
      .forUpdate()
      .execute();
    const position = (name: string) => Number(rows.find((r) => r.name === name)?.position ?? 0);
    const rebuilt = position(rebuildName);
    if (rebuilt < position(projection.name)) return undefined;
    for (const table of projection.tables) {
      await sql`DROP TABLE IF EXISTS ${sql.table(live[table])}`.execute(trx);
      await sql`ALTER TABLE ${sql.table(fresh[table])} RENAME TO ${sql.table(live[table])}`.execute(
        trx,
      );
      await renameIndexes(trx, fresh[table], live[table]);
    }
    await trx
      .updateTable('projection_checkpoints')
      .set({ position: rebuilt, updated_at: sql<Date>`now()` })
      .where('name', '=', projection.name)
      .execute();
    await trx.deleteFrom('projection_checkpoints').where('name', '=', rebuildName).execute();
    return rebuilt;
  });
}

/** Index names must be unique per schema, so the rebuilt table's indexes take the live names. */
async function renameIndexes(
  trx: Transaction<CheckpointDatabase>,
  from: string,
  to: string,
): Promise<void> {
  const { rows } = await sql<{ indexname: string }>`
    SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ${to}`.execute(
    trx,
  );
  for (const { indexname } of rows.filter((r) => r.indexname.startsWith(from))) {
    const renamed = to + indexname.slice(from.length);
    await sql`ALTER INDEX ${sql.table(indexname)} RENAME TO ${sql.table(renamed)}`.execute(trx);
  }
}

async function dropTables(db: Kysely<unknown>, tables: readonly string[]): Promise<void> {
  for (const table of tables) await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
}
