import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/access/api-key.js';
import { get, post, problemBody } from '../api/fixtures.js';
import { openProjectionDb, type ProjectionDb } from '../projections/fixtures.js';
import { authorization, bearer, buildTestApp } from '../support/access.js';
import { pgliteHarness, postgresAvailable, postgresHarness } from '../support/databases.js';

const postgres = await postgresAvailable();

const UNAUTHENTICATED = 'No valid API key: send Authorization: Bearer <key>';
const FORBIDDEN = "The API key's role or scope does not allow this";
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';
const ISO = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) as unknown;

describe.each([
  { harness: pgliteHarness, skip: false },
  { harness: postgresHarness, skip: !postgres },
])('authentication and key routes on $harness.name', ({ harness, skip }) => {
  let ledger: ProjectionDb;
  let app: FastifyInstance;

  beforeAll(async () => {
    if (skip) return;
    ledger = await openProjectionDb(harness);
    app = await buildTestApp({ store: ledger.store, db: ledger.db, timeZone: 'Asia/Shanghai' });
  });
  afterAll(async () => {
    if (skip) return;
    await app.close();
    await ledger.close();
  });

  const send = (url: string, headers: Record<string, string>) =>
    app.inject({ method: 'GET', url, headers });

  describe.skipIf(skip)('401: no valid key', () => {
    it('without a key: the problem, and the Bearer challenge', async () => {
      const response = await send('/v1/plans', {});
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="waste-ledger"');
      expect(response.headers['content-type']).toBe(PROBLEM_TYPE);
      expect(response.json()).toEqual(
        problemBody(
          'LEDGER_ERR_UNAUTHENTICATED',
          UNAUTHENTICATED,
          401,
          'This route needs an API key: Authorization: Bearer <key>',
          { instance: '/v1/plans' },
        ),
      );
    });

    it.each([
      ['a malformed key', 'Bearer not-a-key'],
      ['an unknown key', `Bearer ${generateApiKey().key}`],
      ['another scheme', `Basic ${Buffer.from('admin:admin').toString('base64')}`],
      ['an empty bearer', 'Bearer '],
    ])('with %s: invalid_token', async (_what, header) => {
      const response = await send('/v1/plans', { authorization: header });
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe(
        'Bearer realm="waste-ledger", error="invalid_token"',
      );
      expect(response.json()).toEqual(
        problemBody(
          'LEDGER_ERR_UNAUTHENTICATED',
          UNAUTHENTICATED,
          401,
          'The API key is not valid, or it was revoked',
          { instance: '/v1/plans' },
        ),
      );
    });

    it('with the right key id but another secret', async () => {
      const created = await post(app, '/v1/keys', { role: 'auditor' });
      const { key } = created.body as { key: string };
      const forged = `${key.slice(0, 20)}${generateApiKey().key.slice(20)}`;
      expect((await send('/v1/audit/seals', bearer(key))).statusCode).toBe(200);
      expect((await send('/v1/audit/seals', bearer(forged))).statusCode).toBe(401);
    });
  });

  describe.skipIf(skip)('403: a role the route does not admit', () => {
    it('an auditor may not register master data', async () => {
      const { key, keyId } = (await post(app, '/v1/keys', { role: 'auditor' })).body as {
        key: string;
        keyId: string;
      };
      const response = await post(
        app,
        '/v1/districts',
        { districtId: 'auth-d1', name: 'x', jurisdiction: 'jinan' },
        bearer(key),
      );
      expect(response).toEqual({
        statusCode: 403,
        contentType: PROBLEM_TYPE,
        body: problemBody(
          'LEDGER_ERR_FORBIDDEN',
          FORBIDDEN,
          403,
          `The auditor key ${keyId} may not call POST /v1/districts (allowed: admin)`,
          { keyId, role: 'auditor', instance: '/v1/districts' },
        ),
      });
    });
  });

  describe.skipIf(skip)('keys through the API (admin)', () => {
    it('creates a key shown once, usable at once, listed without its secret', async () => {
      const created = await post(app, '/v1/keys', {
        role: 'station',
        sites: ['ts-auth-1', 'ts-auth-1', 'ts-auth-2'],
        label: 'PC at ts-auth-1',
      });
      expect(created.statusCode).toBe(201);
      const body = created.body as { key: string; keyId: string };
      expect(created.body).toEqual({
        keyId: body.key.slice(3, 19),
        role: 'station',
        sites: ['ts-auth-1', 'ts-auth-2'],
        districts: [],
        label: 'PC at ts-auth-1',
        createdAt: ISO,
        revokedAt: null,
        key: expect.stringMatching(/^wl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/) as unknown,
        warning: 'Store this key now: the ledger keeps only its hash and cannot show it again.',
      });
      expect((await send('/v1/plans', bearer(body.key))).statusCode).toBe(200);
      const listed = await get(app, '/v1/keys');
      expect(listed.statusCode).toBe(200);
      expect((listed.body as { keys: { keyId: string }[] }).keys).toContainEqual({
        keyId: body.keyId,
        role: 'station',
        sites: ['ts-auth-1', 'ts-auth-2'],
        districts: [],
        label: 'PC at ts-auth-1',
        createdAt: ISO,
        revokedAt: null,
      });
      expect(JSON.stringify(listed.body)).not.toContain(body.key.slice(20));
    });

    it('revokes: the key is refused at once', async () => {
      const { key, keyId } = (await post(app, '/v1/keys', { role: 'regulator' })).body as {
        key: string;
        keyId: string;
      };
      expect((await send('/v1/plans', bearer(key))).statusCode).toBe(200);
      const revoked = await app.inject({
        method: 'DELETE',
        url: `/v1/keys/${keyId}`,
        headers: authorization(app),
      });
      expect(revoked.statusCode).toBe(200);
      expect(revoked.json()).toMatchObject({ keyId, revokedAt: ISO });
      expect((await send('/v1/plans', bearer(key))).statusCode).toBe(401);
    });

    it('explains a key it cannot create', async () => {
      expect(await post(app, '/v1/keys', { role: 'station' })).toMatchObject({
        statusCode: 400,
        body: { code: 'LEDGER_ERR_INVALID_INPUT', field: 'sites' },
      });
      expect(await post(app, '/v1/keys', { role: 'auditor', districts: ['lixia'] })).toMatchObject({
        statusCode: 400,
        body: { field: 'districts' },
      });
      expect(await post(app, '/v1/keys', { role: 'root' })).toMatchObject({
        statusCode: 400,
        body: { field: 'role' },
      });
    });
  });
});
