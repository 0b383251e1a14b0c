import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { LedgerError } from '../../domain/errors/catalogue.js';
import { calendarDateSchema } from '../../domain/shared/time.js';
import { findings } from '../../projections/findings/projection.js';
import {
  complianceFindingKinds,
  queryComplianceFindings,
  type ComplianceFindingKind,
} from '../../compliance/compliance-findings.js';
import type { MasterData } from '../../ingestion/master-data.js';
import { businessDay } from '../../domain/shared/time.js';
import { findingKinds, queryFindings, type FindingKind } from '../../projections/findings/query.js';
import { waitForCheckpoint } from '../../projections/runner/wait.js';
import { assertDistrictInScope } from '../../access/scope.js';
import { principalOf } from '../access/access-control.js';
import { access } from '../access/policies.js';

const querySchema = z
  .object({
    from: calendarDateSchema,
    to: calendarDateSchema,
    /** Comma-separated kinds; all when omitted. */
    kind: z
      .string()
      .default([...findingKinds, ...complianceFindingKinds].join(','))
      .transform((s) =>
        s
          .split(',')
          .map((k) => k.trim())
          .filter((k) => k !== ''),
      )
      .pipe(z.array(z.enum([...findingKinds, ...complianceFindingKinds]))),
    siteId: z.string().optional(),
    districtId: z.string().optional(),
    minPosition: z.coerce.number().int().min(0).optional(),
    waitMs: z.coerce.number().int().min(0).max(30_000).default(5000),
  })
  .refine((q) => q.from <= q.to, { path: ['to'], message: 'must not be before from' });

/** Findings for regulators: tare drift, repeat weighings, ticket-number gaps, short transfers. */
export function registerFindingsRoutes(
  app: FastifyInstance,
  deps: { db: Kysely<unknown>; masterData: MasterData; timeZone: string; clock: () => number },
): void {
  const { db } = deps;
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/findings',
    {
      config: { access: access.read },
      schema: {
        tags: ['findings'],
        description:
          'Findings on the business days from…to: tare_drift, repeat_weighing, ticket_gap (missing ticket numbers at a site), short_transfer (received < 90 % of dispatched), over_capacity (a facility above its rated t/d), raw_landfill (raw household waste into a landfill), hazardous_not_forwarded (hazardous waste not sent to a licensed hazardous-waste facility within 3 days). Filter by kind, siteId, districtId. The loads still count.',
        querystring: querySchema,
      },
    },
    async (request) => {
      const q = request.query;
      assertDistrictInScope(principalOf(request), q.districtId);
      const checkpoint = await waitForCheckpoint(db, findings.name, q.minPosition ?? 0, q.waitMs);
      if (q.minPosition !== undefined && checkpoint < q.minPosition) {
        throw new LedgerError(
          'LEDGER_ERR_NOT_CAUGHT_UP',
          `Findings reflect the log up to ${checkpoint}, not yet ${q.minPosition}`,
          {
            checkpoint,
            minPosition: q.minPosition,
          },
        );
      }
      const ticketFindings = await queryFindings(db, {
        from: q.from,
        to: q.to,
        kinds: q.kind.filter((k): k is FindingKind =>
          (findingKinds as readonly string[]).includes(k),
        ),
        siteId: q.siteId,
      });
      // Ticket findings know their site; the district is the site's (master data).
      const districts =
        q.districtId === undefined
          ? undefined
          : await deps.masterData.sites(ticketFindings.map((f) => f.siteId));
      const inDistrict = ticketFindings.filter(
        (f) => districts === undefined || districts.get(f.siteId)?.districtId === q.districtId,
      );
      const factFindings = await queryComplianceFindings(db, deps.masterData, {
        from: q.from,
        to: q.to,
        kinds: q.kind.filter((k): k is ComplianceFindingKind =>
          (complianceFindingKinds as readonly string[]).includes(k),
        ),
        siteId: q.siteId,
        districtId: q.districtId,
        today: businessDay(new Date(deps.clock()).toISOString(), deps.timeZone),
      });
      return {
        findings: [...inDistrict, ...factFindings].sort((a, b) =>
          a.day < b.day ? -1 : a.day > b.day ? 1 : 0,
        ),
        checkpoint,
      };
    },
  );
}
