import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { FactFlow, FactSum } from '../../domain/compliance/facts.js';
import type { IntakeDay } from '../../domain/compliance/indicators.js';
import { householdCategories } from '../../domain/shared/materials.js';
import { complianceFacts } from './projection.js';

export interface FactFilter {
  /** Business days, inclusive. */
  readonly from: string;
  readonly to: string;
  readonly districtId?: string | undefined;
}

export interface FactSums {
  readonly sums: FactSum[];
  /** The projection's checkpoint when the sums were read (one snapshot with them). */
  readonly checkpoint: number;
}

interface SumRow {
  day: string;
  district_id: string;
  site_id: string;
  flow: FactFlow;
  material: string;
  subtype: string;
  operation: string;
  dest_site_id: string;
  net_kg: string | number;
  tickets: string | number;
  checkpoint: string | number | null;
}

// The live tables carry the logical names (a rebuild swaps its tables in under them).
const HISTORY = 'facts_v1_history' satisfies (typeof complianceFacts.tables)[number];
const DAILY = 'facts_v1_daily' satisfies (typeof complianceFacts.tables)[number];

const DIMENSIONS = sql`day, district_id, site_id, flow, material, subtype, operation, dest_site_id`;

function where(filter: FactFilter): RawBuilder<unknown> {
  const parts = [sql`day >= ${filter.from}`, sql`day <= ${filter.to}`];
  if (filter.districtId !== undefined) parts.push(sql`district_id = ${filter.districtId}`);
  return sql.join(parts, sql` AND `);
}

function toSums(rows: readonly SumRow[]): FactSum[] {
  return rows
    .filter((r) => Number(r.net_kg) !== 0 || Number(r.tickets) !== 0)
    .map((r) => ({
      day: r.day,
      districtId: r.district_id,
      siteId: r.site_id,
      flow: r.flow,
      material: r.material,
      subtype: r.subtype,
      operation: r.operation,
      destSiteId: r.dest_site_id,
      netKg: Number(r.net_kg),
      tickets: Number(r.tickets),
    }));
}

/**
 * The facts' sums by every dimension, now (at the projection's checkpoint) or as the ledger knew
 * them at global position `asOf` (≤ the checkpoint): the current sums, plus the rows retired
 * after `asOf`, minus the rows opened after it. One statement, so one snapshot: the sums and the
 * checkpoint they belong to cannot come from two moments.
 */
export async function factSums(
  db: Kysely<unknown>,
  filter: FactFilter,
  asOf?: number,
): Promise<FactSums> {
  const daily = sql.table(DAILY);
  const history = sql.table(HISTORY);
  const checkpoint = sql`(SELECT position FROM projection_checkpoints WHERE name = ${complianceFacts.name})`;
  const body =
    asOf === undefined
      ? sql`SELECT ${DIMENSIONS}, net_kg, tickets FROM ${daily} WHERE ${where(filter)}`
      : sql`
        SELECT ${DIMENSIONS}, sum(net_kg) AS net_kg, sum(tickets) AS tickets FROM (
          SELECT ${DIMENSIONS}, net_kg, tickets FROM ${daily} WHERE ${where(filter)}
          UNION ALL
          SELECT ${DIMENSIONS}, net_kg, 1 FROM ${history}
           WHERE valid_to > ${asOf} AND valid_from <= ${asOf} AND ${where(filter)}
          UNION ALL
          SELECT ${DIMENSIONS}, -net_kg, -1 FROM ${history}
           WHERE valid_from > ${asOf} AND valid_to IS NULL AND ${where(filter)}
        ) AS versions GROUP BY ${DIMENSIONS}`;
  const { rows } = await sql<SumRow>`
    SELECT s.*, ${checkpoint} AS checkpoint FROM (${body}) AS s
    UNION ALL
    SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, ${checkpoint}`.execute(db);
  const marker = rows.at(-1);
  return {
    sums: toSums(rows.slice(0, -1)),
    checkpoint: Number(marker?.checkpoint ?? 0),
  };
}

/** One ticket whose facts in the period differ between two moments: which, and by how much. */
export interface TicketChange {
  readonly streamId: string;
  readonly day: string;
  readonly siteId: string;
  readonly flow: FactFlow;
  readonly material: string;
  /** kg the ticket counted in this flow as of the earlier moment, and now. */
  readonly asOfKg: number;
  readonly nowKg: number;
  /** The first position after the earlier moment at which the ticket changed. */
  readonly changedAt: number;
}

/**
 * Why a figure differs between position `asOf` and now: every ticket whose rows were opened or
 * closed after `asOf` (late uploads, corrections, voids), with its kg then and now.
 */
