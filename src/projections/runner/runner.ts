import { sql, type Kysely } from 'kysely';
import type { EventStore } from '../../store/port.js';
import { ensureCheckpoint, readCheckpoint, type CheckpointDatabase } from './checkpoints.js';
import type { Projection, TableNames } from './projection.js';

export const DEFAULT_PROJECTION_BATCH = 1000;
const DEFAULT_IDLE_WAIT_MS = 200;
const MAX_RETRY_WAIT_MS = 30_000;

export interface RunnerOptions<T extends string> {
  readonly store: EventStore;
  /** Where the read models and checkpoints live (the same PostgreSQL or PGlite as the log, or not). */
  readonly db: Kysely<unknown>;
  readonly projection: Projection<T>;
  readonly batchSize?: number;
  /** Called when a batch fails; the runner retries it with back-off. */
  readonly onError?: (error: unknown) => void;
}

export interface BatchOutcome {
  /** Events the projection applied in this batch. */
  readonly applied: number;
  /** The checkpoint after the batch. */
  readonly checkpoint: number;
  /** False when there was nothing new to read. */
  readonly moved: boolean;
}

export interface ProjectionLag {
  readonly checkpoint: number;
  readonly head: number;
  /** Events in the log the read model does not reflect yet (positions are dense). */
  readonly lag: number;
}

/** The checkpoint moved under us (a rebuild swapped tables in, or another runner): read again. */
class CheckpointMoved extends Error {}

/** PostgreSQL cuts longer identifiers short, which would break the rebuild's renames. */
const MAX_IDENTIFIER_LENGTH = 63;
export const REBUILD_SUFFIX = '__rebuild';

/** The live tables carry the logical names. */
export function liveTables<T extends string>(projection: Projection<T>): TableNames<T> {
  for (const table of projection.tables) {
    if (`${table}${REBUILD_SUFFIX}_pkey`.length > MAX_IDENTIFIER_LENGTH) {
      throw new Error(
        `Projection ${projection.name}: table name ${table} is too long (at most ${
          MAX_IDENTIFIER_LENGTH - REBUILD_SUFFIX.length - '_pkey'.length
        } characters)`,
      );
    }
  }
  return Object.fromEntries(
    projection.tables.map((t): [string, string] => [t, t]),
  ) as TableNames<T>;
}

/**
 * Creates a projection's tables under an advisory lock: two runners starting at once would
 * otherwise race in `CREATE TABLE IF NOT EXISTS` (PostgreSQL then fails on its catalogue's
 * unique index).
 */
export async function createTablesOnce<T extends string>(
  db: Kysely<unknown>,
  projection: Projection<T>,
  tables: TableNames<T>,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${`projection:${projection.name}`}))`.execute(
      trx,
    );
    await projection.createTables(trx, tables);
  });
}

/**
 * Applies one batch to the read model named by `checkpointName`/`tables`, and moves the
 * checkpoint in the same transaction. Events are read before the transaction (PGlite has a
 * single connection, and long reads should not hold locks); inside it the checkpoint is locked
 * and compared, so two runners, or a runner and a rebuild swap, never apply a batch twice.
 */
export async function applyNextBatch<T extends string>(
  options: RunnerOptions<T>,
  checkpointName: string,
  tables: TableNames<T>,
): Promise<BatchOutcome> {
  const { store, projection } = options;
  const db = options.db as Kysely<CheckpointDatabase>;
  for (;;) {
    const from = (await readCheckpoint(db, checkpointName)) ?? 0;
    const page = await store.readAll({
      after: from,
      maxCount: options.batchSize ?? DEFAULT_PROJECTION_BATCH,
      types: projection.handles,
    });
    if (page.readUpTo === from) return { applied: 0, checkpoint: from, moved: false };
    try {
      await db.transaction().execute(async (trx) => {
        const locked = await trx
          .selectFrom('projection_checkpoints')
          .select('position')
          .where('name', '=', checkpointName)
          .forUpdate()
          .executeTakeFirst();
        if (locked === undefined)
          throw new Error(`No checkpoint ${checkpointName}: call setup() first`);
        if (Number(locked.position) !== from) throw new CheckpointMoved();
        if (page.events.length > 0) await projection.apply(trx as never, page.events, tables);
        await trx
          .updateTable('projection_checkpoints')
          .set({ position: page.readUpTo, updated_at: sql<Date>`now()` })
          .where('name', '=', checkpointName)
          .execute();
      });
      return { applied: page.events.length, checkpoint: page.readUpTo, moved: true };
    } catch (error) {
      if (!(error instanceof CheckpointMoved)) throw error;
    }
  }
}

/** Keeps one projection's live read model up to date with the log. */
export class ProjectionRunner<T extends string> {
  readonly #options: RunnerOptions<T>;
  readonly #tables: TableNames<T>;

  constructor(options: RunnerOptions<T>) {
    this.#options = options;
    this.#tables = liveTables(options.projection);
  }

  get name(): string {
    return this.#options.projection.name;
  }

  /** Creates the read model's tables and checkpoint if they do not exist. */
  async setup(): Promise<void> {
    await createTablesOnce(this.#options.db, this.#options.projection, this.#tables);
    await ensureCheckpoint(this.#options.db as Kysely<CheckpointDatabase>, this.name);
  }

  /** Applies one batch; throws if the projection or the database fails (nothing is applied). */
  runOnce(): Promise<BatchOutcome> {
    return applyNextBatch(this.#options, this.name, this.#tables);
  }

  /** Applies batches until the read model reflects the head as it was when this was called. */
  async catchUp(onProgress?: (outcome: BatchOutcome) => void): Promise<number> {
    const head = await this.#options.store.headPosition();
    let checkpoint =
      (await readCheckpoint(this.#options.db as Kysely<CheckpointDatabase>, this.name)) ?? 0;
    while (checkpoint < head) {
      const outcome = await this.runOnce();
      onProgress?.(outcome);
      if (!outcome.moved) break;
      checkpoint = outcome.checkpoint;
    }
    return checkpoint;
  }

  async lag(): Promise<ProjectionLag> {
    const head = await this.#options.store.headPosition();
    const checkpoint =
      (await readCheckpoint(this.#options.db as Kysely<CheckpointDatabase>, this.name)) ?? 0;
    return { checkpoint, head, lag: Math.max(0, head - checkpoint) };
  }

  /**
   * Follows the log until `signal` aborts. A failing batch is reported and retried with
   * exponential back-off; the runner never stops on one.
   */
  async run(signal: AbortSignal, idleWaitMs = DEFAULT_IDLE_WAIT_MS): Promise<void> {
    const batchSize = this.#options.batchSize ?? DEFAULT_PROJECTION_BATCH;
    let failures = 0;
    let checkpoint: number | undefined;
    while (!signal.aborted) {
      try {
        const outcome = await this.runOnce();
        failures = 0;
        // A short batch reached the head: wait before the next one, so that under steady
        // ingestion each batch takes what arrived meanwhile instead of a few events at a time
        // (a batch costs several round trips whatever its size). Behind, batches run back to
        // back. Either way the read model trails the log by about idleWaitMs.
        const reachedHead =
          !outcome.moved ||
          (checkpoint !== undefined && outcome.checkpoint - checkpoint < batchSize);
        checkpoint = outcome.checkpoint;
        if (reachedHead) await sleep(idleWaitMs, signal);
      } catch (error) {
        failures += 1;
        this.#options.onError?.(error);
        await sleep(Math.min(MAX_RETRY_WAIT_MS, 100 * 2 ** Math.min(failures, 9)), signal);
      }
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
