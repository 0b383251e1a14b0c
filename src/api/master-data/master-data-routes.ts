import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LedgerError } from '../../domain/errors/catalogue.js';
import {
  districtSchema,
  plateSchema,
  siteSchema,
  vehicleSchema,
} from '../../domain/master-data/master-data.js';
import type { MasterData, Recorded } from '../../ingestion/master-data.js';
import { principalOf } from '../access/access-control.js';
import { access } from '../access/policies.js';

const recordedSchema = z.object({
  streamId: z.string(),
  revision: z.number().int(),
  position: z.number().int(),
  duplicate: z.boolean(),
});

/** Districts, sites and vehicles: registered once (the same body again is a no-op), then read. */
export function registerMasterDataRoutes(app: FastifyInstance, masterData: MasterData): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  /** One POST route per kind: 201 when registered, 200 when the same body was already. */
  const registration = <S extends z.ZodType>(
    path: string,
    body: S,
    register: (value: z.infer<S>, actor: string) => Promise<Recorded>,
  ) =>
    api.post(
      path,
      {
        config: { access: access.admin },
        schema: {
          tags: ['master data'],
          body,
          response: { 201: recordedSchema, 200: recordedSchema },
        },
      },
      async (request, reply) => {
        // The key that registered it is the event's actor.
        const recorded = await register(request.body as z.infer<S>, principalOf(request).keyId);
        return reply.status(recorded.duplicate ? 200 : 201).send(recorded);
      },
    );
  registration('/v1/districts', districtSchema, (d, actor) =>
    masterData.registerDistrict(d, actor),
  );
  registration('/v1/sites', siteSchema, (site, actor) => masterData.registerSite(site, actor));
  registration('/v1/vehicles', vehicleSchema, (v, actor) => masterData.registerVehicle(v, actor));
  api.get(
    '/v1/sites/:siteId',
    {
      config: { access: access.reference },
      schema: { tags: ['master data'], params: z.object({ siteId: z.string() }) },
    },
    async (request) => {
      const site = await masterData.site(request.params.siteId);
      if (site === undefined)
        throw new LedgerError('LEDGER_ERR_NOT_FOUND', `No site ${request.params.siteId}`);
      return site;
    },
  );
  api.get(
    '/v1/vehicles/:plate',
    {
      config: { access: access.reference },
      schema: { tags: ['master data'], params: z.object({ plate: plateSchema }) },
    },
    async (request) => {
      const vehicle = await masterData.vehicle(request.params.plate);
      if (vehicle === undefined)
        throw new LedgerError('LEDGER_ERR_NOT_FOUND', `No vehicle ${request.params.plate}`);
      return vehicle;
    },
  );
}
