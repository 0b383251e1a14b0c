import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { LedgerError } from '../../domain/errors/catalogue.js';
import { calendarDateSchema } from '../../domain/shared/time.js';
import { flows } from '../../projections/daily-tonnage/contributions.js';
import { dailyTonnage } from '../../projections/daily-tonnage/projection.js';
import { queryTonnage, tonnageDimensions } from '../../projections/daily-tonnage/query.js';
import { waitForCheckpoint } from '../../projections/runner/wait.js';
import { trustedJsonSerializer } from '../openapi/trusted-serializer.js';
import { assertDistrictInScope } from '../../access/scope.js';
import { principalOf } from '../access/access-control.js';
import { access } from '../access/policies.js';

const MAX_WAIT_MS = 30_000;

const querySchema = z
  .object({
    from: calendarDateSchema,
    to: calendarDateSchema,
    /** Comma-separated: day, district, site, material, flow, operation. */
    groupBy: z
      .string()
      .default('day')
      .transform((s) =>
        s
          .split(',')
          .map((d) => d.trim())
          .filter((d) => d !== ''),
      )
      .pipe(z.array(z.enum(tonnageDimensions))),
    districtId: z.string().optional(),
    siteId: z.string().optional(),
    material: z.string().optional(),
    flow: z.enum(flows).optional(),
    /** Read-your-writes: answer only once the projection has applied the log up to here. */
    minPosition: z.coerce.number().int().min(0).optional(),
    /** How long to wait for minPosition, in ms. */
    waitMs: z.coerce.number().int().min(0).max(MAX_WAIT_MS).default(5000),
  })
  .refine((q) => q.from <= q.to, { path: ['to'], message: 'must not be before from' });

const rowSchema = z.object({
  day: z.string().optional(),
  district: z.string().optional(),
  site: z.string().optional(),
  material: z.string().optional(),
  flow: z.string().optional(),
  operation: z.string().optional(),
  netKg: z.number().int(),
  tonnes: z.string(),
  tickets: z.number().int(),
});

/** What GET /v1/tonnage answers (documented in OpenAPI; tests hold answers to it). */
export const tonnageResponseSchema = z.object({
  rows: z.array(rowSchema),
  totalKg: z.number().int(),
  totalTonnes: z.string(),
  checkpoint: z.number().int(),
});

/** Daily tonnage by business day and any grouping; kg exactly, tonnes for display. */
export function registerTonnageRoutes(app: FastifyInstance, db: Kysely<unknown>): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/tonnage',
    {
      config: { access: access.read },
      serializerCompiler: trustedJsonSerializer,
      schema: {
        tags: ['tonnage'],
        description:
          'Net kg by business day (local calendar day of the weigh-in), grouped as asked. Flows: collected, transfer_in, transfer_out, treatment_intake, residue_out.',
        querystring: querySchema,
        response: {
          200: tonnageResponseSchema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      assertDistrictInScope(principalOf(request), q.districtId);
      if (q.minPosition !== undefined) {
        // Read-your-writes: wait for the projection before reading it.
        const reached = await waitForCheckpoint(db, dailyTonnage.name, q.minPosition, q.waitMs);
        if (reached < q.minPosition) {
          throw new LedgerError(
            'LEDGER_ERR_NOT_CAUGHT_UP',
            `Daily tonnage reflects the log up to ${reached}, not yet ${q.minPosition}; retry shortly`,
            { checkpoint: reached, minPosition: q.minPosition },
          );
        }
      }
      return queryTonnage(db, q);
    },
  );
}
