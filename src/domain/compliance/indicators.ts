import { householdCategories } from '../shared/materials.js';
import type { RuleSet } from './rules.js';
import type { FactSum } from './facts.js';

/**
 * A rate as a regulator can check it by hand: numerator and denominator in kg, and their ratio
 * (unrounded; null when the denominator is 0). Over a period it is total ÷ total, never an
 * average of daily rates.
 */
export interface Rate {
  readonly numeratorKg: number;
  readonly denominatorKg: number;
  readonly ratio: number | null;
}

/** What the indicators need to know about a site (master data, not weigh events). */
export interface SiteFacts {
  readonly kind: string;
  readonly operation?: string | undefined;
  readonly districtId: string;
  readonly capacityKgPerDay?: number | undefined;
  readonly permitNumber?: string | undefined;
  readonly validFrom: string;
  readonly validTo?: string | undefined;
}

export interface FacilityCapacity {
  readonly siteId: string;
  readonly capacityKgPerDay: number;
  readonly intakeKg: number;
  /** Days of the period with any intake. */
  readonly daysWithIntake: number;
  readonly peakDay: string | null;
  readonly peakDayKg: number;
  /** Days whose intake exceeded the rated capacity. */
  readonly daysOverCapacity: readonly string[];
}

export interface StationBalance {
  readonly siteId: string;
  /** Collected and transferred in. */
  readonly inKg: number;
  /** Transferred out and residues dispatched. */
  readonly outKg: number;
  /** in − out: stock built up (or, negative, cleared). */
  readonly differenceKg: number;
}

/** A facility's intake on one day: what capacity and permits are judged on. */
export interface IntakeDay {
  readonly day: string;
  readonly siteId: string;
  readonly totalKg: number;
  readonly householdKg: number;
}

/** Intake per facility and day, from sums that still carry their day. */
export function intakeDaysOf(sums: readonly FactSum[]): IntakeDay[] {
  const days = new Map<
    string,
    { day: string; siteId: string; totalKg: number; householdKg: number }
  >();
  for (const s of sums) {
    if (s.flow !== 'treatment_intake') continue;
    const key = `${s.day}|${s.siteId}`;
    const d = days.get(key) ?? { day: s.day, siteId: s.siteId, totalKg: 0, householdKg: 0 };
    d.totalKg += s.netKg;
    if (HOUSEHOLD.has(s.material)) d.householdKg += s.netKg;
    days.set(key, d);
  }
  return [...days.values()];
}

export interface IndicatorFigures {
  /** 清运量: household waste first received from collection, by category. */
  readonly collected: { readonly totalKg: number; readonly byCategoryKg: Record<string, number> };
  /** 处理量: everything entering a treatment facility, by operation (residues included). */
  readonly treatmentIntakeKgByOperation: Record<string, number>;
  /** (recyclables recovered + kitchen waste treated biologically − their residues sent to disposal) ÷ collected. */
  readonly recyclingRate: Rate & {
    readonly recyclablesRecoveredKg: number;
    readonly kitchenBiologicalKg: number;
    readonly residuesToDisposalKg: number;
  };
  /** Household waste entering licensed harmless treatment ÷ collected. */
  readonly harmlessTreatmentRate: Rate & { readonly unlicensedIntakeKg: number };
  /** (household intake − raw household waste landfilled) ÷ household intake; ash does not count against it. */
  readonly zeroLandfill: Rate & { readonly rawLandfilledKg: number };
  /** Kitchen waste collected, per day of the period. */
  readonly kitchenSeparated: {
    readonly kitchenCollectedKg: number;
    readonly days: number;
    readonly tonnesPerDay: number;
  };
  /** Construction waste recycled ÷ construction waste received at recycling, disposal and landfill. */
  readonly constructionUtilisation: Rate & { readonly excavatedSoilInScope: boolean };
  readonly capacity: readonly FacilityCapacity[];
  readonly massBalance: readonly StationBalance[];
}

const HOUSEHOLD: ReadonlySet<string> = new Set(householdCategories);
const BIOLOGICAL = new Set(['anaerobic_digestion', 'composting']);
const RECOVERY_SITES = new Set(['material_recovery', 'anaerobic_digestion', 'composting']);
const DISPOSAL = new Set(['incineration_energy_recovery', 'sanitary_landfill']);
const HARMLESS = new Set([
  'incineration_energy_recovery',
  'sanitary_landfill',
  'anaerobic_digestion',
  'composting',
  'material_recovery',
  'hazardous_treatment',
]);
const CONSTRUCTION_RECEIVERS = new Set([
  'construction_recycling',
  'construction_disposal',
  'sanitary_landfill',
]);

export function rate(numeratorKg: number, denominatorKg: number): Rate {
  return {
    numeratorKg,
    denominatorKg,
    ratio: denominatorKg === 0 ? null : numeratorKg / denominatorKg,
  };
}

function licensedOn(site: SiteFacts | undefined, day: string): boolean {
  return (
    site !== undefined &&
    site.permitNumber !== undefined &&
    site.validFrom <= day &&
    (site.validTo === undefined || day <= site.validTo)
  );
}

const add = (record: Record<string, number>, key: string, kg: number) => {
  record[key] = (record[key] ?? 0) + kg;
};

/**
 * Every indicator over the given sums (already limited to the period and, for a district
 * report, to the district). The sums may be by day or coarser (by month, or for the whole
 * period); capacity and permits are judged day by day on `intakeDays` (derived from the sums
 * when they are by day). Pure: the same inputs give the same figures.
 */
