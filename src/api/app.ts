import Fastify, { type FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { MasterData } from '../ingestion/master-data.js';
import { TripIngestion } from '../ingestion/trip-ingestion.js';
import { WeighingIngestion } from '../ingestion/weighing-ingestion.js';
import type { EventStore } from '../store/port.js';
import { ComplianceIndicators, sqlComplianceSource } from '../compliance/compliance-report.js';
import type { Sealer } from '../audit/sealer.js';
import type { KeyStore } from '../access/key-store.js';
import { registerAccessControl } from './access/access-control.js';
import { registerKeyRoutes } from './access/key-routes.js';
import { registerAuditRoutes } from './audit/audit-routes.js';
import { registerComplianceRoutes } from './compliance/compliance-routes.js';
import { registerFindingsRoutes } from './findings/findings-routes.js';
import { registerHealthRoutes } from './health/health-routes.js';
import {
  defaultLimits,
  registerRateLimit,
  registerSecurityHeaders,
  type HttpLimits,
} from './limits/limits.js';
import { registerMasterDataRoutes } from './master-data/master-data-routes.js';
import { registerOpenApi } from './openapi/register-openapi.js';
import { answerFrameworkError, registerProblemHandlers } from './problems/problem-details.js';
import { registerTicketRoutes } from './tickets/ticket-routes.js';
import { registerTonnageRoutes } from './tonnage/tonnage-routes.js';
import { registerTripRoutes } from './trips/trip-routes.js';
import { registerWeighingRoutes } from './weighings/weighing-routes.js';

export interface AppDependencies {
  readonly store: EventStore;
  /** Where read models live (the tonnage query reads it). */
  readonly db: Kysely<unknown>;
  /** IANA zone of business days. */
  readonly timeZone: string;
  /** The API keys every request but the public ones is authenticated against. */
  readonly keys: KeyStore;
  /** Rate limit, timeouts and CORS; defaults where left out. */
  readonly limits?: Partial<HttpLimits>;
  readonly logger?: boolean;
  readonly isShuttingDown?: () => boolean;
  /** Signs seals on `POST /v1/audit/seals`; without it, that route answers 503. */
  readonly sealer?: Sealer;
  /** The ledger's clock (ms since the epoch); tests fix it. */
  readonly clock?: () => number;
}

/** A batch of 1 000 reports with their data stays well under this. */
const BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/** Builds the HTTP API without listening (tests use `app.inject`). */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const limits = { ...defaultLimits, ...deps.limits };
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    ...(limits.handlerTimeoutMs > 0 ? { handlerTimeout: limits.handlerTimeoutMs } : {}),
    frameworkErrors: answerFrameworkError,
  });
  registerProblemHandlers(app);
  // Order matters: headers (and the CORS preflight) first, then who is calling, then how often.
  await registerSecurityHeaders(app, limits.corsOrigins);
  registerAccessControl(app, deps.keys);
  await registerRateLimit(app, limits.rateLimitPerMinute);
  await registerOpenApi(app);
  const masterData = new MasterData(deps.store);
  const ingestion = new WeighingIngestion(deps.store, masterData, deps.timeZone);
  registerHealthRoutes(app, deps.store, deps.isShuttingDown);
  registerKeyRoutes(app, deps.keys);
  registerTicketRoutes(app, { store: deps.store, masterData });
  registerMasterDataRoutes(app, masterData);
  const clock = deps.clock ?? Date.now;
  registerWeighingRoutes(app, { ingestion, store: deps.store, clock });
  registerTripRoutes(app, { ingestion: new TripIngestion(deps.store), store: deps.store, clock });
  registerTonnageRoutes(app, deps.db);
  registerComplianceRoutes(app, {
    indicators: new ComplianceIndicators(sqlComplianceSource(deps.db, masterData), deps.timeZone),
    clock,
  });
  registerFindingsRoutes(app, { db: deps.db, masterData, timeZone: deps.timeZone, clock });
  registerAuditRoutes(app, {
    store: deps.store,
    ...(deps.sealer === undefined ? {} : { sealer: deps.sealer }),
  });
  await app.ready();
  return app;
}
