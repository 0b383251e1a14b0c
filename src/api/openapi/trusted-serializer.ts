import type { FastifySerializerCompiler } from 'fastify/types/schema.js';

/**
 * For routes that answer with many rows built by the ledger's own typed code (a batch's results,
 * tonnage tables): their response schema still documents the answer in OpenAPI, but the answer
 * is written with plain JSON.stringify instead of being parsed through zod first, which took
 * more time than the database query on a month of tonnage. The TypeScript types of the handler
 * keep the shape; the API tests check it against the schema.
 */
export const trustedJsonSerializer: FastifySerializerCompiler<unknown> = () => (data) =>
  JSON.stringify(data);
