import { sql, type Kysely, type Transaction } from 'kysely';
import { factKey, factsOf, type Fact } from '../../domain/compliance/facts.js';
import type { WeighingEvent } from '../../domain/weighing/events.js';
import {
  evolveTicket,
  initialTicketState,
  type TicketState,
} from '../../domain/weighing/ticket.js';
import { householdCategories } from '../../domain/shared/materials.js';
import { TONNAGE_EVENT_TYPES } from '../daily-tonnage/projection.js';
import type { Projection, TableNames } from '../runner/projection.js';

type Tables =
  | 'facts_v1_history'
  | 'facts_v1_daily'
  | 'facts_v1_monthly'
  | 'facts_v1_intake_days'
  | 'facts_v1_snapshots'
  | 'facts_v1_snapshot_intake'
  | 'facts_v1_tickets';

/**
 * How often (in global positions) the monthly sums and intake days are copied aside: an as-of
 * question then starts from the last copy before its moment and reads only the history rows
 * changed between the two, at most about this many.
 */
export const SNAPSHOT_EVERY = 100_000;

const MONTH_DIMENSIONS = sql`month, district_id, site_id, flow, material, subtype, operation, dest_site_id`;

const DIMENSIONS = sql`day, district_id, site_id, flow, material, subtype, operation, dest_site_id`;

const HOUSEHOLD: ReadonlySet<string> = new Set(householdCategories);

interface HistoryRow extends Fact {
  readonly streamId: string;
  readonly validFrom: number;
  readonly k: number;
  validTo: number | null;
}

const sameFacts = (a: readonly Fact[], b: readonly Fact[]) =>
  a.length === b.length &&
  a.every((f, i) => factKey(f) === factKey(b[i] ?? f) && f.netKg === b[i]?.netKg);

/**
 * The facts compliance indicators are computed from (see domain/compliance/facts.ts), kept
 * bitemporally: `facts_v1_history` holds every version of every ticket's facts with the global
 * positions between which the ledger held it (valid_from ≤ p < valid_to), so any indicator can be
 * asked "as the ledger knew it at position p"; `facts_v1_daily` holds the current sums by every
 * dimension, which is what "now" reads. A late upload or a correction closes the ticket's rows at
 * its position and opens new ones: history is never rewritten.
 */