export async function changesSince(
  db: Kysely<unknown>,
  filter: FactFilter,
  asOf: number,
  limit = 1000,
): Promise<TicketChange[]> {
  const history = sql.table(HISTORY);
  const { rows } = await sql<{
    stream_id: string;
    day: string;
    site_id: string;
    flow: FactFlow;
    material: string;
    as_of_kg: string;
    now_kg: string;
    changed_at: string;
  }>`
    SELECT stream_id, day, site_id, flow, material,
           sum(CASE WHEN valid_from <= ${asOf} THEN net_kg ELSE 0 END) AS as_of_kg,
           sum(CASE WHEN valid_to IS NULL THEN net_kg ELSE 0 END) AS now_kg,
           min(CASE WHEN valid_from > ${asOf} THEN valid_from ELSE valid_to END) AS changed_at
      FROM ${history}
     WHERE ((valid_to > ${asOf} AND valid_from <= ${asOf}) OR valid_from > ${asOf})
       AND ${where(filter)}
     GROUP BY stream_id, day, site_id, flow, material
    HAVING sum(CASE WHEN valid_from <= ${asOf} THEN net_kg ELSE 0 END)
        <> sum(CASE WHEN valid_to IS NULL THEN net_kg ELSE 0 END)
     ORDER BY changed_at, stream_id, flow, material
     LIMIT ${limit}`.execute(db);
  return rows.map((r) => ({
    streamId: r.stream_id,
    day: r.day,
    siteId: r.site_id,
    flow: r.flow,
    material: r.material,
    asOfKg: Number(r.as_of_kg),
    nowKg: Number(r.now_kg),
    changedAt: Number(r.changed_at),
  }));
}

/** Sums for a whole period (day ''), and intake per facility and day, with their checkpoint. */
export interface PeriodSums extends FactSums {
  readonly intakeDays: IntakeDay[];
}

const MONTHLY = 'facts_v1_monthly' satisfies (typeof complianceFacts.tables)[number];
const INTAKE_DAYS = 'facts_v1_intake_days' satisfies (typeof complianceFacts.tables)[number];
const SNAPSHOTS = 'facts_v1_snapshots' satisfies (typeof complianceFacts.tables)[number];
const SNAPSHOT_INTAKE =
  'facts_v1_snapshot_intake' satisfies (typeof complianceFacts.tables)[number];
const PERIOD_DIMENSIONS = sql`district_id, site_id, flow, material, subtype, operation, dest_site_id`;

const lastDayOfMonth = (month: string): string => {
  const [year = 0, m = 1] = month.split('-').map(Number);
  return new Date(Date.UTC(year, m, 0)).toISOString().slice(0, 10);
};
const nextMonth = (month: string): string => {
  const [year = 0, m = 1] = month.split('-').map(Number);
  return new Date(Date.UTC(year, m, 1)).toISOString().slice(0, 7);
};
const previousMonth = (month: string): string => {
  const [year = 0, m = 1] = month.split('-').map(Number);
  return new Date(Date.UTC(year, m - 2, 1)).toISOString().slice(0, 7);
};

/**
 * The whole months inside [from, to], and the days outside them: a year is read as twelve
 * monthly rows per dimension instead of 365 daily ones.
 */
export function splitPeriod(
  from: string,
  to: string,
): { months?: { first: string; last: string }; days: { from: string; to: string }[] } {
  const firstMonth = from.endsWith('-01') ? from.slice(0, 7) : nextMonth(from.slice(0, 7));
  const lastMonth =
    to === lastDayOfMonth(to.slice(0, 7)) ? to.slice(0, 7) : previousMonth(to.slice(0, 7));
  if (firstMonth > lastMonth) return { days: [{ from, to }] };
  const days: { from: string; to: string }[] = [];
  const monthsFrom = `${firstMonth}-01`;
  const monthsTo = lastDayOfMonth(lastMonth);
  if (from < monthsFrom) days.push({ from, to: previousDay(monthsFrom) });
  if (monthsTo < to) days.push({ from: nextDay(monthsTo), to });
  return { months: { first: firstMonth, last: lastMonth }, days };
}

const shiftDay = (day: string, by: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + by * 86_400_000).toISOString().slice(0, 10);
const previousDay = (day: string) => shiftDay(day, -1);
const nextDay = (day: string) => shiftDay(day, 1);

/**
 * What a report reads: the period's sums by every dimension but the day (summed in the
 * database from the monthly table and the days at the edges), and intake per facility and day.
 *
 * As of a position P, it starts from the last snapshot S ≤ P (the monthly sums and intake days
 * copied at S) and adds the history rows opened in (S, P] and still held at P, and takes out
 * those held at S and closed in (S, P]: the work is bounded by the snapshot interval, not by
 * the log. Days at the edges of a period not made of whole months are read from the daily sums
 * and the history changed since P, as `factSums` does. Everything runs in one repeatable-read
 * transaction: one snapshot of the database.
 */
