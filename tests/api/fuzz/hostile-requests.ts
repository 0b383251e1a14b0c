import fc from 'fast-check';
import { jsonText } from './json-text.js';
import {
  districtMutation,
  keyMutation,
  siteMutation,
  tripMutation,
  vehicleMutation,
  weighingMutation,
} from './mutations.js';
import type { World } from './world.js';
import {
  batchRoute,
  largeBody,
  oversizedBody,
  post,
  sealRoute,
  writeRoute,
} from './hostile-bodies.js';
import {
  pathRoutes,
  queryRoutes,
  revokeRoute,
  ticketRoute,
  unknownRoutes,
} from './hostile-urls.js';
import { hostile, type HostileRequest } from './request.js';

export { BODY_LIMIT_BYTES, showRequest, type HostileRequest } from './request.js';

/**
 * Hostile requests to every route of the API, weighted so that most reach validation and the
 * domain's rules. Oversized bodies are rare (each is 4 MiB).
 */
export function hostileRequest(world: World): fc.Arbitrary<HostileRequest> {
  const weighings = weighingMutation(world);
  const trips = tripMutation(world);
  const masterData = fc.oneof(districtMutation(world), siteMutation(world), vehicleMutation(world));
  return fc.oneof(
    { arbitrary: writeRoute('/v1/weighings', weighings, trips), weight: 250 },
    { arbitrary: batchRoute('/v1/weighings/batch', weighings), weight: 60 },
    { arbitrary: writeRoute('/v1/trips', trips, weighings), weight: 100 },
    { arbitrary: batchRoute('/v1/trips/batch', trips), weight: 30 },
    { arbitrary: writeRoute('/v1/districts', districtMutation(world), masterData), weight: 30 },
    { arbitrary: writeRoute('/v1/sites', siteMutation(world), masterData), weight: 50 },
    { arbitrary: writeRoute('/v1/vehicles', vehicleMutation(world), masterData), weight: 40 },
    { arbitrary: sealRoute(), weight: 10 },
    { arbitrary: writeRoute('/v1/keys', keyMutation(world), masterData), weight: 30 },
    { arbitrary: revokeRoute(), weight: 5 },
    { arbitrary: ticketRoute(world), weight: 20 },
    { arbitrary: queryRoutes(), weight: 200 },
    { arbitrary: pathRoutes(), weight: 60 },
    { arbitrary: unknownRoutes(), weight: 20 },
    {
      arbitrary: post(
        '/v1/weighings',
        largeBody.map((m) => ({ what: m.what, text: jsonText(m.body) })),
      ),
      weight: 2,
    },
    {
      arbitrary: fc
        .tuple(
          fc.constantFrom('/v1/weighings', '/v1/weighings/batch', '/v1/trips', '/v1/sites'),
          oversizedBody,
        )
        .map(([route, text]) =>
          hostile({
            route: `POST ${route}`,
            what: 'over the body limit',
            method: 'POST',
            url: route,
            headers: { 'content-type': 'application/json' },
            body: text,
            writes: true,
            batch: route.endsWith('/batch'),
          }),
        ),
      weight: 1,
    },
  );
}
