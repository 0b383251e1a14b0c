import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { errorCatalogue, LedgerError, type ErrorCode } from '../../domain/errors/catalogue.js';
import { isStoreUnavailable } from '../../store/unavailable.js';

/** What a 503 for an unreachable database tells clients to wait before they retry. */
export const STORE_RETRY_AFTER_SECONDS = 2;

/** RFC 9457 problem details, as every error response of the API is shaped. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

function problemType(code: ErrorCode): string {
  return `https://waste-ledger.example/problems/${code.toLowerCase().replaceAll('_', '-')}`;
}

export function problem(
  code: ErrorCode,
  detail: string,
  extensions: Record<string, unknown> = {},
): ProblemDetails {
  const { status, title } = errorCatalogue[code];
  return { type: problemType(code), title, status, detail, code, ...extensions };
}

function send(reply: FastifyReply, body: ProblemDetails): FastifyReply {
  return reply.status(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/**
 * The one root error handler: typed ledger errors keep their code and details, validation and
 * client errors answer 4xx, and any other failure is logged and masked as a 500 (no stack trace
 * or SQL ever reaches a client).
 */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      // `/items/3/data/grossKg` in the body becomes `items[3].data.grossKg`.
      const errors = error.validation.map((v) => ({
        field: v.instancePath
          .split('/')
          .filter((part) => part !== '')
          .reduce(
            (acc, part) =>
              /^\d+$/.test(part) ? `${acc}[${part}]` : acc === '' ? part : `${acc}.${part}`,
            '',
          ),
        message: v.message ?? 'is not valid',
      }));
      const first = errors[0] ?? { field: '', message: 'is not valid' };
      const where = error.validationContext ?? 'request';
      return send(
        reply,
        problem(
          'LEDGER_ERR_INVALID_INPUT',
          `${where}${first.field === '' ? '' : `.${first.field}`}: ${first.message}`,
          {
            field: first.field,
            errors,
            instance: request.url,
          },
        ),
      );
    }
    if (error instanceof LedgerError) {
      return send(
        reply,
        problem(error.code, error.message, { ...error.details, instance: request.url }),
      );
    }
    if (error.code === 'FST_ERR_HANDLER_TIMEOUT') {
      return send(
        reply,
        problem('LEDGER_ERR_TIMED_OUT', 'The ledger did not answer in time; retry later.', {
          instance: request.url,
        }),
      );
    }
    if (isStoreUnavailable(error)) {
      // Not a bug: the database is restarting or out of reach. Say when to come back.
      request.log.warn({ err: error }, 'event store unavailable');
      void reply.header('retry-after', String(STORE_RETRY_AFTER_SECONDS));
      return send(
        reply,
        problem('LEDGER_ERR_STORE_UNAVAILABLE', 'The database cannot be reached; retry shortly.', {
          instance: request.url,
        }),
      );
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return send(reply, {
        ...problem('LEDGER_ERR_INVALID_INPUT', error.message, { instance: request.url }),
        status,
      });
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(
      reply,
      problem('LEDGER_ERR_INTERNAL', 'The ledger could not complete the request.', {
        instance: request.url,
      }),
    );
  });
  app.setNotFoundHandler((request, reply) =>
    send(reply, problem('LEDGER_ERR_NOT_FOUND', `No route ${request.method} ${request.url}`)),
  );
  // PostgreSQL text cannot hold NUL: a path or query parameter with %00 would fail the lookup
  // it is used in as a 500, so it is refused before any route runs.
  app.addHook('onRequest', async (request, reply) => {
    if (!/%00/.test(request.url)) return undefined;
    return send(
      reply,
      problem('LEDGER_ERR_INVALID_INPUT', 'the URL may not contain NUL (%00)', {
        instance: request.url,
      }),
    );
  });
}

/**
 * What fastify answers itself before routing (a URL that does not decode, a path parameter
 * longer than `maxParamLength`): passed as `frameworkErrors` to Fastify so that these answers
 * are problem+json too.
 */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    void send(reply, {
      ...problem('LEDGER_ERR_INVALID_INPUT', error.message, { instance: request.url }),
      status,
    });
    return;
  }
  request.log.error({ err: error }, 'unhandled framework error');
  void send(
    reply,
    problem('LEDGER_ERR_INTERNAL', 'The ledger could not complete the request.', {
      instance: request.url,
    }),
  );
}