export async function periodSums(
  db: Kysely<unknown>,
  filter: FactFilter,
  asOf?: number,
): Promise<PeriodSums> {
  const { months, days } = splitPeriod(filter.from, filter.to);
  const district =
    filter.districtId === undefined ? sql`TRUE` : sql`district_id = ${filter.districtId}`;
  const dayIn = (from: string, to: string) => sql`day >= ${from} AND day <= ${to}`;
  const household = sql.join(householdCategories.map((c) => sql`${c}`));

  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const { rows: marker } = await sql<{ position: string }>`
        SELECT position FROM projection_checkpoints WHERE name = ${complianceFacts.name}`.execute(
        trx,
      );
      const checkpoint = Number(marker[0]?.position ?? 0);
      let snapshot = 0;
      if (asOf !== undefined) {
        const { rows } = await sql<{ s: string | null }>`
          SELECT max(position) AS s FROM ${sql.table(SNAPSHOTS)} WHERE position <= ${asOf}`.execute(
          trx,
        );
        snapshot = Number(rows[0]?.s ?? 0);
      }
      // Rows held at P that were opened after S (+), and rows held at S closed by P (−).
      const sinceSnapshot = (p: number) => sql`
        SELECT ${PERIOD_DIMENSIONS}, day, net_kg, 1 AS tickets FROM ${sql.table(HISTORY)}
         WHERE valid_from > ${snapshot} AND valid_from <= ${p} AND (valid_to IS NULL OR valid_to > ${p})
        UNION ALL
        SELECT ${PERIOD_DIMENSIONS}, day, -net_kg, -1 FROM ${sql.table(HISTORY)}
         WHERE valid_to > ${snapshot} AND valid_to <= ${p} AND valid_from <= ${snapshot}`;

      const parts: RawBuilder<unknown>[] = [];
      if (months !== undefined) {
        const monthsFrom = `${months.first}-01`;
        const monthsTo = lastDayOfMonth(months.last);
        if (asOf === undefined) {
          parts.push(sql`
            SELECT ${PERIOD_DIMENSIONS}, net_kg, tickets FROM ${sql.table(MONTHLY)}
             WHERE month >= ${months.first} AND month <= ${months.last} AND ${district}`);
        } else {
          parts.push(sql`
            SELECT ${PERIOD_DIMENSIONS}, net_kg, tickets FROM ${sql.table(SNAPSHOTS)}
             WHERE position = ${snapshot} AND month >= ${months.first} AND month <= ${months.last}
               AND ${district}`);
          parts.push(sql`
            SELECT ${PERIOD_DIMENSIONS}, net_kg, tickets FROM (${sinceSnapshot(asOf)}) AS changed
             WHERE ${dayIn(monthsFrom, monthsTo)} AND ${district}`);
        }
      }
      for (const range of days) {
        parts.push(sql`
          SELECT ${PERIOD_DIMENSIONS}, net_kg, tickets FROM ${sql.table(DAILY)}
           WHERE ${dayIn(range.from, range.to)} AND ${district}`);
        if (asOf !== undefined) {
          parts.push(sql`
            SELECT ${PERIOD_DIMENSIONS}, s * net_kg, s FROM (
              SELECT *, CASE WHEN valid_from <= ${asOf} THEN 1 ELSE -1 END AS s
                FROM ${sql.table(HISTORY)}
               WHERE ((valid_to > ${asOf} AND valid_from <= ${asOf}) OR (valid_from > ${asOf} AND valid_to IS NULL))
                 AND ${dayIn(range.from, range.to)} AND ${district}
            ) AS changed`);
        }
      }
      const { rows } = await sql<Omit<SumRow, 'day' | 'checkpoint'>>`
        SELECT ${PERIOD_DIMENSIONS}, sum(net_kg) AS net_kg, sum(tickets) AS tickets
          FROM (${sql.join(parts, sql` UNION ALL `)}) AS parts
         GROUP BY ${PERIOD_DIMENSIONS}`.execute(trx);

      const intakeSource =
        asOf === undefined
          ? sql`
            SELECT day, site_id, total_kg, household_kg FROM ${sql.table(INTAKE_DAYS)}
             WHERE ${dayIn(filter.from, filter.to)} AND ${district}`
          : sql`
            SELECT day, site_id, total_kg, household_kg FROM ${sql.table(SNAPSHOT_INTAKE)}
             WHERE position = ${snapshot} AND ${dayIn(filter.from, filter.to)} AND ${district}
            UNION ALL
            SELECT day, site_id, net_kg,
                   CASE WHEN material IN (${household}) THEN net_kg ELSE 0 END
              FROM (${sinceSnapshot(asOf)}) AS changed
             WHERE flow = 'treatment_intake' AND ${dayIn(filter.from, filter.to)} AND ${district}`;
      const { rows: intake } = await sql<{
        day: string;
        site_id: string;
        total_kg: string;
        household_kg: string;
      }>`
        SELECT day, site_id, sum(total_kg) AS total_kg, sum(household_kg) AS household_kg
          FROM (${intakeSource}) AS intake GROUP BY day, site_id`.execute(trx);
      return {
        sums: toSums(rows.map((r) => ({ ...r, day: '', checkpoint: null }))),
        intakeDays: intake
          .map((r) => ({
            day: r.day,
            siteId: r.site_id,
            totalKg: Number(r.total_kg),
            householdKg: Number(r.household_kg),
          }))
          .filter((d) => d.totalKg !== 0 || d.householdKg !== 0),
        checkpoint,
      };
    });
}
