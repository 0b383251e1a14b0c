import { sql, type Kysely } from 'kysely';
import type { Projection, TableNames } from '../../src/projections/runner/projection.js';
import type { RecordedEvent } from '../../src/store/port.js';

/**
 * A tiny real projection for the runner's tests: per `data.key`, the sum of `data.kg` and the
 * number of events, over the events of one type. Written with kysely against the physical table
 * names the runner passes in, so it works for the live tables and for a rebuild's fresh ones.
 */

export const WEIGHED = 'Weighed';

export interface WeightsTable {
  key: string;
  kg: number;
  events: number;
}

/** One line of the read model (and of `fold`), as plain numbers. */
export interface Total {
  readonly key: string;
  readonly kg: number;
  readonly events: number;
}

export interface WeightsProjectionOptions<T extends string> {
  /** Logical (= live physical) table name; also the projection's name unless `name` is given. */
  readonly table: T;
  readonly name?: string;
  /** The event type summed; `Weighed` unless given (tests sharing one log give each its own). */
  readonly type?: string;
}

/** The fields the projection reads, or undefined for an event it skips (as a fact, not an error). */
export function decodeWeighed(
  event: Pick<RecordedEvent, 'type' | 'data'>,
  type: string = WEIGHED,
): { key: string; kg: number } | undefined {
  if (event.type !== type) return undefined;
  const { key, kg } = event.data;
  if (typeof key !== 'string' || key.length === 0) return undefined;
  if (typeof kg !== 'number' || !Number.isSafeInteger(kg) || kg <= 0) return undefined;
  return { key, kg };
}

function compareKeys(a: Total, b: Total): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** The totals the read model must hold after applying `events` (in any order), sorted by key. */
export function fold(
  events: readonly Pick<RecordedEvent, 'type' | 'data'>[],
  type: string = WEIGHED,
): Total[] {
  const sums = new Map<string, { kg: number; events: number }>();
  for (const event of events) {
    const decoded = decodeWeighed(event, type);
    if (decoded === undefined) continue;
    const sum = sums.get(decoded.key) ?? { kg: 0, events: 0 };
    sums.set(decoded.key, { kg: sum.kg + decoded.kg, events: sum.events + 1 });
  }
  return [...sums].map(([key, sum]) => ({ key, ...sum })).sort(compareKeys);
}

/** The table typed under one fixed name; queries pass the physical name cast to it. */
interface WeightsDatabase {
  weights: WeightsTable;
}

export function weightsProjection<T extends string>(
  options: WeightsProjectionOptions<T>,
): Projection<T> {
  const { table } = options;
  const type = options.type ?? WEIGHED;
  return {
    name: options.name ?? table,
    handles: [type],
    tables: [table],

    async createTables(db: Kysely<unknown>, tables: TableNames<T>): Promise<void> {
      const physical = tables[table];
      await db.schema
        .createTable(physical)
        .ifNotExists()
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('kg', 'bigint', (c) => c.notNull())
        .addColumn('events', 'integer', (c) => c.notNull())
        .execute();
      // A named index too, so that a rebuild's swap has one to rename.
      await db.schema
        .createIndex(`${physical}_kg_idx`)
        .ifNotExists()
        .on(physical)
        .column('kg')
        .execute();
    },

    async apply(trx, events, tables): Promise<void> {
      // Sum the batch first: one INSERT … ON CONFLICT may not touch a row twice.
      const sums = new Map<string, { kg: number; events: number }>();
      for (const event of events) {
        const decoded = decodeWeighed(event, type);
        if (decoded === undefined) continue;
        const sum = sums.get(decoded.key) ?? { kg: 0, events: 0 };
        sums.set(decoded.key, { kg: sum.kg + decoded.kg, events: sum.events + 1 });
      }
      if (sums.size === 0) return;
      const physical = tables[table];
      // The runner applies each event exactly once, so adding to what is there is right.
      await (trx as unknown as Kysely<WeightsDatabase>)
        .insertInto(physical as 'weights')
        .values([...sums].map(([key, sum]) => ({ key, ...sum })))
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            kg: sql<number>`${sql.ref(`${physical}.kg`)} + excluded.kg`,
            events: sql<number>`${sql.ref(`${physical}.events`)} + excluded.events`,
          }),
        )
        .execute();
    },
  };
}

/** What a physical weights table holds, sorted by key like `fold`. */
export async function readTotals(db: Kysely<unknown>, physical: string): Promise<Total[]> {
  const rows = await (db as unknown as Kysely<WeightsDatabase>)
    .selectFrom(physical as 'weights')
    .select(['key', 'kg', 'events'])
    .execute();
  return rows
    .map((r) => ({ key: r.key, kg: Number(r.kg), events: Number(r.events) }))
    .sort(compareKeys);
}

/** Writes a row behind the projection's back (to simulate a read model gone wrong). */
export async function writeRow(db: Kysely<unknown>, physical: string, row: Total): Promise<void> {
  await (db as unknown as Kysely<WeightsDatabase>)
    .insertInto(physical as 'weights')
    .values({ ...row })
    .execute();
}
