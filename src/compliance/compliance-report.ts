import type { Kysely } from 'kysely';
import { LedgerError, InvalidInputError } from '../domain/errors/catalogue.js';
import { factKey, type FactSum } from '../domain/compliance/facts.js';
import {
  computeIndicators,
  type IndicatorFigures,
  type IntakeDay,
  type SiteFacts,
} from '../domain/compliance/indicators.js';
import { plans } from '../domain/compliance/plan-catalogue.js';
import type { IndicatorId, Plan } from '../domain/compliance/plans.js';
import { judgePlan, type ReportEntry } from '../domain/compliance/report.js';
import { ruleLabel, ruleSetOf, type RuleRef, type RuleSet } from '../domain/compliance/rules.js';
import { businessDay } from '../domain/shared/time.js';
import type { MasterData } from '../ingestion/master-data.js';
import {
  changesSince,
  factSums,
  periodSums,
  type FactFilter,
  type FactSums,
  type PeriodSums,
  type TicketChange,
} from '../projections/compliance-facts/query.js';
import { canonicalJson } from '../integrity/canonical-json.js';
import { sha256Hex } from '../integrity/event-hash.js';
import { positionAt, recordedAtOf } from '../projections/compliance-facts/moments.js';
import { addDays, daysBetweenInclusive, maxDate, minDate } from './calendar.js';
import { indicatorSeries, type SeriesInterval, type SeriesPoint } from './indicator-series.js';

/** A series reads day-level sums: a year at most per request. */
export const MAX_SERIES_DAYS = 366;

/** A level due by the period's end is judged on this many last days. */
export const RUN_RATE_DAYS = 30;

export interface Moment {
  /** A global position, or a recorded time (the last position recorded at or before it). */
  readonly position?: number | undefined;
  readonly recordedAt?: Date | undefined;
}

export interface IndicatorRequest {
  readonly from: string;
  readonly to: string;
  readonly districtId?: string | undefined;
  readonly rules: RuleRef;
  /** Absent: now (the projection's checkpoint). */
  readonly asOf?: Moment | undefined;
  /** The ledger's clock (ms since the epoch): "today" for a report about now. */
  readonly now: number;
  /** As of a moment, list the tickets changed since (default true); its cost grows with them. */
  readonly withChanges?: boolean | undefined;
}

export interface ComputedIndicators {
  readonly rules: RuleSet & { readonly label: string };
  readonly period: { readonly from: string; readonly to: string; readonly days: number };
  readonly districtId: string | null;
  /** The moment the figures describe: "now" or as of a position, with its recorded time. */
  readonly moment: {
    readonly kind: 'now' | 'as_of';
    readonly position: number;
    readonly recordedAt: string | null;
    readonly businessDay: string;
  };
  /** The global positions the figures were computed from: (after, upTo]. */
  readonly positions: { readonly after: 0; readonly upTo: number };
  readonly figures: IndicatorFigures;
  readonly runRate: {
    readonly from: string;
    readonly to: string;
    readonly figures: IndicatorFigures;
  };
  readonly periodOver: boolean;
  /** How to reproduce the figures from the log (`npm run audit -- reproduce`). */
  readonly provenance: Provenance;
  /** For an as-of request: the tickets whose figures changed after it, and by how many kg. */
  readonly changedSince?: readonly TicketChange[];
}

export interface ComplianceReport extends ComputedIndicators {
  readonly plan: Omit<Plan, 'targets'>;
  readonly entries: readonly ReportEntry[];
}

export function findPlan(planId: string): Plan {
  const plan = plans.find((p) => p.id === planId);
  if (plan === undefined) {
    throw new LedgerError('LEDGER_ERR_NOT_FOUND', `No plan ${planId}`, { field: 'planId' });
  }
  return plan;
}

function findRules(ref: RuleRef): RuleSet {
  const rules = ruleSetOf(ref);
  if (rules === undefined) {
    throw new InvalidInputError('rules', `No rule set ${ruleLabel(ref)}`);
  }
  return rules;
}

/** Computes every indicator over the facts, for a period, now or as of a moment. */
/**
 * Where the indicators' inputs come from: the compliance-facts read model (`sqlComplianceSource`),
 * or a plain fold of the log (audit/reproduce), which is how an auditor recomputes a published
 * figure without the ledger's database.
 */
