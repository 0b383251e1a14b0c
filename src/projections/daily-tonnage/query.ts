import { sql, type Kysely } from 'kysely';
import { tonnesForDisplay } from '../../domain/shared/kilograms.js';
import { dailyTonnage } from './projection.js';

/** Dimensions a tonnage query may group by. */
export const tonnageDimensions = [
  'day',
  'district',
  'site',
  'material',
  'flow',
  'operation',
] as const;
export type TonnageDimension = (typeof tonnageDimensions)[number];

const column: Record<TonnageDimension, string> = {
  day: 'day',
  district: 'district_id',
  site: 'site_id',
  material: 'material',
  flow: 'flow',
  operation: 'operation',
};

export interface TonnageQuery {
  /** Business days, inclusive, YYYY-MM-DD. */
  readonly from: string;
  readonly to: string;
  readonly groupBy: readonly TonnageDimension[];
  readonly districtId?: string | undefined;
  readonly siteId?: string | undefined;
  readonly material?: string | undefined;
  readonly flow?: string | undefined;
}

export interface TonnageRow {
  readonly day?: string;
  readonly district?: string;
  readonly site?: string;
  readonly material?: string;
  readonly flow?: string;
  readonly operation?: string;
  /** Exact, integer kilograms. */
  readonly netKg: number;
  /** netKg / 1000 with three decimals, for display. */
  readonly tonnes: string;
  readonly tickets: number;
}

export async function queryTonnage(
  db: Kysely<unknown>,
  q: TonnageQuery,
): Promise<{ rows: TonnageRow[]; totalKg: number; totalTonnes: string; checkpoint: number }> {
  const dims = [...new Set(q.groupBy)];
  const selected = dims.map((d) => sql`${sql.ref(column[d])} AS ${sql.id(d)}`);
  const filters = [sql`day >= ${q.from}`, sql`day <= ${q.to}`];
  if (q.districtId !== undefined) filters.push(sql`district_id = ${q.districtId}`);
  if (q.siteId !== undefined) filters.push(sql`site_id = ${q.siteId}`);
  if (q.material !== undefined) filters.push(sql`material = ${q.material}`);
  if (q.flow !== undefined) filters.push(sql`flow = ${q.flow}`);
  const grouping = dims.map((d) => sql.ref(column[d]));
  // City-wide questions read the per-day roll-up; district or site ones the detailed table.
  const detailed =
    dims.includes('district') ||
    dims.includes('site') ||
    q.districtId !== undefined ||
    q.siteId !== undefined;
  const table = detailed ? 'tonnage_v2_by_site' : 'tonnage_v2_by_day';
  // The projection's checkpoint comes in the same statement, after the groups: one snapshot,
  // and one round trip per query.
  const { rows: all } = await sql<Record<string, string | number | null>>`
    SELECT g.*, NULL AS checkpoint FROM (
      SELECT ${sql.join([...selected, sql`sum(net_kg) AS net_kg`, sql`sum(tickets) AS tickets`])}
        FROM ${sql.table(table)}
       WHERE ${sql.join(filters, sql` AND `)}
       ${grouping.length > 0 ? sql`GROUP BY ${sql.join(grouping)} ORDER BY ${sql.join(grouping)}` : sql``}
    ) AS g
    UNION ALL
    SELECT ${sql.join([...dims.map(() => sql`NULL`), sql`NULL`, sql`NULL`])},
           (SELECT position FROM projection_checkpoints WHERE name = ${dailyTonnage.name})`.execute(
    db,
  );
  const marker = all.at(-1);
  const rows = all.slice(0, -1) as Record<string, string | number>[];
  let totalKg = 0;
  const result = rows
    // A group whose tickets were all voided or corrected away keeps a 0 kg, 0 ticket row in the
    // table (or not, depending on how the log was batched): it counts nothing, so it is not shown.
    .filter((r) => r.net_kg !== null && (Number(r.net_kg) !== 0 || Number(r.tickets) !== 0))
    .map((r) => {
      const netKg = Number(r.net_kg);
      totalKg += netKg;
      const row: Record<string, string | number> = {};
      for (const d of dims) row[d] = String(r[d]);
      return {
        ...row,
        netKg,
        tonnes: tonnesForDisplay(netKg),
        tickets: Number(r.tickets),
      };
    });
  return {
    rows: result,
    totalKg,
    totalTonnes: tonnesForDisplay(totalKg),
    checkpoint: Number(marker?.checkpoint ?? 0),
  };
}
