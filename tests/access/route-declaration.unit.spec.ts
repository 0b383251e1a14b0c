import Fastify from 'fastify';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { KeyStore } from '../../src/access/key-store.js';
import { declaredRoutes, registerAccessControl } from '../../src/api/access/access-control.js';

/** No request reaches the database here: only route registration is under test. */
const keys = new KeyStore({} as Kysely<unknown>);

describe('route access declarations', () => {
  it('refuses, at registration, a route that does not say who may call it', async () => {
    const app = Fastify();
    registerAccessControl(app, keys);
    app.get('/declared', { config: { access: { roles: ['auditor'] } } }, () => ({}));
    expect(() => app.get('/forgotten', () => ({}))).toThrow(
      "Route GET /forgotten declares no access: add config: { access: 'public' } or config: { access: { roles: [...] } }",
    );
    await app.close();
  });

  it('refuses it inside a plugin too, and starting the app fails', async () => {
    const app = Fastify();
    registerAccessControl(app, keys);
    void app.register(async (plugin) => {
      await Promise.resolve();
      plugin.post('/inside', () => ({}));
    });
    await expect(app.ready()).rejects.toThrow('Route POST /inside declares no access');
  });

  it('records every declared route with its methods', async () => {
    const app = Fastify();
    registerAccessControl(app, keys);
    app.route({
      method: ['GET', 'POST'],
      url: '/both',
      config: { access: 'public' },
      handler: () => ({}),
    });
    await app.ready();
    expect(declaredRoutes(app)).toEqual([
      { method: 'GET', url: '/both', access: 'public' },
      { method: 'POST', url: '/both', access: 'public' },
      { method: 'HEAD', url: '/both', access: 'public' },
    ]);
    await app.close();
  });
});