export function computeIndicators(
  sums: readonly FactSum[],
  sites: ReadonlyMap<string, SiteFacts>,
  rules: RuleSet,
  days: number,
  intakeDays: readonly IntakeDay[] = intakeDaysOf(sums),
): IndicatorFigures {
  const byCategoryKg: Record<string, number> = {};
  const intakeByOperation: Record<string, number> = {};
  let collectedKg = 0;
  let recyclablesRecoveredKg = 0;
  let kitchenBiologicalKg = 0;
  let residuesToDisposalKg = 0;
  let licensedKg = 0;
  let unlicensedIntakeKg = 0;
  let householdIntakeKg = 0;
  let rawLandfilledKg = 0;
  let constructionRecycledKg = 0;
  let constructionReceivedKg = 0;
  const stations = new Map<string, { inKg: number; outKg: number }>();

  for (const s of sums) {
    const household = HOUSEHOLD.has(s.material);
    const site = sites.get(s.siteId);
    switch (s.flow) {
      case 'collected':
        if (household) {
          collectedKg += s.netKg;
          add(byCategoryKg, s.material, s.netKg);
        }
        break;
      case 'treatment_intake': {
        add(intakeByOperation, s.operation, s.netKg);
        if (household) {
          householdIntakeKg += s.netKg;
          if (s.operation === 'sanitary_landfill') rawLandfilledKg += s.netKg;
          if (s.material === 'recyclable' && s.operation === 'material_recovery')
            recyclablesRecoveredKg += s.netKg;
          if (s.material === 'kitchen' && BIOLOGICAL.has(s.operation))
            kitchenBiologicalKg += s.netKg;
        }
        if (s.material === 'construction' && CONSTRUCTION_RECEIVERS.has(s.operation)) {
          const inScope = rules.excavatedSoilInConstructionScope || s.subtype !== 'excavated_soil';
          if (inScope) {
            constructionReceivedKg += s.netKg;
            if (s.operation === 'construction_recycling') constructionRecycledKg += s.netKg;
          }
        }
        break;
      }
      case 'residue_out': {
        const destination = sites.get(s.destSiteId)?.operation ?? '';
        if (RECOVERY_SITES.has(s.operation) && DISPOSAL.has(destination)) {
          residuesToDisposalKg += s.netKg;
        }
        break;
      }
      case 'transfer_in':
      case 'transfer_out':
        break;
      default: {
        const unknown: never = s.flow;
        throw new Error(`unknown flow ${String(unknown)}`);
      }
    }
    if (site?.kind === 'transfer_station' && s.siteId !== '') {
      const balance = stations.get(s.siteId) ?? { inKg: 0, outKg: 0 };
      if (s.flow === 'collected' || s.flow === 'transfer_in') balance.inKg += s.netKg;
      if (s.flow === 'transfer_out' || s.flow === 'residue_out') balance.outKg += s.netKg;
      stations.set(s.siteId, balance);
    }
  }

  // Day by day: whether the facility's permit covered the day, and its intake against capacity.
  const facilityDays = new Map<string, Map<string, number>>();
  for (const d of intakeDays) {
    const site = sites.get(d.siteId);
    if (site?.operation !== undefined && HARMLESS.has(site.operation)) {
      if (licensedOn(site, d.day)) licensedKg += d.householdKg;
      else unlicensedIntakeKg += d.householdKg;
    }
    const perDay = facilityDays.get(d.siteId) ?? new Map<string, number>();
    perDay.set(d.day, (perDay.get(d.day) ?? 0) + d.totalKg);
    facilityDays.set(d.siteId, perDay);
  }

  const kitchenCollectedKg = byCategoryKg.kitchen ?? 0;
  const capacity: FacilityCapacity[] = [];
  for (const [siteId, perDay] of [...facilityDays].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const capacityKgPerDay = sites.get(siteId)?.capacityKgPerDay;
    if (capacityKgPerDay === undefined) continue;
    let peakDay: string | null = null;
    let peakDayKg = 0;
    let intakeKg = 0;
    const over: string[] = [];
    for (const [day, kg] of [...perDay].sort(([a], [b]) => (a < b ? -1 : 1))) {
      intakeKg += kg;
      if (kg > peakDayKg) {
        peakDayKg = kg;
        peakDay = day;
      }
      if (kg > capacityKgPerDay) over.push(day);
    }
    capacity.push({
      siteId,
      capacityKgPerDay,
      intakeKg,
      daysWithIntake: perDay.size,
      peakDay,
      peakDayKg,
      daysOverCapacity: over,
    });
  }

  return {
    collected: { totalKg: collectedKg, byCategoryKg },
    treatmentIntakeKgByOperation: intakeByOperation,
    recyclingRate: {
      ...rate(recyclablesRecoveredKg + kitchenBiologicalKg - residuesToDisposalKg, collectedKg),
      recyclablesRecoveredKg,
      kitchenBiologicalKg,
      residuesToDisposalKg,
    },
    harmlessTreatmentRate: { ...rate(licensedKg, collectedKg), unlicensedIntakeKg },
    zeroLandfill: {
      ...rate(householdIntakeKg - rawLandfilledKg, householdIntakeKg),
      rawLandfilledKg,
    },
    kitchenSeparated: {
      kitchenCollectedKg,
      days,
      tonnesPerDay: days === 0 ? 0 : kitchenCollectedKg / days / 1000,
    },
    constructionUtilisation: {
      ...rate(constructionRecycledKg, constructionReceivedKg),
      excavatedSoilInScope: rules.excavatedSoilInConstructionScope,
    },
    capacity,
    massBalance: [...stations]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([siteId, b]) => ({ siteId, ...b, differenceKg: b.inKg - b.outKg })),
  };
}
