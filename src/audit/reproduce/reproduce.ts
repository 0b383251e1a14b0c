import { z } from 'zod';
import { ComplianceIndicators, type ComplianceReport } from '../../compliance/compliance-report.js';
import { ruleLabelSchema } from '../../domain/compliance/rules.js';
import { businessDay } from '../../domain/shared/time.js';
import { canonicalJson } from '../../integrity/canonical-json.js';
import type { RecordedEvent } from '../../store/port.js';
import { FoldedLog } from './folded-log.js';

/** What a published report must carry to be reproduced (GET /v1/plans/:id/report, as JSON). */
export const publishedReportSchema = z.object({
  plan: z.object({ id: z.string() }),
  period: z.object({ from: z.string(), to: z.string() }),
  districtId: z.string().nullable(),
  moment: z.object({
    kind: z.enum(['now', 'as_of']),
    position: z.number().int().min(0),
    businessDay: z.string(),
  }),
  provenance: z.object({
    rules: z.string(),
    positions: z.object({ after: z.literal(0), upTo: z.number().int().min(0) }),
    inputsDigest: z.string(),
    figuresDigest: z.string(),
  }),
  figures: z.unknown(),
  runRate: z.object({ figures: z.unknown() }),
  entries: z.unknown(),
});
export type PublishedReport = z.infer<typeof publishedReportSchema>;

export interface Reproduction {
  readonly matches: boolean;
  readonly upToPosition: number;
  readonly rules: string;
  readonly inputsDigest: { readonly published: string; readonly recomputed: string };
  readonly figuresDigest: { readonly published: string; readonly recomputed: string };
  /** Paths (such as `figures.recyclingRate.numeratorKg`) whose values differ, with both values. */
  readonly differences: readonly { path: string; published: unknown; recomputed: unknown }[];
  readonly recomputed: ComplianceReport;
}

/**
 * Recomputes a published report from events alone (read from the database or from an export):
 * folds them up to the report's position, runs the same indicator code on the fold, and
 * compares digests and every figure.
 */
export async function reproduceReport(
  published: PublishedReport,
  events: AsyncIterable<RecordedEvent>,
  timeZone: string,
): Promise<Reproduction> {
  const upTo = published.provenance.positions.upTo;
  const fold = new FoldedLog();
  for await (const event of events) {
    if (event.position > upTo) break;
    // A fold of part of the log would silently lack what came before: refuse it.
    if (event.position !== fold.position + 1) {
      throw new Error(
        `the events must be the whole log from position 1: position ${event.position} follows ${fold.position}`,
      );
    }
    fold.push(event);
  }
  if (fold.position !== upTo) {
    throw new Error(`the events end at position ${fold.position}, before the report's ${upTo}`);
  }
  const rules = ruleLabelSchema.parse(published.provenance.rules);
  const indicators = new ComplianceIndicators(fold.source(), timeZone);
  const recomputed = await indicators.report(published.plan.id, {
    from: published.period.from,
    to: published.period.to,
    districtId: published.districtId ?? undefined,
    rules,
    // "Now" was the report's business day; "as of" finds its day from the recorded time.
    now: instantOnDay(published.moment.businessDay, timeZone),
    ...(published.moment.kind === 'as_of' ? { asOf: { position: upTo }, withChanges: false } : {}),
  });
  const differences: { path: string; published: unknown; recomputed: unknown }[] = [];
  diff('figures', published.figures, recomputed.figures, differences);
  diff('runRate.figures', published.runRate.figures, recomputed.runRate.figures, differences);
  diff('entries', published.entries, recomputed.entries, differences);
  const inputsDigest = {
    published: published.provenance.inputsDigest,
    recomputed: recomputed.provenance.inputsDigest,
  };
  const figuresDigest = {
    published: published.provenance.figuresDigest,
    recomputed: recomputed.provenance.figuresDigest,
  };
  return {
    matches:
      differences.length === 0 &&
      inputsDigest.published === inputsDigest.recomputed &&
      figuresDigest.published === figuresDigest.recomputed,
    upToPosition: upTo,
    rules: published.provenance.rules,
    inputsDigest,
    figuresDigest,
    differences,
    recomputed,
  };
}

/** A moment whose business day (in the zone) is `day`: noon UTC, moved if the zone is far off. */
function instantOnDay(day: string, timeZone: string): number {
  for (const hour of [12, 0, 23, 6, 18]) {
    const t = Date.parse(`${day}T${String(hour).padStart(2, '0')}:00:00Z`);
    if (businessDay(new Date(t).toISOString(), timeZone) === day) return t;
  }
  throw new Error(`no moment of ${day} found in ${timeZone}`);
}

function diff(
  path: string,
  published: unknown,
  recomputed: unknown,
  out: { path: string; published: unknown; recomputed: unknown }[],
): void {
  if (canonicalJson(published ?? null) === canonicalJson(recomputed ?? null)) return;
  const bothObjects =
    typeof published === 'object' &&
    published !== null &&
    typeof recomputed === 'object' &&
    recomputed !== null;
  if (!bothObjects || out.length > 50) {
    out.push({ path, published, recomputed });
    return;
  }
  const a = published as Record<string, unknown>;
  const b = recomputed as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    diff(Array.isArray(published) ? `${path}[${key}]` : `${path}.${key}`, a[key], b[key], out);
  }
}
