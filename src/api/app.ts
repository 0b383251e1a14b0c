import Fastify, { type FastifyInstance } from 'fastify';
import type { EventStore } from '../store/port.js';
import { registerHealthRoutes } from './health/health-routes.js';
import { registerProblemHandlers } from './problems/problem-details.js';

export interface AppDependencies {
  readonly store: EventStore;
  readonly logger?: boolean;
}

/** Builds the HTTP API without listening (tests use `app.inject`). */
export function buildApp(deps: AppDependencies): FastifyInstance {
  const app = Fastify({ logger: deps.logger ?? false, bodyLimit: 1024 * 1024 });
  registerProblemHandlers(app);
  registerHealthRoutes(app, deps.store);
  return app;
}
