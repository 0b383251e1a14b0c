import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { KeyStore } from '../../access/key-store.js';
import { admits, type Principal, type RouteAccess } from '../../access/roles.js';
import { LedgerError } from '../../domain/errors/catalogue.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; every route must say (see `registerAccessControl`). */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The key's holder, once authenticated; null on public routes. */
    principal: Principal | null;
  }
}

/** A route as registered, with the access it declares. */
export interface DeclaredRoute {
  readonly method: string;
  readonly url: string;
  readonly access: RouteAccess;
}

const declarations = new WeakMap<FastifyInstance, DeclaredRoute[]>();

/** Every route of an app built with access control, as declared (tests walk it). */
export function declaredRoutes(app: FastifyInstance): readonly DeclaredRoute[] {
  return declarations.get(app) ?? [];
}

/** Where `registerOpenApi` mounts the documentation UI. */
export const DOCS_PREFIX = '/docs';

/**
 * Routes that plugins register, which cannot carry our declaration: the documentation UI's own
 * pages and assets (public, like the OpenAPI document they show), and the CORS preflight
 * (browsers send it without credentials, by the Fetch standard, so it cannot require a key).
 */
function pluginRouteAccess(route: RouteOptions & { prefix: string }): RouteAccess | undefined {
  const { prefix } = route;
  if (prefix === DOCS_PREFIX || prefix.startsWith(`${DOCS_PREFIX}/`)) return 'public';
  if (route.method === 'OPTIONS' && route.url === '*') return 'public';
  return undefined;
}

const REALM = 'Bearer realm="waste-ledger"';

function unauthenticated(reply: FastifyReply, detail: string, invalid: boolean): LedgerError {
  // RFC 6750: a missing key gets the challenge, a rejected one also says why.
  reply.header('www-authenticate', invalid ? `${REALM}, error="invalid_token"` : REALM);
  return new LedgerError('LEDGER_ERR_UNAUTHENTICATED', detail);
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? '';
}

/**
 * Access control for every route: an `onRoute` hook refuses, at start-up, any route that does
 * not declare `config.access` (so a new route cannot be forgotten), and an `onRequest` hook
 * authenticates `Authorization: Bearer <key>` and checks the key's role against the route's
 * declaration: 401 without a valid key, 403 for a role the route does not admit. Scope within
 * a role (a station's sites, a regulator's districts) is checked by the routes themselves.
 * Register it before any route and before the rate limit (which keys on the principal).
 */
export function registerAccessControl(app: FastifyInstance, keys: KeyStore): void {
  const routes: DeclaredRoute[] = [];
  declarations.set(app, routes);
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    const access = route.config?.access ?? pluginRouteAccess(route);
    if (access === undefined) {
      throw new Error(
        `Route ${[route.method].flat().join(',')} ${route.url} declares no access: ` +
          "add config: { access: 'public' } or config: { access: { roles: [...] } }",
      );
    }
    route.config = { ...route.config, access };
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, access });
  });

  app.addHook('onRequest', async (request, reply) => {
    // No route: the 404 answer says nothing a key would protect.
    if (request.is404) return;
    // Undeclared cannot happen (onRoute refuses it); were it to, only admin gets through.
    const access = request.routeOptions.config.access ?? { roles: ['admin'] };
    if (access === 'public') return;
    const presented = bearerToken(request);
    if (presented === undefined) {
      throw unauthenticated(
        reply,
        'This route needs an API key: Authorization: Bearer <key>',
        false,
      );
    }
    const principal = await keys.authenticate(presented);
    if (principal === undefined) {
      throw unauthenticated(reply, 'The API key is not valid, or it was revoked', true);
    }
    request.principal = principal;
    if (!admits(access, principal.role)) {
      const allowed = access.roles.filter((r) => r !== 'admin');
      throw new LedgerError(
        'LEDGER_ERR_FORBIDDEN',
        `The ${principal.role} key ${principal.keyId} may not call ${request.method} ${request.routeOptions.url ?? request.url}` +
          ` (allowed: ${[...allowed, 'admin'].join(', ')})`,
        { keyId: principal.keyId, role: principal.role },
      );
    }
  });
}

/** The authenticated caller of a route that requires a key. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) {
    throw new LedgerError('LEDGER_ERR_INTERNAL', 'a public route asked for the caller');
  }
  return request.principal;
}
