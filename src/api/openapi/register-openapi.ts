import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { access } from '../access/policies.js';
import { DOCS_PREFIX } from '../access/access-control.js';

/** zod validates requests and serialises responses; the same schemas generate the OpenAPI document. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Waste ledger',
        description:
          'Event-sourced ledger for municipal waste: weighbridge ingestion and tonnage. Errors are RFC 9457 problem+json.',
        version: '0.1.0',
      },
      // So that the docs page can send a key (its Authorize button); see README, Access control.
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key, wl_<key id>_<secret>, as `npm run keys -- create` prints it',
          },
        },
      },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  app.get('/openapi.json', { schema: { hide: true }, config: { access: access.public } }, () =>
    app.swagger(),
  );
}
