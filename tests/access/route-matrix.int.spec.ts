import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import type { Role, RouteAccess } from '../../src/access/roles.js';
import { declaredRoutes, type DeclaredRoute } from '../../src/api/access/access-control.js';
import { openProjectionDb } from '../projections/fixtures.js';
import { bearer, buildTestApp, openKeyStore } from '../support/access.js';
import { pgliteHarness } from '../support/databases.js';

/**
 * Every route × every kind of caller. The policy is written out here, independently of the
 * declarations in src/api, so that a route added without a case here, a case without its
 * route, or a declaration that changes without this table all fail.
 */
const policy: Record<string, 'public' | readonly Exclude<Role, 'admin'>[]> = {
  'GET /health': 'public',
  'GET /health/live': 'public',
  'GET /health/ready': 'public',
  'GET /openapi.json': 'public',
  'GET /v1/audit/keys': 'public',
  'GET /v1/keys': [],
  'POST /v1/keys': [],
  'DELETE /v1/keys/:keyId': [],
  'POST /v1/districts': [],
  'POST /v1/sites': [],
  'POST /v1/vehicles': [],
  'GET /v1/sites/:siteId': ['station', 'regulator', 'auditor'],
  'GET /v1/vehicles/:plate': ['station', 'regulator', 'auditor'],
  'GET /v1/plans': ['station', 'regulator', 'auditor'],
  'GET /v1/plans/:planId': ['station', 'regulator', 'auditor'],
  'GET /v1/rules': ['station', 'regulator', 'auditor'],
  'POST /v1/weighings': ['station'],
  'POST /v1/weighings/batch': ['station'],
  'POST /v1/trips': ['station'],
  'POST /v1/trips/batch': ['station'],
  'GET /v1/tickets/:siteId/:ticketNo': ['station', 'regulator', 'auditor'],
  'GET /v1/tonnage': ['regulator', 'auditor'],
  'GET /v1/indicators': ['regulator', 'auditor'],
  'GET /v1/indicators/series': ['regulator', 'auditor'],
  'GET /v1/plans/:planId/report': ['regulator', 'auditor'],
  'GET /v1/findings': ['regulator', 'auditor'],
  'GET /v1/audit/seals': ['auditor'],
  'POST /v1/audit/seals': ['auditor'],
  'GET /v1/audit/verify': ['auditor'],
  'GET /v1/audit/export': ['auditor'],
};

/** The documentation UI's own routes (registered by @fastify/swagger-ui) are all public. */
const isDocs = (url: string) => url === '/docs' || url.startsWith('/docs/');

/** What the table says for a route; HEAD is its GET's twin. */
function expected(route: DeclaredRoute): 'public' | readonly Role[] | undefined {
  if (isDocs(route.url)) return 'public';
  const method = route.method === 'HEAD' ? 'GET' : route.method;
  const entry = policy[`${method} ${route.url}`];
  return entry === undefined || entry === 'public' ? entry : withAdmin(entry);
}

/** Admin is admitted everywhere, listed or not: compare the sets of roles admitted. */
const withAdmin = (list: readonly Role[]): Role[] =>
  [...new Set([...list, 'admin' as const])].sort();

const asDeclared = (access: RouteAccess): 'public' | readonly Role[] =>
  access === 'public' ? 'public' : withAdmin(access.roles);

const STATION_SITE = 'ts-matrix';

const ledger = await openProjectionDb(pgliteHarness);
const keys = await openKeyStore(ledger.db);
const app: FastifyInstance = await buildTestApp({
  store: ledger.store,
  db: ledger.db,
  timeZone: 'Asia/Shanghai',
  keys,
});
const create = async (role: Role, scope: { sites?: string[] } = {}) =>
  (await keys.create({ role, sites: scope.sites ?? [], districts: [], label: `matrix ${role}` }))
    .key;
const callers: readonly { name: string; role: Role | 'none' | 'revoked'; key?: string }[] = [
  { name: 'no key', role: 'none' },
  { name: 'station', role: 'station', key: await create('station', { sites: [STATION_SITE] }) },
  { name: 'regulator', role: 'regulator', key: await create('regulator') },
  { name: 'auditor', role: 'auditor', key: await create('auditor') },
  { name: 'admin', role: 'admin', key: await create('admin') },
  {
    name: 'revoked admin key',
    role: 'revoked',
    key: await (async () => {
      const { key, record } = await keys.create({
        role: 'admin',
        sites: [],
        districts: [],
        label: 'revoked',
      });
      await keys.revoke(record.keyId);
      return key;
    })(),
  },
];
const routes = declaredRoutes(app);

/** A concrete URL for a route pattern: in the station's scope where a site is named. */
function concrete(url: string): string {
  return url
    .replace(':siteId', STATION_SITE)
    .replace(':ticketNo', 'T000001')
    .replace(':plate', encodeURIComponent('鲁A00001'))
    .replace(/:[A-Za-z]+/g, 'x')
    .replace('*', 'index.css');
}

const checked = new Set<string>();

afterAll(async () => {
  await app.close();
  await ledger.close();
});

describe('route × role matrix', () => {
  it('has a case for every registered route and a route for every case', () => {
    const registered = routes
      .filter((r) => r.method !== 'HEAD' && !isDocs(r.url))
      .map((r) => `${r.method} ${r.url}`);
    expect(new Set(registered).size).toBe(registered.length);
    expect([...registered].sort()).toEqual(Object.keys(policy).sort());
  });

  it('finds every route declared as the table says', () => {
    for (const route of routes) {
      expect({ route: `${route.method} ${route.url}`, access: asDeclared(route.access) }).toEqual({
        route: `${route.method} ${route.url}`,
        access: expected(route),
      });
    }
  });

  it.each(routes.map((r) => [`${r.method} ${r.url}`, r] as const))(
    '%s: refuses and admits exactly the callers its declaration says',
    async (_name, route) => {
      const admitted = expected(route);
      for (const caller of callers) {
        const response = await app.inject({
          method: route.method as 'GET',
          url: concrete(route.url),
          headers: caller.key === undefined ? {} : bearer(caller.key),
          ...(route.method === 'POST' ? { payload: {} } : {}),
        });
        const outcome = { route: `${route.method} ${route.url}`, caller: caller.name };
        if (admitted === 'public') {
          expect({ ...outcome, refused: [401, 403].includes(response.statusCode) }).toEqual({
            ...outcome,
            refused: false,
          });
        } else if (caller.role === 'none' || caller.role === 'revoked') {
          expect({ ...outcome, status: response.statusCode }).toEqual({ ...outcome, status: 401 });
          expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="waste-ledger"/);
        } else if (admitted?.includes(caller.role)) {
          expect({ ...outcome, refused: [401, 403].includes(response.statusCode) }).toEqual({
            ...outcome,
            refused: false,
          });
        } else {
          expect({ ...outcome, status: response.statusCode }).toEqual({ ...outcome, status: 403 });
          if (route.method !== 'HEAD') {
            expect(response.json()).toMatchObject({ code: 'LEDGER_ERR_FORBIDDEN', status: 403 });
          }
        }
        checked.add(`${route.method} ${route.url} × ${caller.name}`);
      }
    },
  );

  it('walked every route with every caller', () => {
    expect(checked.size).toBe(routes.length * callers.length);
    expect(routes.length).toBeGreaterThan(Object.keys(policy).length);
  });
});
