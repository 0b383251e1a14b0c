import { sql, type Kysely, type Transaction } from 'kysely';
import type { Projection } from '../runner/projection.js';
import { applyTicketEvents, createTicketStateTable } from '../ticket-states/ticket-states.js';
import { contributionKey, contributionsOf, type Contribution } from './contributions.js';

/** The ticket events that change tonnage; findings and gate events do not. */
export const TONNAGE_EVENT_TYPES = [
  'VehicleWeighedIn',
  'VehicleWeighedOut',
  'VehicleWeighedOnePass',
  'LoadRejected',
  'TicketCorrected',
  'TicketVoided',
] as const;

type Tables = 'tonnage_v2_by_site' | 'tonnage_v2_by_day' | 'tonnage_v2_tickets';

interface Delta {
  row: Omit<Contribution, 'netKg'>;
  netKg: number;
  tickets: number;
}

/**
 * Net kg by business day, district, site, material, flow and operation, and the same rolled
 * up by day (without district and site) for city-wide queries. The name and tables carry a
 * version: a change of shape starts a new projection, rebuilt from the log, instead of mixing
 * with rows of the old one. Each ticket's current
 * state is kept (`tonnage_tickets`), so a late upload, a correction or a void moves exactly its
 * own kilograms, on the day it belongs to: the batch's delta is new contributions minus old.
 */
export const dailyTonnage: Projection<Tables> = {
  name: 'daily-tonnage-v2',
  handles: TONNAGE_EVENT_TYPES,
  tables: ['tonnage_v2_by_site', 'tonnage_v2_by_day', 'tonnage_v2_tickets'],

  async createTables(db: Kysely<unknown>, t) {
    await sql`
      CREATE TABLE IF NOT EXISTS ${sql.table(t.tonnage_v2_by_site)} (
        day text NOT NULL,
        district_id text NOT NULL,
        site_id text NOT NULL,
        material text NOT NULL,
        flow text NOT NULL,
        operation text NOT NULL,
        net_kg bigint NOT NULL,
        tickets integer NOT NULL,
        PRIMARY KEY (day, district_id, site_id, material, flow, operation)
      )`.execute(db);
    // The same figures without district and site: what city-wide queries read (a few rows
    // per day instead of one per site and district).
    await sql`
      CREATE TABLE IF NOT EXISTS ${sql.table(t.tonnage_v2_by_day)} (
        day text NOT NULL,
        material text NOT NULL,
        flow text NOT NULL,
        operation text NOT NULL,
        net_kg bigint NOT NULL,
        tickets integer NOT NULL,
        PRIMARY KEY (day, material, flow, operation)
      )`.execute(db);
    await createTicketStateTable(db, t.tonnage_v2_tickets);
  },

  async apply(trx: Transaction<unknown>, events, t) {
    const changes = await applyTicketEvents(trx, t.tonnage_v2_tickets, events);
    const deltas = new Map<string, Delta>();
    const add = (c: Contribution, sign: 1 | -1) => {
      const key = contributionKey(c);
      const { netKg, ...row } = c;
      const d = deltas.get(key) ?? { row, netKg: 0, tickets: 0 };
      d.netKg += sign * netKg;
      d.tickets += sign;
      deltas.set(key, d);
    };
    for (const { before, after } of changes) {
      for (const c of contributionsOf(before)) add(c, -1);
      for (const c of contributionsOf(after)) add(c, 1);
    }

    const changed = [...deltas.values()].filter((d) => d.netKg !== 0 || d.tickets !== 0);
    if (changed.length === 0) return;
    const values = changed.map(
      ({ row, netKg, tickets }) =>
        sql`(${row.day}, ${row.districtId}, ${row.siteId}, ${row.material}, ${row.flow}, ${row.operation}, ${netKg}::bigint, ${tickets}::integer)`,
    );
    await sql`
      INSERT INTO ${sql.table(t.tonnage_v2_by_site)} AS d
        (day, district_id, site_id, material, flow, operation, net_kg, tickets)
      VALUES ${sql.join(values)}
      ON CONFLICT (day, district_id, site_id, material, flow, operation) DO UPDATE
        SET net_kg = d.net_kg + excluded.net_kg, tickets = d.tickets + excluded.tickets`.execute(
      trx,
    );

    const byDay = new Map<string, { row: Delta['row']; netKg: number; tickets: number }>();
    for (const d of changed) {
      const key = [d.row.day, d.row.material, d.row.flow, d.row.operation].join('|');
      const sum = byDay.get(key) ?? { row: d.row, netKg: 0, tickets: 0 };
      sum.netKg += d.netKg;
      sum.tickets += d.tickets;
      byDay.set(key, sum);
    }
    const dayValues = [...byDay.values()].map(
      ({ row, netKg, tickets }) =>
        sql`(${row.day}, ${row.material}, ${row.flow}, ${row.operation}, ${netKg}::bigint, ${tickets}::integer)`,
    );
    await sql`
      INSERT INTO ${sql.table(t.tonnage_v2_by_day)} AS d (day, material, flow, operation, net_kg, tickets)
      VALUES ${sql.join(dayValues)}
      ON CONFLICT (day, material, flow, operation) DO UPDATE
        SET net_kg = d.net_kg + excluded.net_kg, tickets = d.tickets + excluded.tickets`.execute(
      trx,
    );
  },
};
