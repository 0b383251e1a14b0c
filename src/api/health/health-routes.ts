import type { FastifyInstance } from 'fastify';
import type { EventStore } from '../../store/port.js';
import { access } from '../access/policies.js';

/**
 * Liveness (the process answers) and readiness (the store answers, and the process is not
 * shutting down), for an orchestrator; /health also reports the log's head.
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  store: EventStore,
  isShuttingDown: () => boolean = () => false,
): void {
  const config = { access: access.public };
  app.get('/health', { config }, async () => ({
    status: 'ok',
    headPosition: await store.headPosition(),
  }));
  app.get('/health/live', { config }, () => ({ status: 'ok' }));
  app.get('/health/ready', { config }, async (_request, reply) => {
    if (isShuttingDown()) return reply.status(503).send({ status: 'shutting down' });
    try {
      return { status: 'ready', headPosition: await store.headPosition() };
    } catch {
      return reply.status(503).send({ status: 'store unavailable' });
    }
  });
}
