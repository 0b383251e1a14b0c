import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyStore } from '../../src/access/key-store.js';
import { MAX_BATCH_ITEMS } from '../../src/api/reports/report-routes.js';
import { problemBody } from '../api/fixtures.js';
import { openProjectionDb, type ProjectionDb } from '../projections/fixtures.js';
import { authorization, bearer, buildTestApp, openKeyStore } from '../support/access.js';
import { pgliteHarness } from '../support/databases.js';

const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

/** Helmet's headers that every answer carries, whatever its status. */
const SECURITY_HEADERS = {
  'content-security-policy': expect.stringContaining("default-src 'self'") as unknown,
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

describe('request limits and security headers (PGlite)', () => {
  let ledger: ProjectionDb;
  let keys: KeyStore;
  /** Three requests a minute per key, CORS off (the default). */
  let limited: FastifyInstance;
  /** CORS for one origin; generous limits. */
  let withCors: FastifyInstance;

  beforeAll(async () => {
    ledger = await openProjectionDb(pgliteHarness);
    keys = await openKeyStore(ledger.db);
    const deps = { store: ledger.store, db: ledger.db, timeZone: 'Asia/Shanghai', keys };
    limited = await buildTestApp({ ...deps, limits: { rateLimitPerMinute: 3 } });
    withCors = await buildTestApp({
      ...deps,
      limits: { corsOrigins: ['https://dashboard.example.org'] },
    });
  });
  afterAll(async () => {
    await limited.close();
    await withCors.close();
    await ledger.close();
  });

  const newKey = async () =>
    (await keys.create({ role: 'auditor', sites: [], districts: [], label: 'limits' })).key;

  describe('rate limit per key', () => {
    it('answers 429 with Retry-After past the limit; another key is not limited', async () => {
      const [first, second] = [await newKey(), await newKey()];
      const ask = (key: string) =>
        limited.inject({ method: 'GET', url: '/v1/plans', headers: bearer(key) });
      for (let i = 0; i < 3; i++) expect((await ask(first)).statusCode).toBe(200);
      const refused = await ask(first);
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['content-type']).toBe(PROBLEM_TYPE);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(refused.json()).toEqual(
        problemBody(
          'LEDGER_ERR_RATE_LIMITED',
          'Too many requests for this API key',
          429,
          `More than 3 requests a minute with key ${first.slice(3, 19)}; retry in 1 minute`,
          { limitPerMinute: 3, instance: '/v1/plans' },
        ),
      );
      expect((await ask(second)).statusCode).toBe(200);
    });

    it('counts requests without a key per address', async () => {
      const ask = () => limited.inject({ method: 'GET', url: '/health/live' });
      for (let i = 0; i < 3; i++) expect((await ask()).statusCode).toBe(200);
      const refused = await ask();
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toMatchObject({
        code: 'LEDGER_ERR_RATE_LIMITED',
        detail: 'More than 3 requests a minute from this address; retry in 1 minute',
      });
    });
  });

  describe('security headers and CORS', () => {
    it('sends the security headers on answers and refusals alike, and no CORS by default', async () => {
      const origin = { origin: 'https://dashboard.example.org' };
      const key = await newKey();
      const ok = await limited.inject({
        method: 'GET',
        url: '/v1/rules',
        headers: { ...bearer(key), ...origin },
      });
      const refused = await limited.inject({ method: 'GET', url: '/v1/rules', headers: origin });
      for (const response of [ok, refused]) {
        expect(response.headers).toMatchObject(SECURITY_HEADERS);
        expect(response.headers['access-control-allow-origin']).toBeUndefined();
      }
      expect([ok.statusCode, refused.statusCode]).toEqual([200, 401]);
      const preflight = await limited.inject({
        method: 'OPTIONS',
        url: '/v1/rules',
        headers: { ...origin, 'access-control-request-method': 'GET' },
      });
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('answers CORS for a configured origin only, preflight without a key', async () => {
      const preflight = (origin: string) =>
        withCors.inject({
          method: 'OPTIONS',
          url: '/v1/rules',
          headers: {
            origin,
            'access-control-request-method': 'GET',
            'access-control-request-headers': 'authorization',
          },
        });
      const allowed = await preflight('https://dashboard.example.org');
      expect(allowed.statusCode).toBe(204);
      expect(allowed.headers).toMatchObject({
        'access-control-allow-origin': 'https://dashboard.example.org',
        'access-control-allow-methods': 'GET, POST, DELETE',
        'access-control-allow-headers': 'authorization, content-type',
      });
      const other = await preflight('https://elsewhere.example.com');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      const read = await withCors.inject({
        method: 'GET',
        url: '/v1/rules',
        headers: { ...authorization(withCors), origin: 'https://dashboard.example.org' },
      });
      expect(read.statusCode).toBe(200);
      expect(read.headers['access-control-allow-origin']).toBe('https://dashboard.example.org');
    });

    it('keeps the API documentation working under the content security policy', async () => {
      const page = await withCors.inject({ method: 'GET', url: '/docs/' });
      expect(page.statusCode).toBe(200);
      const csp = String(page.headers['content-security-policy']);
      // Scripts and styles are the UI's own files: 'self' admits them. Plain-http ledgers must
      // not have them upgraded to https, which would leave the page blank.
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('upgrade-insecure-requests');
      const scripts = [...page.body.matchAll(/<script([^>]*)>([^<]*)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attributes, inline] of scripts) {
        expect(attributes).toMatch(/src="\.\/static\/[\w.-]+\.js"/);
        expect(inline?.trim()).toBe('');
        const src = /src="\.\/(static\/[\w.-]+\.js)"/.exec(attributes ?? '')?.[1];
        const asset = await withCors.inject({ method: 'GET', url: `/docs/${src}` });
        expect({ src, status: asset.statusCode }).toEqual({ src, status: 200 });
      }
      const spec = await withCors.inject({ method: 'GET', url: '/docs/json' });
      expect(spec.statusCode).toBe(200);
    });
  });

  describe('sizes, time and failures', () => {
    it('refuses a body over 4 MiB (413) and a batch over the batch size (400)', async () => {
      const huge = JSON.stringify({ items: ['x'.repeat(4 * 1024 * 1024)] });
      const tooLarge = await withCors.inject({
        method: 'POST',
        url: '/v1/weighings/batch',
        headers: { ...authorization(withCors), 'content-type': 'application/json' },
        payload: huge,
      });
      expect(tooLarge.statusCode).toBe(413);
      expect(tooLarge.headers['content-type']).toBe(PROBLEM_TYPE);
      const tooMany = await withCors.inject({
        method: 'POST',
        url: '/v1/weighings/batch',
        headers: authorization(withCors),
        payload: { items: Array.from({ length: MAX_BATCH_ITEMS + 1 }, () => ({})) },
      });
      expect(tooMany.statusCode).toBe(400);
      expect(tooMany.json()).toMatchObject({ code: 'LEDGER_ERR_INVALID_INPUT', field: 'items' });
    });

    it('answers 503 when a request outlasts the handler timeout', async () => {
      const slow = await buildTestApp({
        store: ledger.store,
        db: ledger.db,
        timeZone: 'Asia/Shanghai',
        keys,
        limits: { handlerTimeoutMs: 200 },
      });
      try {
        // Waits for a position the read model will never reach (up to 5 s), cut at 200 ms.
        const url = '/v1/findings?from=2026-03-01&to=2026-03-02&minPosition=999999&waitMs=5000';
        const response = await slow.inject({ method: 'GET', url, headers: authorization(slow) });
        expect(response.statusCode).toBe(503);
        expect(response.json()).toEqual(
          problemBody(
            'LEDGER_ERR_TIMED_OUT',
            'The ledger did not answer in time',
            503,
            'The ledger did not answer in time; retry later.',
            { instance: url },
          ),
        );
      } finally {
        await slow.close();
      }
    });

    it('masks a database error as a 500 without message, stack or SQL', async () => {
      // The daily-tonnage read model was never set up here: its query fails in the database.
      const url = '/v1/tonnage?from=2026-03-01&to=2026-03-02';
      const response = await withCors.inject({
        method: 'GET',
        url,
        headers: authorization(withCors),
      });
      expect(response.statusCode).toBe(500);
      expect(response.headers['content-type']).toBe(PROBLEM_TYPE);
      expect(response.json()).toEqual(
        problemBody(
          'LEDGER_ERR_INTERNAL',
          'Internal error',
          500,
          'The ledger could not complete the request.',
          { instance: url },
        ),
      );
      expect(response.body).not.toMatch(/select|relation|daily_tonnage|at .*\.ts|stack/i);
    });
  });
});
