import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { FactFlow, FactSum } from '../../domain/compliance/facts.js';
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
     ORDER BY changed_at, stream_id, flow
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
