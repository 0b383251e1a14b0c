import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LedgerError } from '../../domain/errors/catalogue.js';
import type { ItemOutcome, WeighingIngestion } from '../../ingestion/weighing-ingestion.js';
import type { EventStore } from '../../store/port.js';
import { problem } from '../problems/problem-details.js';
import { parseWeighingItem, weighingItemSchema } from './weighing-items.js';

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

function itemResult(index: number, outcome: ItemOutcome) {
  if (outcome.status === 'rejected') {
    const { error } = outcome;
    return {
      index,
      eventId: outcome.eventId,
      status: 'rejected' as const,
      problem: problem(error.code, error.message, { ...error.details }),
    };
  }
  return { index, ...outcome, findings: [...outcome.findings] };
}

/** Weighbridge reports, one at a time or up to 1 000 per batch with an outcome per item. */
export function registerWeighingRoutes(
  app: FastifyInstance,
  deps: { ingestion: WeighingIngestion; store: EventStore },
): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/v1/weighings',
    {
      schema: {
        tags: ['weighings'],
        description:
          'Records one weighbridge report. 201 when recorded, 200 when the same event id was already recorded with the same content (a retry); problem+json otherwise.',
        body: weighingItemSchema,
        response: { 201: acceptedSchema, 200: acceptedSchema },
      },
    },
    async (request, reply) => {
      const { eventId, type, data } = request.body;
      const item = parseWeighingItem({ eventId, type, data }, '');
      const [outcome] = await deps.ingestion.ingest([item], {
        now: Date.now(),
        actor: 'api',
        correlationId: request.id,
      });
      if (outcome === undefined) throw new LedgerError('LEDGER_ERR_INTERNAL', 'no outcome');
      if (outcome.status === 'rejected') throw outcome.error;
      return reply
        .status(outcome.status === 'recorded' ? 201 : 200)
        .send({ ...outcome, findings: [...outcome.findings] });
    },
  );

  api.post(
    '/v1/weighings/batch',
    {
      schema: {
        tags: ['weighings'],
        description:
          'Records up to 1 000 reports (each shaped as the body of POST /v1/weighings). Answers 200 with one result per item, in order: recorded, duplicate (a retry) or rejected with its problem. Items are checked one by one, so one bad item does not refuse the others.',
        body: z.object({ items: z.array(z.unknown()).min(1).max(MAX_BATCH_ITEMS) }),
        response: {
          200: z.object({ results: z.array(itemResultSchema), headPosition: z.number().int() }),
        },
      },
    },
    async (request) => {
      const results: z.infer<typeof itemResultSchema>[] = [];
      const valid: { index: number; item: ReturnType<typeof parseWeighingItem> }[] = [];
      request.body.items.forEach((raw, index) => {
        try {
          valid.push({ index, item: parseWeighingItem(raw, `items[${index}]`) });
        } catch (error) {
          if (!(error instanceof LedgerError)) throw error;
          results[index] = {
            index,
            status: 'rejected',
            problem: problem(error.code, error.message, { ...error.details }),
          };
        }
      });
      const outcomes = await deps.ingestion.ingest(
        valid.map((v) => v.item),
        { now: Date.now(), actor: 'api', correlationId: request.id ?? randomUUID() },
      );
      outcomes.forEach((outcome, k) => {
        const index = valid[k]?.index ?? -1;
        results[index] = itemResult(index, outcome);
      });
      return { results, headPosition: await deps.store.headPosition() };
    },
  );
}
