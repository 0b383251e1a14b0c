import fc from 'fast-check';
import { anyText, deepValue, notAnArray, notAnObject } from './hostile-values.js';
import { deepJson, jsonText } from './json-text.js';
import type { Mutation } from './mutations.js';
import { BODY_LIMIT_BYTES, hostile, type HostileRequest } from './request.js';

/**
 * Hostile bodies for the routes that write: malformed or wrongly shaped JSON, odd content types,
 * corrupted reports one at a time or in batches, bodies over the limit.
 */

/** Content types: mostly JSON (so that bodies reach validation), sometimes anything else. */
const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 30 },
  {
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'Application/JSON',
      'application/json; charset=latin1',
      'application/json;;',
      'text/plain',
      'text/plain; charset=utf-8',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/problem+json',
      'application/jsonx',
      'application/octet-stream',
      '*/*',
      'application/json, text/html',
      '',
      undefined,
    ),
    weight: 3,
  },
);

/** Whole bodies that are not JSON, or JSON of the wrong shape for any write route. */
export const malformedBody: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '{',
    '}',
    '[',
    '{"a":1,}',
    "{'a':1}",
    '{a:1}',
    '{"a":1}{"b":2}',
    '{"a":1} x',
    '[1,2',
    'nul',
    '{"a":undefined}',
    '{"a":NaN}',
    '{"a":-Infinity}',
    '\ufeff{}',
    '{"a":1} // comment',
    '/* comment */ {}',
    '{"a":"\\x41"}',
    '{"a":"\\u12"}',
    '{"a":"line\nbreak"}',
    '"\\ud800"',
    '{"__proto__":{"polluted":"yes"}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"data":{"__proto__":{"polluted":"yes"}}}',
    '[{"__proto__":{"polluted":"yes"}}]',
    'null',
    'true',
    '0',
    '-0',
    '1e999',
    '"a string"',
    '[]',
    '[{}]',
  ),
  notAnObject.map(jsonText),
  fc
    .tuple(
      fc.integer({ min: 1_000, max: 50_000 }),
      fc.constantFrom('array' as const, 'object' as const),
      fc.boolean(),
    )
    .map(([depth, shape, cut]) => deepJson(depth, shape, cut).text),
  anyText(),
);

/** A field of more than 4 MiB: refused before it is read (413). */
export const oversizedBody: fc.Arbitrary<string> = fc
  .integer({ min: 1, max: 64 * 1024 })
  .map(
    (extra) =>
      `{"eventId":"x","type":"RecordWeighIn","data":{"device":"${'x'.repeat(BODY_LIMIT_BYTES + extra)}"}}`,
  );

/** Large bodies under the limit: strings of megabytes where 100 characters are allowed. */
export const largeBody: fc.Arbitrary<Mutation> = fc
  .tuple(fc.integer({ min: 64 * 1024, max: 1024 * 1024 }), fc.constantFrom('x', '鲁', '\u200d'))
  .map(([n, c]) => ({
    what: 'a field of megabytes',
    body: { eventId: 'x', type: 'RecordWeighIn', data: { siteId: c.repeat(n) } },
  }));

export function post(
  route: string,
  bodies: fc.Arbitrary<{ what: string; text: string }>,
  options: { writes?: boolean; batch?: boolean } = {},
): fc.Arbitrary<HostileRequest> {
  return fc.tuple(bodies, contentType).map(([{ what, text }, type]) =>
    hostile({
      route: `POST ${route}`,
      what: `${what}${type === 'application/json' ? '' : ` as ${String(type)}`}`,
      method: 'POST',
      url: route,
      headers: type === undefined ? {} : { 'content-type': type },
      body: text,
      writes: options.writes ?? true,
      batch: options.batch ?? false,
    }),
  );
}

const asText = (m: Mutation) => ({ what: m.what, text: jsonText(m.body) });
const raw = (what: string) => (text: string) => ({ what, text });