export interface ComplianceSource {
  periodSums(filter: FactFilter, asOf?: number): Promise<PeriodSums>;
  factSums(filter: FactFilter, asOf?: number): Promise<FactSums>;
  changesSince(filter: FactFilter, asOf: number): Promise<TicketChange[]>;
  positionAt(recordedAt: Date): Promise<number>;
  recordedAtOf(position: number): Promise<Date | undefined>;
  /** Sites as registered at or before the position (a figure's master data is as of its moment). */
  sites(siteIds: Iterable<string>, position: number): Promise<Map<string, SiteFacts>>;
}

export function sqlComplianceSource(db: Kysely<unknown>, masterData: MasterData): ComplianceSource {
  return {
    periodSums: (filter, asOf) => periodSums(db, filter, asOf),
    factSums: (filter, asOf) => factSums(db, filter, asOf),
    changesSince: (filter, asOf) => changesSince(db, filter, asOf),
    positionAt: (recordedAt) => positionAt(db, recordedAt),
    recordedAtOf: (position) => recordedAtOf(db, position),
    sites: (ids, position) => masterData.sitesAsOf(ids, position),
  };
}

/**
 * What a figure was computed from, so that it can be reproduced: the rule set, the positions of
 * the log, and a SHA-256 over the canonical JSON of every input sum (period and run rate).
 */
export interface Provenance {
  readonly rules: string;
  readonly positions: { readonly after: 0; readonly upTo: number };
  readonly inputsDigest: string;
  readonly figuresDigest: string;
}

