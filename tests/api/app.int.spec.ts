import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorization, buildTestApp } from '../support/access.js';
import { pgliteHarness, type OpenedStore } from '../support/databases.js';

describe('HTTP API skeleton (PGlite)', () => {
  let opened: OpenedStore;
  beforeAll(async () => {
    opened = await pgliteHarness.open();
  });
  afterAll(() => opened.close());

  it('reports health with the head position', async () => {
    await opened.store.append(
      'health-1',
      [{ id: '0b7c2a52-3f1d-4c55-9a0e-0d1f5a3c9e01', type: 'Probe', data: {} }],
      { expectedRevision: 'no_stream' },
    );
    const app = await buildTestApp({
      store: opened.store,
      db: opened.db as never,
      timeZone: 'Asia/Shanghai',
    });
    const response = await app.inject({
      method: 'GET',
      url: '/health',
      headers: authorization(app),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', headPosition: 1 });
  });

  it('answers an unknown route with problem+json', async () => {
    const app = await buildTestApp({
      store: opened.store,
      db: opened.db as never,
      timeZone: 'Asia/Shanghai',
    });
    const response = await app.inject({
      method: 'GET',
      url: '/nowhere',
      headers: authorization(app),
    });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toEqual({
      type: 'https://waste-ledger.example/problems/ledger-err-not-found',
      title: 'Not found',
      status: 404,
      code: 'LEDGER_ERR_NOT_FOUND',
      detail: 'No route GET /nowhere',
    });
  });

  it('masks an unexpected failure as a 500 without internals', async () => {
    const failing = {
      ...opened.store,
      headPosition: () => Promise.reject(new Error('SELECT secret FROM x')),
    };
    const app = await buildTestApp({
      store: failing,
      db: opened.db as never,
      timeZone: 'Asia/Shanghai',
    });
    const response = await app.inject({
      method: 'GET',
      url: '/health',
      headers: authorization(app),
    });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      type: 'https://waste-ledger.example/problems/ledger-err-internal',
      title: 'Internal error',
      status: 500,
      code: 'LEDGER_ERR_INTERNAL',
      detail: 'The ledger could not complete the request.',
      instance: '/health',
    });
  });
});
