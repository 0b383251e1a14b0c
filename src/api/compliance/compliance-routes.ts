import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { plans } from '../../domain/compliance/plan-catalogue.js';
import { ruleSets } from '../../domain/compliance/rules.js';
import { calendarDateSchema } from '../../domain/shared/time.js';
import type { ComplianceIndicators, Moment } from '../../compliance/compliance-report.js';
import { findPlan } from '../../compliance/compliance-report.js';
import { indicatorIdSchema } from '../../domain/compliance/plans.js';
import { ruleLabelSchema } from '../../domain/compliance/rules.js';
import { assertDistrictInScope } from '../../access/scope.js';
import { principalOf } from '../access/access-control.js';
import { access } from '../access/policies.js';
import { reportCsv, seriesCsv } from './report-csv.js';

const momentQuery = {
  /** As the ledger knew it at this global position. */
  asOfPosition: z.coerce.number().int().min(0).optional(),
  /** As the ledger knew it at this recorded time (an ISO 8601 timestamp with its offset). */
  asOf: z.iso.datetime({ offset: true }).optional(),
  rules: ruleLabelSchema.optional(),
  districtId: z.string().min(1).optional(),
  /** As of a moment: list the tickets changed since (true by default; costs time with many). */
  changes: z.enum(['true', 'false']).default('true'),
};

const periodRefinement = (q: { from?: string | undefined; to?: string | undefined }) =>
  q.from === undefined || q.to === undefined || q.from <= q.to;

function momentOf(q: {
  asOfPosition?: number | undefined;
  asOf?: string | undefined;
}): Moment | undefined {
  if (q.asOfPosition !== undefined) return { position: q.asOfPosition };
  if (q.asOf !== undefined) return { recordedAt: new Date(q.asOf) };
  return undefined;
}

/** Plans, rule sets, indicators and compliance reports, now or as of any moment. */
export function registerComplianceRoutes(
  app: FastifyInstance,
  deps: { indicators: ComplianceIndicators; clock: () => number },
): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/v1/plans',
    {
      config: { access: access.reference },
      schema: {
        tags: ['compliance'],
        description: 'The plans the ledger judges, with their targets.',
      },
    },
    () => ({ plans }),
  );

  api.get(
    '/v1/plans/:planId',
    {
      config: { access: access.reference },
      schema: {
        tags: ['compliance'],
        description:
          'One plan: jurisdiction, year, rule set and every target with the sentence it comes from.',
        params: z.object({ planId: z.string() }),
      },
    },
    (request) => findPlan(request.params.planId),
  );

  api.get(
    '/v1/rules',
    {
      config: { access: access.reference },
      schema: {
        tags: ['compliance'],
        description:
          'Named, versioned rule sets: how each indicator is counted. Versions are never edited.',
      },
    },
    () => ({ ruleSets }),
  );

  api.get(
    '/v1/indicators',
    {
      config: { access: access.read },
      schema: {
        tags: ['compliance'],
        description:
          'Every indicator for a period (business days, inclusive), city-wide or for a district, now or as of a global position or recorded time. Rates come as numerator kg, denominator kg and ratio.',
        querystring: z
          .object({ from: calendarDateSchema, to: calendarDateSchema, ...momentQuery })
          .refine(periodRefinement, { path: ['to'], message: 'must not be before from' }),
      },
    },
    async (request) => {
      const q = request.query;
      assertDistrictInScope(principalOf(request), q.districtId);
      return deps.indicators.compute({
        from: q.from,
        to: q.to,
        districtId: q.districtId,
        rules: q.rules ?? { id: 'domain-default', version: 1 },
        asOf: momentOf(q),
        now: deps.clock(),
        withChanges: q.changes === 'true',
      });
    },
  );

  api.get(
    '/v1/indicators/series',
    {
      config: { access: access.read },
      schema: {
        tags: ['compliance'],
        description:
          'One indicator day by day or month by month (at most 366 days), each point computed as a report over that day or month: numerator, denominator (kg, or days for kitchen t/d) and value. format=csv for a spreadsheet.',
        querystring: z
          .object({
            indicator: indicatorIdSchema,
            interval: z.enum(['day', 'month']).default('month'),
            from: calendarDateSchema,
            to: calendarDateSchema,
            format: z.enum(['json', 'csv']).default('json'),
            ...momentQuery,
          })
          .refine(periodRefinement, { path: ['to'], message: 'must not be before from' }),
      },
    },
    async (request, reply) => {
      const q = request.query;
      assertDistrictInScope(principalOf(request), q.districtId);
      const series = await deps.indicators.series({
        indicator: q.indicator,
        interval: q.interval,
        from: q.from,
        to: q.to,
        districtId: q.districtId,
        rules: q.rules ?? { id: 'domain-default', version: 1 },
        asOf: momentOf(q),
        now: deps.clock(),
      });
      if (q.format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header(
            'content-disposition',
            `attachment; filename="${q.indicator}-${q.from}-${q.to}.csv"`,
          )
          .send(seriesCsv(series));
      }
      return series;
    },
  );

  api.get(
    '/v1/plans/:planId/report',
    {
      config: { access: access.read },
      schema: {
        tags: ['compliance'],
        description:
          "A plan's compliance report: each target with actual, target and status (met, not_met, on_track, at_risk, no_data, not_tracked), the rule set, and the global positions it was computed from. Period defaults to the plan's year; as of a moment, it lists the tickets that changed since. format=csv for a spreadsheet.",
        params: z.object({ planId: z.string() }),
        querystring: z
          .object({
            from: calendarDateSchema.optional(),
            to: calendarDateSchema.optional(),
            format: z.enum(['json', 'csv']).default('json'),
            ...momentQuery,
          })
          .refine(periodRefinement, { path: ['to'], message: 'must not be before from' }),
      },
    },
    async (request, reply) => {
      const q = request.query;
      assertDistrictInScope(principalOf(request), q.districtId);
      const report = await deps.indicators.report(request.params.planId, {
        from: q.from,
        to: q.to,
        districtId: q.districtId,
        rules: q.rules,
        asOf: momentOf(q),
        now: deps.clock(),
        withChanges: q.changes === 'true',
      });
      if (q.format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header(
            'content-disposition',
            `attachment; filename="${report.plan.id}-${report.period.from}-${report.period.to}.csv"`,
          )
          .send(reportCsv(report));
      }
      return report;
    },
  );
}