function digestOf(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/** Sums in one order whatever the source returned them in: digests must not depend on it. */
function sortedInputs(sums: readonly FactSum[], intakeDays: readonly IntakeDay[]) {
  return {
    sums: [...sums].sort((a, b) => compareText(factKey(a), factKey(b))),
    intakeDays: [...intakeDays].sort((a, b) =>
      compareText(`${a.day}|${a.siteId}`, `${b.day}|${b.siteId}`),
    ),
  };
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class ComplianceIndicators {
  constructor(
    private readonly source: ComplianceSource,
    private readonly timeZone: string,
  ) {}

  async compute(request: IndicatorRequest): Promise<ComputedIndicators> {
    const rules = findRules(request.rules);
    if (request.to < request.from) throw new InvalidInputError('to', 'must not be before from');
    const filter: FactFilter = {
      from: request.from,
      to: request.to,
      districtId: request.districtId,
    };
    const asOf =
      request.asOf?.position ??
      (request.asOf?.recordedAt === undefined
        ? undefined
        : await this.source.positionAt(request.asOf.recordedAt));
    const { sums, intakeDays, checkpoint } = await this.source.periodSums(filter, asOf);
    if (asOf !== undefined && asOf > checkpoint) {
      throw new LedgerError(
        'LEDGER_ERR_NOT_CAUGHT_UP',
        `Compliance facts reflect the log up to ${checkpoint}, not yet ${asOf}; retry shortly`,
        { checkpoint, minPosition: asOf },
      );
    }
    const position = asOf ?? checkpoint;
    const recordedAt = await this.source.recordedAtOf(position);
    // "Today" is the business day of the moment asked about: the report knows nothing later.
    const today =
      asOf === undefined
        ? businessDay(new Date(request.now).toISOString(), this.timeZone)
        : businessDay((recordedAt ?? new Date(0)).toISOString(), this.timeZone);
    const lastDay = minDate(request.to, today);
    const days = daysBetweenInclusive(request.from, lastDay);
    const runFrom = maxDate(request.from, addDays(lastDay, -(RUN_RATE_DAYS - 1)));
    const runDays = daysBetweenInclusive(runFrom, lastDay);
    const run =
      runDays === 0
        ? { sums: [], intakeDays: [] }
        : await this.source.periodSums({ ...filter, from: runFrom, to: lastDay }, asOf);
    const sites = await this.#sites([...sums, ...run.sums], position);
    const figures = computeIndicators(sums, sites, rules, days, intakeDays);
    const runFigures = computeIndicators(run.sums, sites, rules, runDays, run.intakeDays);

    return {
      rules: { ...rules, label: ruleLabel(rules) },
      period: { from: request.from, to: request.to, days },
      districtId: request.districtId ?? null,
      moment: {
        kind: asOf === undefined ? 'now' : 'as_of',
        position,
        recordedAt: recordedAt?.toISOString() ?? null,
        businessDay: today,
      },
      positions: { after: 0, upTo: position },
      figures,
      runRate: { from: runFrom, to: lastDay, figures: runFigures },
      provenance: {
        rules: ruleLabel(rules),
        positions: { after: 0, upTo: position },
        inputsDigest: digestOf({
          period: sortedInputs(sums, intakeDays),
          runRate: sortedInputs(run.sums, run.intakeDays),
          sites: [...sites].sort(([a], [b]) => compareText(a, b)),
        }),
        figuresDigest: digestOf({ figures, runRate: runFigures }),
      },
      periodOver: today > request.to,
      ...(asOf === undefined || request.withChanges === false
        ? {}
        : { changedSince: await this.source.changesSince(filter, asOf) }),
    };
  }

  async report(
    planId: string,
    request: Omit<IndicatorRequest, 'rules' | 'from' | 'to'> & {
      from?: string | undefined;
      to?: string | undefined;
      rules?: RuleRef | undefined;
    },
  ): Promise<ComplianceReport> {
    const plan = findPlan(planId);
    const computed = await this.compute({
      ...request,
      from: request.from ?? `${plan.year}-01-01`,
      to: request.to ?? `${plan.year}-12-31`,
      rules: request.rules ?? plan.rules,
    });
    const planHeader = {
      id: plan.id,
      jurisdictionZh: plan.jurisdictionZh,
      jurisdictionEn: plan.jurisdictionEn,
      year: plan.year,
      titleZh: plan.titleZh,
      issuedBy: plan.issuedBy,
      rules: plan.rules,
    };
    return {
      plan: planHeader,
      ...computed,
      entries: judgePlan(plan, {
        period: computed.figures,
        runRate: computed.runRate.figures,
        periodOver: computed.periodOver,
      }),
    };
  }

  /** One indicator, day by day or month by month, now or as of a moment. */
  async series(
    request: IndicatorRequest & { indicator: IndicatorId; interval: SeriesInterval },
  ): Promise<{
    indicator: IndicatorId;
    interval: SeriesInterval;
    rules: string;
    districtId: string | null;
    positions: { after: 0; upTo: number };
    points: SeriesPoint[];
  }> {
    const rules = findRules(request.rules);
    if (request.to < request.from) throw new InvalidInputError('to', 'must not be before from');
    if (daysBetweenInclusive(request.from, request.to) > MAX_SERIES_DAYS) {
      throw new InvalidInputError('to', `a series covers at most ${MAX_SERIES_DAYS} days`);
    }
    const asOf =
      request.asOf?.position ??
      (request.asOf?.recordedAt === undefined
        ? undefined
        : await this.source.positionAt(request.asOf.recordedAt));
    const filter = { from: request.from, to: request.to, districtId: request.districtId };
    const { sums, checkpoint } = await this.source.factSums(filter, asOf);
    if (asOf !== undefined && asOf > checkpoint) {
      throw new LedgerError(
        'LEDGER_ERR_NOT_CAUGHT_UP',
        `Compliance facts reflect the log up to ${checkpoint}, not yet ${asOf}; retry shortly`,
        { checkpoint, minPosition: asOf },
      );
    }
    return {
      indicator: request.indicator,
      interval: request.interval,
      rules: ruleLabel(rules),
      districtId: request.districtId ?? null,
      positions: { after: 0, upTo: asOf ?? checkpoint },
      points: indicatorSeries(
        request.indicator,
        sums,
        await this.#sites(sums, asOf ?? checkpoint),
        rules,
        {
          from: request.from,
          to: request.to,
          interval: request.interval,
        },
      ),
    };
  }

  async #sites(sums: readonly FactSum[], position: number): Promise<Map<string, SiteFacts>> {
    const ids = new Set<string>();
    for (const s of sums) {
      ids.add(s.siteId);
      if (s.destSiteId !== '') ids.add(s.destSiteId);
    }
    return this.source.sites(ids, position);
  }
}
