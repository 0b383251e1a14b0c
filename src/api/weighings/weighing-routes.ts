import type { FastifyInstance } from 'fastify';
import type { WeighingCommand } from '../../domain/weighing/commands.js';
import type { WeighingIngestion } from '../../ingestion/weighing-ingestion.js';
import type { EventStore } from '../../store/port.js';
import { registerReportRoutes } from '../reports/report-routes.js';
import { weighingItemSchema } from './weighing-items.js';

export { MAX_BATCH_ITEMS } from '../reports/report-routes.js';

/** Weighbridge reports: POST /v1/weighings and /v1/weighings/batch. */
export function registerWeighingRoutes(
  app: FastifyInstance,
  deps: { ingestion: WeighingIngestion; store: EventStore; clock: () => number },
): void {
  registerReportRoutes<WeighingCommand>(app, {
    path: '/v1/weighings',
    tag: 'weighings',
    itemSchema: weighingItemSchema,
    siteOf: (command) => command.data.siteId,
    ingest: (items, options) => deps.ingestion.ingest(items, options),
    store: deps.store,
    clock: deps.clock,
  });
}
