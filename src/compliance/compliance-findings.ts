import { sql, type Kysely } from 'kysely';
import { householdCategories } from '../domain/shared/materials.js';
import type { MasterData } from '../ingestion/master-data.js';
import { addDays } from './calendar.js';

/** Findings judged on the compliance facts (sums by site and day) against master data. */
export const complianceFindingKinds = [
  'over_capacity',
  'raw_landfill',
  'hazardous_not_forwarded',
] as const;
export type ComplianceFindingKind = (typeof complianceFindingKinds)[number];

/** Hazardous waste must reach a licensed hazardous-waste facility within this many days. */
export const HAZARDOUS_FORWARD_DAYS = 3;

export interface ComplianceFinding {
  readonly kind: ComplianceFindingKind;
  readonly siteId: string;
  readonly districtId: string;
  readonly day: string;
  readonly details: Record<string, unknown>;
}

export interface ComplianceFindingsQuery {
  readonly from: string;
  readonly to: string;
  readonly kinds: readonly ComplianceFindingKind[];
  readonly siteId?: string | undefined;
  readonly districtId?: string | undefined;
  /** Business day of the ledger's clock: a hazardous load is late only once its days are over. */
  readonly today: string;
}

const HOUSEHOLD = sql.join(householdCategories.map((c) => sql`${c}`));

/**
 * - over_capacity: a facility's intake on a day above its rated capacity (master data);
 * - raw_landfill: raw household waste (not ash or other residues) entering a landfill;
 * - hazardous_not_forwarded: hazardous household waste collected at a site that is not a
 *   licensed hazardous-waste facility, more than the site dispatched to such facilities within
 *   3 days (judged on the outbound weighings; a dispatch received short is a short_transfer).
 */
