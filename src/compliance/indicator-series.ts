import type { FactSum } from '../domain/compliance/facts.js';
import {
  computeIndicators,
  type IndicatorFigures,
  type SiteFacts,
} from '../domain/compliance/indicators.js';
import type { IndicatorId } from '../domain/compliance/plans.js';
import type { RuleSet } from '../domain/compliance/rules.js';
import { daysBetweenInclusive, maxDate, minDate } from './calendar.js';

export type SeriesInterval = 'day' | 'month';

/** One bucket of a series: the indicator's numerator and denominator (kg, or days) and ratio. */
export interface SeriesPoint {
  readonly period: string;
  readonly from: string;
  readonly to: string;
  readonly numerator: number;
  readonly denominator: number;
  /** Unrounded; a percentage for rates, t/d for kitchen waste, t for collected tonnage. */
  readonly value: number | null;
}

/** The numerator, denominator and value of one indicator in a bucket's figures. */
export function pointOf(
  indicator: IndicatorId,
  f: IndicatorFigures,
): Omit<SeriesPoint, 'period' | 'from' | 'to'> {
  const rate = (r: { numeratorKg: number; denominatorKg: number; ratio: number | null }) => ({
    numerator: r.numeratorKg,
    denominator: r.denominatorKg,
    value: r.ratio === null ? null : r.ratio * 100,
  });
  switch (indicator) {
    case 'collected_tonnage':
      return {
        numerator: f.collected.totalKg,
        denominator: 1000,
        value: f.collected.totalKg / 1000,
      };
    case 'recycling_rate':
      return rate(f.recyclingRate);
    case 'harmless_treatment_rate':
      return rate(f.harmlessTreatmentRate);
    case 'zero_landfill':
      return rate(f.zeroLandfill);
    case 'construction_utilisation':
      return rate(f.constructionUtilisation);
    case 'kitchen_separated':
      return {
        numerator: f.kitchenSeparated.kitchenCollectedKg,
        denominator: f.kitchenSeparated.days,
        value: f.kitchenSeparated.days === 0 ? null : f.kitchenSeparated.tonnesPerDay,
      };
    default: {
      const unknown: never = indicator;
      throw new Error(`unknown indicator ${String(unknown)}`);
    }
  }
}

/**
 * An indicator day by day or month by month over [from, to], from day-grain sums: each bucket
 * is computed exactly as a report over that bucket would be (total ÷ total within it).
 */
export function indicatorSeries(
  indicator: IndicatorId,
  sums: readonly FactSum[],
  sites: ReadonlyMap<string, SiteFacts>,
  rules: RuleSet,
  period: { from: string; to: string; interval: SeriesInterval },
): SeriesPoint[] {
  const bucketOf = (day: string) => (period.interval === 'day' ? day : day.slice(0, 7));
  const buckets = new Map<string, FactSum[]>();
  for (const s of sums) {
    const key = bucketOf(s.day);
    const list = buckets.get(key) ?? [];
    list.push(s);
    buckets.set(key, list);
  }
  const points: SeriesPoint[] = [];
  for (const key of allBuckets(period)) {
    const from = period.interval === 'day' ? key : maxDate(`${key}-01`, period.from);
    const to = period.interval === 'day' ? key : minDate(lastDayOf(key), period.to);
    const figures = computeIndicators(
      buckets.get(key) ?? [],
      sites,
      rules,
      daysBetweenInclusive(from, to),
    );
    points.push({ period: key, from, to, ...pointOf(indicator, figures) });
  }
  return points;
}

function lastDayOf(month: string): string {
  const [year = 0, m = 1] = month.split('-').map(Number);
  return new Date(Date.UTC(year, m, 0)).toISOString().slice(0, 10);
}

function allBuckets(period: { from: string; to: string; interval: SeriesInterval }): string[] {
  const keys: string[] = [];
  for (let t = Date.parse(`${period.from}T00:00:00Z`); ; t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    if (day > period.to) break;
    const key = period.interval === 'day' ? day : day.slice(0, 7);
    if (keys.at(-1) !== key) keys.push(key);
  }
  return keys;
}