export function complianceFactsProjection(
  options: { snapshotEvery?: number } = {},
): Projection<Tables> {
  const snapshotEvery = options.snapshotEvery ?? SNAPSHOT_EVERY;
  return {
    name: 'compliance-facts-v1',
    batchDependent: ['facts_v1_snapshots', 'facts_v1_snapshot_intake'],
    handles: TONNAGE_EVENT_TYPES,
    tables: [
      'facts_v1_history',
      'facts_v1_daily',
      'facts_v1_monthly',
      'facts_v1_intake_days',
      'facts_v1_snapshots',
      'facts_v1_snapshot_intake',
      'facts_v1_tickets',
    ],

    async createTables(db: Kysely<unknown>, t) {
      await sql`
      CREATE TABLE IF NOT EXISTS ${sql.table(t.facts_v1_history)} (
        stream_id text NOT NULL,
        valid_from bigint NOT NULL,
        k integer NOT NULL,
        valid_to bigint,
        day text NOT NULL,
        district_id text NOT NULL,
        site_id text NOT NULL,
        flow text NOT NULL,
        material text NOT NULL,
        subtype text NOT NULL,
        operation text NOT NULL,
        dest_site_id text NOT NULL,
        net_kg bigint NOT NULL,
        PRIMARY KEY (stream_id, valid_from, k)
      )`.execute(db);
      // "What changed after position p" reads only the rows opened or closed after p.
      await sql`CREATE INDEX IF NOT EXISTS ${sql.id(`${t.facts_v1_history}_from`)}
      ON ${sql.table(t.facts_v1_history)} (valid_from)`.execute(db);
      await sql`CREATE INDEX IF NOT EXISTS ${sql.id(`${t.facts_v1_history}_to`)}
      ON ${sql.table(t.facts_v1_history)} (valid_to) WHERE valid_to IS NOT NULL`.execute(db);
      await sql`
      CREATE TABLE IF NOT EXISTS ${sql.table(t.facts_v1_daily)} (
        day text NOT NULL,
        district_id text NOT NULL,
        site_id text NOT NULL,
        flow text NOT NULL,
        material text NOT NULL,
        subtype text NOT NULL,
        operation text NOT NULL,
        dest_site_id text NOT NULL,
        net_kg bigint NOT NULL,
        tickets integer NOT NULL,
        PRIMARY KEY (day, district_id, site_id, flow, material, subtype, operation, dest_site_id)
      )`.execute(db);
      // The same sums by month: a year's report reads twelve months, not 365 days of rows.
      await sql`
      CREATE TABLE IF NOT EXISTS ${sql.table(t.facts_v1_monthly)} (
        month text NOT NULL,
        district_id text NOT NULL,
        site_id text NOT NULL,
        flow text NOT NULL,
        material text NOT NULL,
        subtype text NOT NULL,
        operation text NOT NULL,
        dest_site_id text NOT NULL,
        net_kg bigint NOT NULL,
        tickets integer NOT NULL,
        PRIMARY KEY (month, district_id, site_id, flow, material, subtype, operation, dest_site_id)
      )`.execute(db);
      // Intake per facility and day: what capacity and permits are judged on, day by day.
      await sql`
      CREATE TABLE IF NOT EXISTS ${sql.table(t.facts_v1_intake_days)} (
        day text NOT NULL,
        site_id text NOT NULL,
        district_id text NOT NULL,
        total_kg bigint NOT NULL,
        household_kg bigint NOT NULL,
        PRIMARY KEY (day, site_id)
      )`.execute(db);
      await sql`
      CREATE TABLE IF NOT EXISTS ${sql.table(t.facts_v1_snapshots)} (
        position bigint NOT NULL,
        month text NOT NULL,
        district_id text NOT NULL,
        site_id text NOT NULL,
        flow text NOT NULL,
        material text NOT NULL,
        subtype text NOT NULL,
        operation text NOT NULL,
        dest_site_id text NOT NULL,
        net_kg bigint NOT NULL,
        tickets integer NOT NULL,
        PRIMARY KEY (position, month, district_id, site_id, flow, material, subtype, operation, dest_site_id)
      )`.execute(db);
      await sql`
      CREATE TABLE IF NOT EXISTS ${sql.table(t.facts_v1_snapshot_intake)} (
        position bigint NOT NULL,
        day text NOT NULL,
        site_id text NOT NULL,
        district_id text NOT NULL,
        total_kg bigint NOT NULL,
        household_kg bigint NOT NULL,
        PRIMARY KEY (position, day, site_id)
      )`.execute(db);
      // Each ticket's state and the last position applied to it: a batch delivered again (a
      // checkpoint moved back by hand, a restored backup) skips what the ticket already has,
      // instead of folding it twice and closing history rows at the wrong positions.
      await sql`
      CREATE TABLE IF NOT EXISTS ${sql.table(t.facts_v1_tickets)} (
        stream_id text PRIMARY KEY,
        state jsonb NOT NULL,
        applied_up_to bigint NOT NULL
      )`.execute(db);
    },

    async apply(trx: Transaction<unknown>, events, t) {
      const streamIds = [...new Set(events.map((e) => e.streamId))];
      if (streamIds.length === 0) return;
      const { rows: stored } = await sql<{
        stream_id: string;
        state: TicketState;
        applied_up_to: string;
      }>`
      SELECT stream_id, state, applied_up_to FROM ${sql.table(t.facts_v1_tickets)}
       WHERE stream_id IN (${sql.join(streamIds)})`.execute(trx);
      const before = new Map(stored.map((r) => [r.stream_id, r.state]));
      const current = new Map(before);
      const appliedUpTo = new Map(stored.map((r) => [r.stream_id, Number(r.applied_up_to)]));

      // Event by event, so that a version that lived only between two events of this batch is
      // still in the history at its own positions.
      const closeInDatabase = new Map<string, number>();
      const opened = new Map<string, HistoryRow[]>();
      for (const event of events) {
        if (event.position <= (appliedUpTo.get(event.streamId) ?? 0)) continue; // delivered before
        appliedUpTo.set(event.streamId, event.position);
        const previous = current.get(event.streamId) ?? initialTicketState();
        const next = evolveTicket(previous, event as unknown as WeighingEvent);
        current.set(event.streamId, next);
        const was = factsOf(previous);
        const now = factsOf(next);
        if (sameFacts(was, now)) continue;
        const openedHere = opened.get(event.streamId) ?? [];
        const stillOpen = openedHere.filter((r) => r.validTo === null);
        for (const row of stillOpen) row.validTo = event.position;
        if (stillOpen.length === 0 && was.length > 0 && !closeInDatabase.has(event.streamId)) {
          closeInDatabase.set(event.streamId, event.position);
        }
        now.forEach((fact, k) =>
          openedHere.push({
            ...fact,
            streamId: event.streamId,
            validFrom: event.position,
            k,
            validTo: null,
          }),
        );
        opened.set(event.streamId, openedHere);
      }

      if (closeInDatabase.size > 0) {
        const closing = [...closeInDatabase].map(([s, p]) => sql`(${s}, ${p}::bigint)`);
        await sql`
        UPDATE ${sql.table(t.facts_v1_history)} AS h SET valid_to = c.position
          FROM (VALUES ${sql.join(closing)}) AS c(stream_id, position)
         WHERE h.stream_id = c.stream_id AND h.valid_to IS NULL`.execute(trx);
      }
      const rows = [...opened.values()].flat();
      for (let i = 0; i < rows.length; i += 500) {
        const values = rows
          .slice(i, i + 500)
          .map(
            (r) =>
              sql`(${r.streamId}, ${r.validFrom}::bigint, ${r.k}::integer, ${r.validTo}::bigint, ${r.day}, ${r.districtId}, ${r.siteId}, ${r.flow}, ${r.material}, ${r.subtype}, ${r.operation}, ${r.destSiteId}, ${r.netKg}::bigint)`,
          );
        await sql`
        INSERT INTO ${sql.table(t.facts_v1_history)}
          (stream_id, valid_from, k, valid_to, ${DIMENSIONS}, net_kg)
        VALUES ${sql.join(values)}
        ON CONFLICT (stream_id, valid_from, k) DO NOTHING`.execute(trx);
      }

      const states = streamIds.map(
        (id) =>
          sql`(${id}, ${JSON.stringify(current.get(id) ?? initialTicketState())}::jsonb, ${appliedUpTo.get(id) ?? 0}::bigint)`,
      );
      await sql`
      INSERT INTO ${sql.table(t.facts_v1_tickets)} AS t (stream_id, state, applied_up_to)
      VALUES ${sql.join(states)}
      ON CONFLICT (stream_id) DO UPDATE
        SET state = excluded.state, applied_up_to = excluded.applied_up_to`.execute(trx);

      // The current sums move by the batch's difference, ticket by ticket.
      const deltas = new Map<string, { fact: Fact; netKg: number; tickets: number }>();
      const move = (fact: Fact, sign: 1 | -1) => {
        const key = factKey(fact);
        const d = deltas.get(key) ?? { fact, netKg: 0, tickets: 0 };
        d.netKg += sign * fact.netKg;
        d.tickets += sign;
        deltas.set(key, d);
      };
      for (const id of streamIds) {
        for (const f of factsOf(before.get(id) ?? initialTicketState())) move(f, -1);
        for (const f of factsOf(current.get(id) ?? initialTicketState())) move(f, 1);
      }
      const changed = [...deltas.values()].filter((d) => d.netKg !== 0 || d.tickets !== 0);
      if (changed.length === 0) return;
      const values = changed.map(
        ({ fact: f, netKg, tickets }) =>
          sql`(${f.day}, ${f.districtId}, ${f.siteId}, ${f.flow}, ${f.material}, ${f.subtype}, ${f.operation}, ${f.destSiteId}, ${netKg}::bigint, ${tickets}::integer)`,
      );
      await sql`
      INSERT INTO ${sql.table(t.facts_v1_daily)} AS d (${DIMENSIONS}, net_kg, tickets)
      VALUES ${sql.join(values)}
      ON CONFLICT (${DIMENSIONS}) DO UPDATE
        SET net_kg = d.net_kg + excluded.net_kg, tickets = d.tickets + excluded.tickets`.execute(
        trx,
      );
      await applyRollUps(trx, t, changed);
      await snapshotIfDue(trx, t, events.at(-1)?.position ?? 0, snapshotEvery);
    },
  };
}

