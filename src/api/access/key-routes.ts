import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { KEY_CACHE_TTL_MS, type KeyStore } from '../../access/key-store.js';
import { newKeySchema } from '../../access/new-key.js';
import { roles } from '../../access/roles.js';
import { LedgerError } from '../../domain/errors/catalogue.js';
import { access } from './policies.js';

const keyRecordSchema = z.object({
  keyId: z.string(),
  role: z.enum(roles),
  sites: z.array(z.string()),
  districts: z.array(z.string()).describe('empty: city-wide'),
  label: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});

/**
 * API keys, for the administrator: the same as `npm run keys`, for when the server holds the
 * embedded database (one process at a time) or is out of reach of a shell.
 */
export function registerKeyRoutes(app: FastifyInstance, keys: KeyStore): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/v1/keys',
    {
      config: { access: access.admin },
      schema: {
        tags: ['access'],
        summary: 'Every API key, revoked ones included (never their secrets)',
        response: { 200: z.object({ keys: z.array(keyRecordSchema) }) },
      },
    },
    async () => ({ keys: await keys.list() }),
  );

  api.post(
    '/v1/keys',
    {
      config: { access: access.admin },
      schema: {
        tags: ['access'],
        summary: 'Create a key: the answer is the only time the key itself is shown',
        body: newKeySchema,
        response: {
          201: keyRecordSchema.extend({ key: z.string(), warning: z.string() }),
        },
      },
    },
    async (request, reply) => {
      const { key, record } = await keys.create(request.body);
      return reply.status(201).send({
        ...record,
        key,
        warning: 'Store this key now: the ledger keeps only its hash and cannot show it again.',
      });
    },
  );

  api.delete(
    '/v1/keys/:keyId',
    {
      config: { access: access.admin },
      schema: {
        tags: ['access'],
        summary: `Revoke a key: refused at once by this server, by other servers within ${KEY_CACHE_TTL_MS / 1000} s (their cache)`,
        params: z.object({ keyId: z.string() }),
        response: { 200: keyRecordSchema },
      },
    },
    async (request) => {
      const record = await keys.revoke(request.params.keyId);
      if (record === undefined) {
        throw new LedgerError('LEDGER_ERR_NOT_FOUND', `No key ${request.params.keyId}`);
      }
      return record;
    },
  );
}
