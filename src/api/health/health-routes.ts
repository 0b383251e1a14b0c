import type { FastifyInstance } from 'fastify';
import type { EventStore } from '../../store/port.js';

/** Liveness and the log's head, so an operator can see the ledger breathe. */
export function registerHealthRoutes(app: FastifyInstance, store: EventStore): void {
  app.get('/health', async () => ({ status: 'ok', headPosition: await store.headPosition() }));
}
