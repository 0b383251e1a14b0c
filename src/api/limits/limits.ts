import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { LedgerError } from '../../domain/errors/catalogue.js';

/** What one client may ask of the API; `main` reads them from the configuration. */
export interface HttpLimits {
  /** Requests per minute per API key (per address for requests without one). */
  readonly rateLimitPerMinute: number;
  /** Time to receive a whole request (headers and body); slow senders are cut off. */
  readonly requestTimeoutMs: number;
  /** Time to answer once received: 503 after it, and `request.signal` aborts. */
  readonly handlerTimeoutMs: number;
  /** Idle time after which a socket is closed; 0: never (Node's default). */
  readonly connectionTimeoutMs: number;
  /** Origins a browser may call the API from; none: no CORS headers at all. */
  readonly corsOrigins: readonly string[];
}

export const defaultLimits: HttpLimits = {
  // Generous: a weighbridge posting batches, or a dashboard, stays far below it.
  rateLimitPerMinute: 6000,
  requestTimeoutMs: 30_000,
  // Above the longest read-your-writes wait (30 s); verification and export have their own.
  handlerTimeoutMs: 120_000,
  connectionTimeoutMs: 0,
  corsOrigins: [],
};

/** Verification and export read the whole log: allowed this long whatever the default. */
export const LOG_READ_TIMEOUT_MS = 60 * 60 * 1000;

/**
 * Security headers on every answer, and CORS only when origins are configured. Registered
 * before access control, so that 401s carry the headers too and a CORS preflight (which
 * carries no credentials) is answered before any key is asked for.
 */
export async function registerSecurityHeaders(
  app: FastifyInstance,
  corsOrigins: readonly string[],
): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      // Helmet's defaults suit the /docs UI (its scripts and styles are files of its own);
      // but `upgrade-insecure-requests` would make browsers fetch them over https from a
      // ledger served over plain http on a LAN, and the page would stay blank.
      directives: { upgradeInsecureRequests: null },
    },
  });
  if (corsOrigins.length === 0) return;
  await app.register(cors, {
    origin: [...corsOrigins],
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type'],
    exposedHeaders: ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining'],
    // Keys travel in a header, never in cookies: browsers need not send credentials.
    credentials: false,
    maxAge: 600,
  });
}

/**
 * A per-key rate limit (in memory: each server process counts its own requests). Registered
 * after access control, so that it keys on the authenticated key id; public routes and
 * requests without a valid key count per address.
 */
export async function registerRateLimit(app: FastifyInstance, perMinute: number): Promise<void> {
  await app.register(rateLimit, {
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: (request) =>
      request.principal === null ? `ip:${request.ip}` : `key:${request.principal.keyId}`,
    errorResponseBuilder: (request, context) =>
      new LedgerError(
        'LEDGER_ERR_RATE_LIMITED',
        `More than ${context.max} requests a minute ${request.principal === null ? 'from this address' : `with key ${request.principal.keyId}`}; retry in ${context.after}`,
        { limitPerMinute: context.max },
      ),
  });
}