export async function queryComplianceFindings(
  db: Kysely<unknown>,
  masterData: MasterData,
  q: ComplianceFindingsQuery,
): Promise<ComplianceFinding[]> {
  const filters = (dayColumn = 'day') =>
    sql.join(
      [
        sql`${sql.ref(dayColumn)} >= ${q.from}`,
        sql`${sql.ref(dayColumn)} <= ${q.to}`,
        ...(q.siteId === undefined ? [] : [sql`site_id = ${q.siteId}`]),
        ...(q.districtId === undefined ? [] : [sql`district_id = ${q.districtId}`]),
      ],
      sql` AND `,
    );
  const out: ComplianceFinding[] = [];

  if (q.kinds.includes('over_capacity')) {
    const { rows } = await sql<{
      day: string;
      site_id: string;
      district_id: string;
      total_kg: string;
    }>`
      SELECT day, site_id, district_id, total_kg FROM facts_v1_intake_days
       WHERE ${filters()} ORDER BY day, site_id`.execute(db);
    const sites = await masterData.sites(rows.map((r) => r.site_id));
    for (const r of rows) {
      const capacity = sites.get(r.site_id)?.capacityKgPerDay;
      const intakeKg = Number(r.total_kg);
      if (capacity === undefined || intakeKg <= capacity) continue;
      out.push({
        kind: 'over_capacity',
        siteId: r.site_id,
        districtId: r.district_id,
        day: r.day,
        details: { intakeKg, capacityKgPerDay: capacity, overKg: intakeKg - capacity },
      });
    }
  }

  if (q.kinds.includes('raw_landfill')) {
    const { rows } = await sql<{ day: string; site_id: string; district_id: string; kg: string }>`
      SELECT day, site_id, district_id, sum(net_kg) AS kg FROM facts_v1_daily
       WHERE flow = 'treatment_intake' AND operation = 'sanitary_landfill'
         AND material IN (${HOUSEHOLD}) AND ${filters()}
       GROUP BY day, site_id, district_id HAVING sum(net_kg) <> 0
       ORDER BY day, site_id`.execute(db);
    for (const r of rows) {
      out.push({
        kind: 'raw_landfill',
        siteId: r.site_id,
        districtId: r.district_id,
        day: r.day,
        details: { rawHouseholdKg: Number(r.kg) },
      });
    }
  }

  if (q.kinds.includes('hazardous_not_forwarded')) {
    // Days whose deadline has passed, plus the dispatches that could still answer for them. The
    // matching runs over each site's whole history (hazardous loads are few): starting it at
    // the period would let a dispatch cover a newer day than the one it really answered.
    const lastDay =
      addDays(q.today, -HAZARDOUS_FORWARD_DAYS - 1) < q.to
        ? addDays(q.today, -HAZARDOUS_FORWARD_DAYS - 1)
        : q.to;
    if (lastDay >= q.from) {
      const { rows } = await sql<{
        day: string;
        site_id: string;
        district_id: string;
        flow: string;
        dest_site_id: string;
        kg: string;
      }>`
        SELECT day, site_id, district_id, flow, dest_site_id, sum(net_kg) AS kg FROM facts_v1_daily
         WHERE material = 'hazardous' AND flow IN ('collected', 'transfer_out')
           AND day <= ${addDays(lastDay, HAZARDOUS_FORWARD_DAYS)}
           ${q.siteId === undefined ? sql`` : sql`AND site_id = ${q.siteId}`}
         GROUP BY day, site_id, district_id, flow, dest_site_id`.execute(db);
      const sites = await masterData.sites(
        rows.flatMap((r) => (r.dest_site_id === '' ? [r.site_id] : [r.site_id, r.dest_site_id])),
      );
      const licensedHazardous = (siteId: string, day: string) => {
        const site = sites.get(siteId);
        return (
          site?.operation === 'hazardous_treatment' &&
          site.permitNumber !== undefined &&
          site.validFrom <= day &&
          (site.validTo === undefined || day <= site.validTo)
        );
      };
      // Per site, day by day: what was collected, and what left for a licensed facility.
      const perSite = new Map<
        string,
        { districtId: string; collected: Map<string, number>; forwarded: Map<string, number> }
      >();
      for (const r of rows) {
        if (licensedHazardous(r.site_id, r.day)) continue; // received where it belongs
        const s = perSite.get(r.site_id) ?? {
          // The site's own district, as for the other kinds (a collection may come from another).
          districtId: sites.get(r.site_id)?.districtId ?? r.district_id,
          collected: new Map(),
          forwarded: new Map(),
        };
        if (r.flow === 'collected')
          s.collected.set(r.day, (s.collected.get(r.day) ?? 0) + Number(r.kg));
        else if (licensedHazardous(r.dest_site_id, r.day))
          s.forwarded.set(r.day, (s.forwarded.get(r.day) ?? 0) + Number(r.kg));
        perSite.set(r.site_id, s);
      }
      // First in, first out: each day's collection is covered by dispatches up to 3 days later.
      for (const [siteId, s] of [...perSite].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const days = [...new Set([...s.collected.keys(), ...s.forwarded.keys()])].sort();
        let owed: { day: string; kg: number }[] = [];
        for (const day of days) {
          owed.push({ day, kg: s.collected.get(day) ?? 0 });
          let available = s.forwarded.get(day) ?? 0;
          const oldestCovered = addDays(day, -HAZARDOUS_FORWARD_DAYS);
          for (const o of owed) {
            if (o.day < oldestCovered) continue; // its 3 days were over before this dispatch
            const take = Math.min(o.kg, available);
            o.kg -= take;
            available -= take;
          }
          owed = owed.filter((o) => o.kg > 0);
        }
        // What is still owed after every dispatch in the window (the window ends 3 days after
        // the last day judged, so each day had its full 3 days).
        for (const o of owed) {
          if (o.day < q.from || o.day > lastDay) continue;
          if (q.districtId !== undefined && s.districtId !== q.districtId) continue;
          out.push({
            kind: 'hazardous_not_forwarded',
            siteId,
            districtId: s.districtId,
            day: o.day,
            details: { notForwardedKg: o.kg, withinDays: HAZARDOUS_FORWARD_DAYS },
          });
        }
      }
    }
  }
  return out.sort((a, b) =>
    a.day < b.day ? -1 : a.day > b.day ? 1 : a.siteId < b.siteId ? -1 : 1,
  );
}