/** The route's own mutations, or malformed bodies, or the wrong reports. */
export function writeRoute(
  route: string,
  own: fc.Arbitrary<Mutation>,
  others: fc.Arbitrary<Mutation>,
): fc.Arbitrary<HostileRequest> {
  return post(
    route,
    fc.oneof(
      { arbitrary: own.map(asText), weight: 12 },
      { arbitrary: others.map(asText), weight: 1 },
      { arbitrary: malformedBody.map(raw('malformed body')), weight: 2 },
      {
        arbitrary: own.map((m) => ({ what: `[${m.what}]`, text: `[${jsonText(m.body)}]` })),
        weight: 1,
      },
    ),
  );
}

/** `{ items: [...] }` with a wrong envelope, or with every item wrong. */
export function batchRoute(
  route: string,
  items: fc.Arbitrary<Mutation>,
): fc.Arbitrary<HostileRequest> {
  const item: fc.Arbitrary<Mutation> = fc.oneof(
    { arbitrary: items, weight: 8 },
    { arbitrary: notAnObject.map((body) => ({ what: 'not an object', body })), weight: 1 },
    { arbitrary: deepValue.map((body) => ({ what: 'deep', body })), weight: 1 },
  );
  const envelope: fc.Arbitrary<{ what: string; text: string }> = fc.oneof(
    {
      arbitrary: fc.array(item, { minLength: 1, maxLength: 6 }).map((list) => ({
        what: `items: ${list.map((m) => m.what).join(', ')}`,
        text: jsonText({ items: list.map((m) => m.body) }),
      })),
      weight: 12,
    },
    {
      arbitrary: fc.constantFrom(
        { what: 'no items', text: '{}' },
        { what: 'zero items', text: '{"items":[]}' },
        { what: 'items null', text: '{"items":null}' },
        { what: 'an array of items', text: '[{"items":[{}]}]' },
      ),
      weight: 2,
    },
    {
      arbitrary: notAnArray.map((v) => ({
        what: 'items not an array',
        text: jsonText({ items: v }),
      })),
      weight: 1,
    },
    {
      // More than 1 000 items, each wrong as well (the envelope is refused before them).
      arbitrary: fc
        .tuple(fc.integer({ min: 1_001, max: 1_200 }), fc.constantFrom('{}', 'null', '1', '[]'))
        .map(([n, text]) => ({
          what: `${n} items of ${text}`,
          text: `{"items":[${Array.from({ length: n }, () => text).join(',')}]}`,
        })),
      weight: 1,
    },
    { arbitrary: malformedBody.map(raw('malformed body')), weight: 2 },
  );
  return post(route, envelope, { batch: true });
}

/**
 * POST /v1/audit/seals takes no body, and seals whatever it is sent (or answers 503 without a
 * sealing key): only bodies fastify refuses before the handler are hostile to it.
 */
export function sealRoute(): fc.Arbitrary<HostileRequest> {
  const unparsable = malformedBody.filter(
    (b) => !parses(b) || b.includes('"__proto__"') || b.includes('"prototype"'),
  );
  return fc
    .oneof(
      fc.tuple(unparsable, fc.constantFrom('application/json', 'application/json; charset=utf-8')),
      fc.tuple(
        malformedBody.filter((b) => b !== ''),
        fc.constantFrom(
          'application/xml',
          'application/octet-stream',
          'multipart/form-data; boundary=x',
        ),
      ),
    )
    .map(([text, type]) =>
      hostile({
        route: 'POST /v1/audit/seals',
        what: `malformed body as ${type}`,
        method: 'POST',
        url: '/v1/audit/seals',
        headers: { 'content-type': type },
        body: text,
        writes: true,
        batch: false,
      }),
    );
}

/** True when fastify's JSON parser reads the text (JSON.parse after a byte-order mark). */
function parses(text: string): boolean {
  try {
    JSON.parse(text.replace(/^\ufeff/, ''));
    return true;
  } catch {
    return false;
  }
}
