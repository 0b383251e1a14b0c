import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/store/port.js';
import { authorization, buildTestApp } from '../support/access.js';
import { pgliteHarness, type OpenedStore } from '../support/databases.js';

/** The one way this file calls the API: it needs the Retry-After header as well as the body. */
async function getWithHeaders(app: FastifyInstance, url: string) {
  const response = await app.inject({ method: 'GET', url, headers: authorization(app) });
  return {
    statusCode: response.statusCode,
    contentType: response.headers['content-type'],
    retryAfter: response.headers['retry-after'],
    body: response.json<unknown>(),
  };
}

describe('a database that cannot be reached (PGlite, with a store that fails as pg does)', () => {
  let opened: OpenedStore;
  beforeAll(async () => {
    opened = await pgliteHarness.open();
  });
  afterAll(async () => {
    await opened.close();
  });

  const failingWith = (error: Error): EventStore => ({
    ...opened.store,
    headPosition: () => Promise.reject(error),
  });

  it('answers 503 problem+json with Retry-After, and no driver detail', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    const app = await buildTestApp({
      store: failingWith(refused),
      db: opened.db as never,
      timeZone: 'Asia/Shanghai',
    });
    expect(await getWithHeaders(app, '/health')).toEqual({
      statusCode: 503,
      contentType: 'application/problem+json; charset=utf-8',
      retryAfter: '2',
      body: {
        type: 'https://waste-ledger.example/problems/ledger-err-store-unavailable',
        title: 'The event store cannot be reached',
        status: 503,
        detail: 'The database cannot be reached; retry shortly.',
        code: 'LEDGER_ERR_STORE_UNAVAILABLE',
        instance: '/health',
      },
    });
    await app.close();
  });

  it('still answers any other failure as a masked 500, without Retry-After', async () => {
    const app = await buildTestApp({
      store: failingWith(Object.assign(new Error('SELECT secret FROM x'), { code: '42601' })),
      db: opened.db as never,
      timeZone: 'Asia/Shanghai',
    });
    const response = await getWithHeaders(app, '/health');
    expect(response).toMatchObject({ statusCode: 500, retryAfter: undefined });
    expect(response.body).toMatchObject({ code: 'LEDGER_ERR_INTERNAL' });
    await app.close();
  });
});
