import type { FastifyInstance } from 'fastify';
import { tripCommandSchemas, type TripCommand } from '../../domain/trips/commands.js';
import type { TripIngestion } from '../../ingestion/trip-ingestion.js';
import type { EventStore } from '../../store/port.js';
import { reportItemSchema } from '../reports/report-items.js';
import { registerReportRoutes } from '../reports/report-routes.js';

/** Vehicle-trip reports (dispatch, collection, arrival, departure): POST /v1/trips[/batch]. */
export function registerTripRoutes(
  app: FastifyInstance,
  deps: { ingestion: TripIngestion; store: EventStore; clock: () => number },
): void {
  registerReportRoutes<TripCommand>(app, {
    path: '/v1/trips',
    tag: 'trips',
    itemSchema: reportItemSchema(tripCommandSchemas),
    // Dispatch and collection name no site: a station key cannot post them (an admin can).
    siteOf: (command) => ('siteId' in command.data ? command.data.siteId : undefined),
    ingest: (items, options) => deps.ingestion.ingest(items, options),
    store: deps.store,
    clock: deps.clock,
  });
}
