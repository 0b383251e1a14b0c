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
import type { MasterData } from '../../ingestion/master-data.js';

const recordedSchema = z.object({
  streamId: z.string(),
  revision: z.number().int(),
  position: z.number().int(),
  duplicate: z.boolean(),
});

/** Districts, sites and vehicles: registered once (the same body again is a no-op), then read. */
export function registerMasterDataRoutes(app: FastifyInstance, masterData: MasterData): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const actor = 'api';

  api.post(
    '/v1/districts',
    {
      schema: {
        tags: ['master data'],
        body: districtSchema,
        response: { 201: recordedSchema, 200: recordedSchema },
      },
    },
    async (request, reply) => {
      const recorded = await masterData.registerDistrict(request.body, actor);
      return reply.status(recorded.duplicate ? 200 : 201).send(recorded);
    },
  );
  api.post(
    '/v1/sites',
    {
      schema: {
        tags: ['master data'],
        body: siteSchema,
        response: { 201: recordedSchema, 200: recordedSchema },
      },
    },
    async (request, reply) => {
      const recorded = await masterData.registerSite(request.body, actor);
      return reply.status(recorded.duplicate ? 200 : 201).send(recorded);
    },
  );
  api.post(
    '/v1/vehicles',
    {
      schema: {
        tags: ['master data'],
        body: vehicleSchema,
        response: { 201: recordedSchema, 200: recordedSchema },
      },
    },
    async (request, reply) => {
      const recorded = await masterData.registerVehicle(request.body, actor);
      return reply.status(recorded.duplicate ? 200 : 201).send(recorded);
    },
  );
  api.get(
    '/v1/sites/:siteId',
    { schema: { tags: ['master data'], params: z.object({ siteId: z.string() }) } },
    async (request) => {
      const site = await masterData.site(request.params.siteId);
      if (site === undefined)
        throw new LedgerError('LEDGER_ERR_NOT_FOUND', `No site ${request.params.siteId}`);
      return site;
    },
  );
  api.get(
    '/v1/vehicles/:plate',
    { schema: { tags: ['master data'], params: z.object({ plate: plateSchema }) } },
    async (request) => {
      const vehicle = await masterData.vehicle(request.params.plate);
      if (vehicle === undefined)
        throw new LedgerError('LEDGER_ERR_NOT_FOUND', `No vehicle ${request.params.plate}`);
      return vehicle;
    },
  );
}
