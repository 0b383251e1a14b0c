import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { LedgerError } from '../../domain/errors/catalogue.js';
import { calendarDateSchema } from '../../domain/shared/time.js';
import { findings } from '../../projections/findings/projection.js';
import { findingKinds, queryFindings } from '../../projections/findings/query.js';
import { waitForCheckpoint } from '../../projections/runner/wait.js';

const querySchema = z
  .object({
    from: calendarDateSchema,
    to: calendarDateSchema,
    /** Comma-separated kinds; all when omitted. */
    kind: z
      .string()
      .default(findingKinds.join(','))
      .transform((s) =>
        s
          .split(',')
          .map((k) => k.trim())
          .filter((k) => k !== ''),
      )
      .pipe(z.array(z.enum(findingKinds))),
    siteId: z.string().optional(),
    minPosition: z.coerce.number().int().min(0).optional(),
    waitMs: z.coerce.number().int().min(0).max(30_000).default(5000),
  })
  .refine((q) => q.from <= q.to, { path: ['to'], message: 'must not be before from' });

/** Findings for regulators: tare drift, repeat weighings, ticket-number gaps, short transfers. */
export function registerFindingsRoutes(app: FastifyInstance, db: Kysely<unknown>): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/findings',
    {
      schema: {
        tags: ['findings'],
        description:
          'Findings on the business days from…to: tare_drift, repeat_weighing, ticket_gap (missing ticket numbers at a site), short_transfer (received < 90 % of dispatched). The loads still count.',
        querystring: querySchema,
      },
    },
    async (request) => {
      const q = request.query;
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
      return {
        findings: await queryFindings(db, {
          from: q.from,
          to: q.to,
          kinds: q.kind,
          siteId: q.siteId,
        }),
        checkpoint,
      };
    },
  );
}
