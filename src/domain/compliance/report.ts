import type { IndicatorFigures, Rate } from './indicators.js';
import type { IndicatorId, Plan, PlanTarget } from './plans.js';

/**
 * met / not met once the period is over; on track / at risk while it runs, judged from the run
 * rate (a rate so far, or the last 30 days' tonnes per day for targets due at the period's end);
 * no data when the denominator is still 0.
 */
export type TargetStatus = 'met' | 'not_met' | 'on_track' | 'at_risk' | 'no_data' | 'not_tracked';

export interface ReportEntry {
  readonly targetId: string;
  readonly labelZh: string;
  readonly labelEn: string;
  readonly sentence: string;
  readonly status: TargetStatus;
  readonly indicator?: IndicatorId;
  readonly comparator?: '>=' | '<=';
  readonly target?: number | string;
  readonly unit?: string;
  readonly scope?: string;
  /** In the target's unit (percent, t/d, t), unrounded; null without data. */
  readonly actual?: number | null;
  /** What the actual was computed from, in kg (and days), so it can be checked by hand. */
  readonly basis?: Record<string, number | null | boolean>;
  readonly whyNotTracked?: string;
}

/** The figures a report judges: over the period so far, and over the run-rate window. */
export interface ReportInputs {
  readonly period: IndicatorFigures;
  /** The last 30 days of the period that have begun (all of them once it is over). */
  readonly runRate: IndicatorFigures;
  /** True once the report's moment is past the period's last day. */
  readonly periodOver: boolean;
}

const percent = (r: Rate): number | null => (r.ratio === null ? null : r.ratio * 100);

function actualOf(
  indicator: IndicatorId,
  figures: IndicatorFigures,
): { actual: number | null; basis: Record<string, number | null | boolean> } {
  switch (indicator) {
    case 'collected_tonnage':
      return {
        actual: figures.collected.totalKg / 1000,
        basis: { collectedKg: figures.collected.totalKg },
      };
    case 'recycling_rate': {
      const r = figures.recyclingRate;
      return {
        actual: percent(r),
        basis: {
          numeratorKg: r.numeratorKg,
          denominatorKg: r.denominatorKg,
          recyclablesRecoveredKg: r.recyclablesRecoveredKg,
          kitchenBiologicalKg: r.kitchenBiologicalKg,
          residuesToDisposalKg: r.residuesToDisposalKg,
        },
      };
    }
    case 'harmless_treatment_rate': {
      const r = figures.harmlessTreatmentRate;
      return {
        actual: percent(r),
        basis: {
          numeratorKg: r.numeratorKg,
          denominatorKg: r.denominatorKg,
          unlicensedIntakeKg: r.unlicensedIntakeKg,
        },
      };
    }
    case 'zero_landfill': {
      const r = figures.zeroLandfill;
      return {
        actual: percent(r),
        basis: {
          numeratorKg: r.numeratorKg,
          denominatorKg: r.denominatorKg,
          rawLandfilledKg: r.rawLandfilledKg,
        },
      };
    }
    case 'kitchen_separated': {
      const k = figures.kitchenSeparated;
      return {
        actual: k.days === 0 ? null : k.tonnesPerDay,
        basis: { kitchenCollectedKg: k.kitchenCollectedKg, days: k.days },
      };
    }
    case 'construction_utilisation': {
      const r = figures.constructionUtilisation;
      return {
        actual: percent(r),
        basis: {
          numeratorKg: r.numeratorKg,
          denominatorKg: r.denominatorKg,
          excavatedSoilInScope: r.excavatedSoilInScope,
        },
      };
    }
    default: {
      const unknown: never = indicator;
      throw new Error(`unknown indicator ${String(unknown)}`);
    }
  }
}

function judge(target: PlanTarget, inputs: ReportInputs): ReportEntry {
  const common = {
    targetId: target.id,
    labelZh: target.labelZh,
    labelEn: target.labelEn,
    sentence: target.sentence,
  };
  if (!target.tracked) {
    return {
      ...common,
      status: 'not_tracked',
      target: target.target,
      whyNotTracked: target.whyNotTracked,
    };
  }
  // A level due by the period's end is judged on the last 30 days (so far, or of the period).
  const judgedFigures = target.judgedOn === 'period_end' ? inputs.runRate : inputs.period;
  const { actual, basis } = actualOf(target.indicator, judgedFigures);
  const reached =
    actual === null
      ? undefined
      : target.comparator === '>='
        ? actual >= target.target
        : actual <= target.target;
  const status: TargetStatus =
    reached === undefined
      ? 'no_data'
      : inputs.periodOver
        ? reached
          ? 'met'
          : 'not_met'
        : reached
          ? 'on_track'
          : 'at_risk';
  return {
    ...common,
    status,
    indicator: target.indicator,
    comparator: target.comparator,
    target: target.target,
    unit: target.unit,
    ...(target.scope === undefined ? {} : { scope: target.scope }),
    actual,
    basis,
  };
}

/** Each of the plan's targets with its actual and status; untracked ones say why. */
export function judgePlan(plan: Plan, inputs: ReportInputs): ReportEntry[] {
  return plan.targets.map((t) => judge(t, inputs));
}
