import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { exportLines, verifyStore } from '../../audit/log-audit.js';
import { lastSeal, sealingKeys, type Sealer } from '../../audit/sealer.js';
import { SEALS_STREAM, logSealedSchema } from '../../audit/seal-events.js';
import { LedgerError } from '../../domain/errors/catalogue.js';
import { publicKeyPem } from '../../integrity/signing.js';
import type { EventStore } from '../../store/port.js';
import { access } from '../access/policies.js';
import { LOG_READ_TIMEOUT_MS } from '../limits/limits.js';

export interface AuditRouteDependencies {
  readonly store: EventStore;
  /** Absent when this process does not hold the sealing key. */
  readonly sealer?: Sealer;
}

const keySchema = z.object({
  keyId: z.string(),
  publicKey: z.string().describe('base64 DER SubjectPublicKeyInfo'),
  publicKeyPem: z.string(),
  previousKeyId: z.string().nullable(),
  endorsement: z.string().nullable(),
});
const sealEntrySchema = z.object({ position: z.number().int(), seal: logSealedSchema });
const heldSeal = z
  .string()
  .regex(/^\d+:[0-9a-f]{64}$/, 'must be position:root, the root as 64 hex digits')
  // A position past 2^53 would be read as another one, and the answer would misquote it.
  .refine((v) => Number.isSafeInteger(Number(v.split(':')[0])), 'the position is too large')
  .transform((v) => {
    const [position, root] = v.split(':') as [string, string];
    return { position: Number(position), root };
  });

/** For auditors: the public keys, the seals, verification and export of the whole log. */
export function registerAuditRoutes(app: FastifyInstance, deps: AuditRouteDependencies): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/v1/audit/keys',
    {
      // Public on purpose: anyone may check a seal or an export against the ledger's keys.
      config: { access: access.public },
      schema: {
        tags: ['audit'],
        summary:
          'The sealing keys on record, oldest first; each later key is endorsed by the one before',
        response: {
          200: z.object({ currentKeyId: z.string().nullable(), keys: z.array(keySchema) }),
        },
      },
    },
    async () => {
      const keys = await sealingKeys(deps.store);
      return {
        currentKeyId: deps.sealer?.keyId ?? keys.at(-1)?.keyId ?? null,
        keys: keys.map((k) => ({ ...k, publicKeyPem: publicKeyPem(k.publicKey) })),
      };
    },
  );

  api.get(
    '/v1/audit/seals',
    {
      config: { access: access.audit },
      schema: {
        tags: ['audit'],
        summary: 'The latest seals, newest first: keep one to detect a log cut back later',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(20) }),
        response: { 200: z.object({ seals: z.array(sealEntrySchema) }) },
      },
    },
    async (request) => {
      const events = await deps.store.readStream(SEALS_STREAM, {
        direction: 'backwards',
        maxCount: request.query.limit,
      });
      return {
        seals: events.map((e) => ({ position: e.position, seal: logSealedSchema.parse(e.data) })),
      };
    },
  );

  api.post(
    '/v1/audit/seals',
    {
      config: { access: access.audit },
      schema: {
        tags: ['audit'],
        summary: 'Seal the log now (the server also seals periodically)',
        response: {
          201: sealEntrySchema,
          200: z.object({
            sealed: z.literal(false),
            reason: z.string(),
            last: sealEntrySchema.nullable(),
          }),
        },
      },
    },
    async (_request, reply) => {
      if (deps.sealer === undefined) {
        throw new LedgerError(
          'LEDGER_ERR_SEALING_UNAVAILABLE',
          'this server holds no sealing key: seal where LEDGER_SEAL_KEY_FILE is, or run `npm run audit -- seal`',
        );
      }
      const result = await deps.sealer.seal();
      if (result !== undefined)
        return reply.code(201).send({ position: result.position, seal: result.seal });
      const last = await lastSeal(deps.store);
      return reply.code(200).send({
        sealed: false as const,
        reason: 'nothing was appended since the last seal',
        last: last === undefined ? null : { position: last.event.position, seal: last.seal },
      });
    },
  );

  api.get(
    '/v1/audit/verify',
    {
      config: { access: access.audit },
      handlerTimeout: LOG_READ_TIMEOUT_MS,
      schema: {
        tags: ['audit'],
        summary: 'Recompute every hash chain, Merkle root and signature in the log',
        description:
          'Reads the whole log: on a large log this takes a while (the CLI, `npm run audit -- verify`, shows progress). ' +
          'The keys trusted are those given (publicKey, base64 DER, repeatable), or the first key in the log.',
        querystring: z.object({
          publicKey: z.union([z.string(), z.array(z.string())]).optional(),
          heldSeal: z.union([heldSeal, z.array(heldSeal)]).optional(),
          merkleWindow: z.coerce
            .number()
            .int()
            .min(1)
            .max(2 ** 24)
            .optional()
            .describe(
              'Merkle leaves kept for seals that arrive after their range ends (default 524 288); a window break says when to raise it',
            ),
        }),
      },
    },
    async (request) => {
      const { publicKey, heldSeal: held, merkleWindow } = request.query;
      const trustedKeys = publicKey === undefined ? [] : [publicKey].flat();
      const heldSeals = held === undefined ? [] : [held].flat();
      return verifyStore(deps.store, {
        trustedKeys,
        heldSeals,
        ...(merkleWindow === undefined ? {} : { merkleWindow }),
      });
    },
  );

  api.get(
    '/v1/audit/export',
    {
      config: { access: access.audit },
      handlerTimeout: LOG_READ_TIMEOUT_MS,
      schema: {
        tags: ['audit'],
        summary: 'The log (or a range of positions) as NDJSON with hashes and seals, streamed',
        querystring: z.object({
          from: z.coerce.number().int().min(1).optional(),
          to: z.coerce.number().int().min(1).optional(),
        }),
      },
    },
    async (request, reply) => {
      const { from, to } = request.query;
      const range = {
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
      };
      reply.header('content-type', 'application/x-ndjson; charset=utf-8');
      reply.header('content-disposition', 'attachment; filename="waste-ledger-export.ndjson"');
      const { Readable } = await import('node:stream');
      return reply.send(Readable.from(exportLines(deps.store, range)));
    },
  );
}
