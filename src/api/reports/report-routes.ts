import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { assertSiteInScope } from '../../access/scope.js';
import type { Principal } from '../../access/roles.js';
import { LedgerError } from '../../domain/errors/catalogue.js';
import type { IngestOptions, ItemOutcome } from '../../ingestion/weighing-ingestion.js';
import type { EventStore } from '../../store/port.js';
import { principalOf } from '../access/access-control.js';
import { access } from '../access/policies.js';
import { trustedJsonSerializer } from '../openapi/trusted-serializer.js';
import { problem } from '../problems/problem-details.js';
import { parseReportItem } from './report-items.js';

export const MAX_BATCH_ITEMS = 1000;

const acceptedSchema = z.object({
  status: z.enum(['recorded', 'duplicate']),
  eventId: z.string(),
  streamId: z.string(),
  revision: z.number().int(),
  position: z.number().int(),
  findings: z.array(z.string()),
});

const itemResultSchema = z.object({
  index: z.number().int(),
  eventId: z.string().optional(),
  status: z.enum(['recorded', 'duplicate', 'rejected']),
  streamId: z.string().optional(),
  revision: z.number().int().optional(),
  position: z.number().int().optional(),
  findings: z.array(z.string()).optional(),
  problem: z.record(z.string(), z.unknown()).optional(),
});
type ItemResult = z.infer<typeof itemResultSchema>;

/** What POST <path>/batch answers (documented in OpenAPI; tests hold answers to it). */
export const batchResponseSchema = z.object({
  results: z.array(itemResultSchema),
  headPosition: z.number().int(),
});

function itemResult(index: number, outcome: ItemOutcome): ItemResult {
  if (outcome.status === 'rejected') {
    const { error } = outcome;
    return {
      index,
      eventId: outcome.eventId,
      status: 'rejected',
      problem: problem(error.code, error.message, { ...error.details }),
    };
  }
  return { index, ...outcome, findings: [...outcome.findings] };
}

export interface ReportRoutes<C> {
  /** e.g. `/v1/weighings`: POST there for one report, POST `<path>/batch` for many. */
  readonly path: string;
  readonly tag: string;
  /** What one report looks like (also the OpenAPI body of the single route). */
  readonly itemSchema: z.ZodType;
  /** The site a report is for (a station key may post only for its own), if it names one. */
  readonly siteOf: (command: C) => string | undefined;
  readonly ingest: (
    items: readonly { eventId: string; command: C }[],
    options: IngestOptions,
  ) => Promise<ItemOutcome[]>;
  readonly store: EventStore;
  /** The ledger's clock (ms since the epoch): the 10-minutes-ahead rule is judged against it. */
  readonly clock: () => number;
}

/**
 * Registers the two ways to post reports: one at a time (201 recorded, 200 duplicate, or the
 * problem) and in batches of up to 1 000 with an outcome per item, checked one by one so that
 * one bad item does not refuse the others.
 */
export function registerReportRoutes<C>(app: FastifyInstance, routes: ReportRoutes<C>): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  // The key that posted the reports is the actor of every event they record.
  const options = (principal: Principal, correlationId: string): IngestOptions => ({
    now: routes.clock(),
    actor: principal.keyId,
    correlationId,
  });

  api.post(
    routes.path,
    {
      config: { access: access.report },
      schema: {
        tags: [routes.tag],
        description:
          'Records one report. 201 when recorded, 200 when the same event id was already recorded with the same content (a retry); problem+json otherwise.',
        body: routes.itemSchema,
        response: { 201: acceptedSchema, 200: acceptedSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const item = parseReportItem<C>(routes.itemSchema, request.body, '');
      assertSiteInScope(principal, routes.siteOf(item.command));
      const [outcome] = await routes.ingest([item], options(principal, request.id));
      if (outcome === undefined) throw new LedgerError('LEDGER_ERR_INTERNAL', 'no outcome');
      if (outcome.status === 'rejected') throw outcome.error;
      return reply
        .status(outcome.status === 'recorded' ? 201 : 200)
        .send({ ...outcome, findings: [...outcome.findings] });
    },
  );

  api.post(
    `${routes.path}/batch`,
    {
      config: { access: access.report },
      serializerCompiler: trustedJsonSerializer,
      schema: {
        tags: [routes.tag],
        description: `Records up to ${MAX_BATCH_ITEMS} reports (each shaped as the body of POST ${routes.path}). Answers 200 with one result per item, in order: recorded, duplicate (a retry) or rejected with its problem.`,
        body: z.object({ items: z.array(z.unknown()).min(1).max(MAX_BATCH_ITEMS) }),
        response: {
          200: batchResponseSchema,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const results: ItemResult[] = [];
      const valid: { index: number; item: { eventId: string; command: C } }[] = [];
      request.body.items.forEach((raw, index) => {
        let eventId: string | undefined;
        try {
          const item = parseReportItem<C>(routes.itemSchema, raw, `items[${index}]`);
          eventId = item.eventId;
          // Another site's report is refused alone (403); the rest of the batch goes on.
          assertSiteInScope(principal, routes.siteOf(item.command));
          valid.push({ index, item });
        } catch (error) {
          if (!(error instanceof LedgerError)) throw error;
          results[index] = {
            index,
            ...(eventId === undefined ? {} : { eventId }),
            status: 'rejected',
            problem: problem(error.code, error.message, { ...error.details }),
          };
        }
      });
      const outcomes = await routes.ingest(
        valid.map((v) => v.item),
        options(principal, request.id),
      );
      outcomes.forEach((outcome, k) => {
        const index = valid[k]?.index ?? -1;
        results[index] = itemResult(index, outcome);
      });
      return { results, headPosition: await routes.store.headPosition() };
    },
  );
}
