import { sql, type Kysely } from 'kysely';
import type { Projection, TableNames } from '../projections/runner/projection.js';
import type { RecordedEvent } from '../store/port.js';

const BATCH = 1000;

export interface ReplayOptions<T extends string> {
  readonly db: Kysely<unknown>;
  readonly projection: Projection<T>;
  /** The log in position order (the database's, or an export's). */
  readonly events: AsyncIterable<RecordedEvent>;
  /** Stop after this position, or after the last event recorded at or before this time. */
  readonly upTo?: { readonly position?: number; readonly recordedAt?: string };
  /** A schema of its own (created; must not exist): the live read model is never touched. */
  readonly schema: string;
  readonly onProgress?: (position: number) => void;
}

export interface ReplayResult<T extends string> {
  readonly tables: TableNames<T>;
  readonly upToPosition: number;
  readonly applied: number;
}

/**
 * Rebuilds a projection from events into a scratch schema, with the projection's own code, in
 * batches like the runner's: what the read model would hold had it seen exactly these events.
 */
export async function replayProjection<T extends string>(
  options: ReplayOptions<T>,
): Promise<ReplayResult<T>> {
  const { db, projection, schema } = options;
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(schema)) throw new Error(`bad scratch schema name ${schema}`);
  await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
  const tables = Object.fromEntries(
    projection.tables.map((t): [string, string] => [t, `${schema}.${t}`]),
  ) as TableNames<T>;
  await projection.createTables(db, tables);
  const handles = new Set(projection.handles);
  const upToPosition = options.upTo?.position ?? Infinity;
  const upToTime =
    options.upTo?.recordedAt === undefined ? undefined : Date.parse(options.upTo.recordedAt);
  let batch: RecordedEvent[] = [];
  let applied = 0;
  let reached = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const events = batch;
    batch = [];
    await db.transaction().execute((trx) => projection.apply(trx, events, tables));
    applied += events.length;
    options.onProgress?.(reached);
  };
  for await (const event of options.events) {
    if (event.position > upToPosition) break;
    if (upToTime !== undefined && Date.parse(event.recordedAt) > upToTime) break;
    reached = event.position;
    if (!handles.has(event.type)) continue;
    batch.push(event);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return { tables, upToPosition: reached, applied };
}

export interface TableDiff {
  readonly table: string;
  readonly compared: boolean;
  /** Rows in the live table and not in the replayed one (counted with multiplicity). */
  readonly onlyLive: number;
  readonly onlyReplayed: number;
  readonly liveRows: number;
  readonly replayedRows: number;
  /** A few rows of each side, as JSON, to see what differs. */
  readonly samples: { readonly live: unknown[]; readonly replayed: unknown[] };
}

/** Compares each table of a replayed projection with the live one, row for row (EXCEPT ALL). */
export async function diffProjection<T extends string>(
  db: Kysely<unknown>,
  projection: Projection<T>,
  replayed: TableNames<T>,
): Promise<TableDiff[]> {
  const diffs: TableDiff[] = [];
  for (const table of projection.tables) {
    const live = sql.table(table);
    const scratch = sql.table(replayed[table]);
    const compared = !(projection.batchDependent ?? []).includes(table);
    const count = async (from: typeof live) =>
      Number(
        (await sql<{ n: string }>`SELECT count(*) AS n FROM ${from}`.execute(db)).rows[0]?.n ?? 0,
      );
    const except = async (a: typeof live, b: typeof live) => {
      const { rows } = await sql<{ n: string; sample: unknown[] | null }>`
        SELECT count(*) AS n, (array_agg(row_to_json(x)))[1:3] AS sample
          FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b}) AS x`.execute(db);
      return { n: Number(rows[0]?.n ?? 0), sample: rows[0]?.sample ?? [] };
    };
    const onlyLive = compared ? await except(live, scratch) : { n: 0, sample: [] };
    const onlyReplayed = compared ? await except(scratch, live) : { n: 0, sample: [] };
    diffs.push({
      table,
      compared,
      onlyLive: onlyLive.n,
      onlyReplayed: onlyReplayed.n,
      liveRows: await count(live),
      replayedRows: await count(scratch),
      samples: { live: onlyLive.sample, replayed: onlyReplayed.sample },
    });
  }
  return diffs;
}

export async function dropScratch(db: Kysely<unknown>, schema: string): Promise<void> {
  await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
}
