import { sql, type Kysely } from 'kysely';
import type { Projection } from '../../src/projections/runner/projection.js';
import type { RecordedEvent } from '../../src/store/port.js';
import { businessDay, TICKET_EVENT_TYPES } from './tickets.js';

export interface DayCategoryTotal {
  readonly netKg: number;
  readonly events: number;
}

/** Folds events into totals per `day|category` (pure; also the check for the projection). */
export function foldNetKg(
  events: Iterable<RecordedEvent>,
  into = new Map<string, DayCategoryTotal>(),
): Map<string, DayCategoryTotal> {
  for (const event of events) {
    const { category, weighedInAt, netKg } = event.data;
    if (typeof category !== 'string' || typeof weighedInAt !== 'string') continue;
    const key = `${businessDay(weighedInAt)}|${category}`;
    const total = into.get(key) ?? { netKg: 0, events: 0 };
    const kg = event.type === 'VehicleWeighedOut' && typeof netKg === 'number' ? netKg : 0;
    into.set(key, { netKg: total.netKg + kg, events: total.events + 1 });
  }
  return into;
}

/**
 * The benchmark's projection: net kg and event count by (business day, category). It reads every
 * event type of a ticket, so catch-up measures the whole log, not a filtered slice of it.
 */
export const netKgByDayCategory: Projection<'bench_net_kg'> = {
  name: 'bench-net-kg-by-day-category',
  handles: TICKET_EVENT_TYPES,
  tables: ['bench_net_kg'],
  async createTables(db: Kysely<unknown>, tables) {
    await sql`
      CREATE TABLE IF NOT EXISTS ${sql.table(tables.bench_net_kg)} (
        day date NOT NULL,
        category text NOT NULL,
        net_kg bigint NOT NULL,
        events bigint NOT NULL,
        PRIMARY KEY (day, category)
      )`.execute(db);
  },
  async apply(trx, events, tables) {
    const totals = foldNetKg(events);
    if (totals.size === 0) return;
    // One statement per batch: the batch is folded in memory first.
    const rows = [...totals].map(([key, t]) => {
      const [day, category] = key.split('|');
      return sql`(${day}::date, ${category}, ${t.netKg}::bigint, ${t.events}::bigint)`;
    });
    const table = sql.table(tables.bench_net_kg);
    await sql`
      INSERT INTO ${table} AS t (day, category, net_kg, events) VALUES ${sql.join(rows)}
      ON CONFLICT (day, category) DO UPDATE
        SET net_kg = t.net_kg + excluded.net_kg, events = t.events + excluded.events`.execute(trx);
  },
};