/** The projection the ledger runs. */
export const complianceFacts: Projection<Tables> = complianceFactsProjection();

/** Copies the monthly sums and intake days aside, at the batch's last position, when due. */
async function snapshotIfDue(
  trx: Transaction<unknown>,
  t: TableNames<Tables>,
  position: number,
  every: number,
): Promise<void> {
  const { rows } = await sql<{ last: string | null }>`
    SELECT max(position) AS last FROM ${sql.table(t.facts_v1_snapshots)}`.execute(trx);
  if (position - Number(rows[0]?.last ?? 0) < every) return;
  await sql`
    INSERT INTO ${sql.table(t.facts_v1_snapshots)}
    SELECT ${position}::bigint, ${MONTH_DIMENSIONS}, net_kg, tickets FROM ${sql.table(t.facts_v1_monthly)}
     WHERE net_kg <> 0 OR tickets <> 0`.execute(trx);
  await sql`
    INSERT INTO ${sql.table(t.facts_v1_snapshot_intake)}
    SELECT ${position}::bigint, day, site_id, district_id, total_kg, household_kg
      FROM ${sql.table(t.facts_v1_intake_days)} WHERE total_kg <> 0 OR household_kg <> 0`.execute(
    trx,
  );
}

/** The batch's changes to the daily sums, carried into the monthly sums and the intake days. */
async function applyRollUps(
  trx: Transaction<unknown>,
  t: TableNames<Tables>,
  changed: readonly { fact: Fact; netKg: number; tickets: number }[],
): Promise<void> {
  const monthly = new Map<string, { fact: Fact; month: string; netKg: number; tickets: number }>();
  const intakeDays = new Map<
    string,
    { day: string; siteId: string; districtId: string; total: number; household: number }
  >();
  for (const d of changed) {
    const month = d.fact.day.slice(0, 7);
    const key = `${month}|${factKey({ ...d.fact, day: '' })}`;
    const m = monthly.get(key) ?? { fact: d.fact, month, netKg: 0, tickets: 0 };
    m.netKg += d.netKg;
    m.tickets += d.tickets;
    monthly.set(key, m);
    if (d.fact.flow === 'treatment_intake') {
      const dayKey = `${d.fact.day}|${d.fact.siteId}`;
      const i = intakeDays.get(dayKey) ?? {
        day: d.fact.day,
        siteId: d.fact.siteId,
        districtId: d.fact.districtId,
        total: 0,
        household: 0,
      };
      i.total += d.netKg;
      if (HOUSEHOLD.has(d.fact.material)) i.household += d.netKg;
      intakeDays.set(dayKey, i);
    }
  }
  const monthValues = [...monthly.values()].map(
    ({ fact: f, month, netKg, tickets }) =>
      sql`(${month}, ${f.districtId}, ${f.siteId}, ${f.flow}, ${f.material}, ${f.subtype}, ${f.operation}, ${f.destSiteId}, ${netKg}::bigint, ${tickets}::integer)`,
  );
  await sql`
    INSERT INTO ${sql.table(t.facts_v1_monthly)} AS d (${MONTH_DIMENSIONS}, net_kg, tickets)
    VALUES ${sql.join(monthValues)}
    ON CONFLICT (${MONTH_DIMENSIONS}) DO UPDATE
      SET net_kg = d.net_kg + excluded.net_kg, tickets = d.tickets + excluded.tickets`.execute(trx);
  if (intakeDays.size === 0) return;
  const dayValues = [...intakeDays.values()].map(
    (i) =>
      sql`(${i.day}, ${i.siteId}, ${i.districtId}, ${i.total}::bigint, ${i.household}::bigint)`,
  );
  await sql`
    INSERT INTO ${sql.table(t.facts_v1_intake_days)} AS d
      (day, site_id, district_id, total_kg, household_kg)
    VALUES ${sql.join(dayValues)}
    ON CONFLICT (day, site_id) DO UPDATE
      SET total_kg = d.total_kg + excluded.total_kg,
          household_kg = d.household_kg + excluded.household_kg`.execute(trx);
}
