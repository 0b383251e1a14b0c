import fc from 'fast-check';
import { complianceFindingKinds } from '../../../src/compliance/compliance-findings.js';
import { plans } from '../../../src/domain/compliance/plan-catalogue.js';
import { indicatorIds } from '../../../src/domain/compliance/plans.js';
import { flows } from '../../../src/projections/daily-tonnage/contributions.js';
import { tonnageDimensions } from '../../../src/projections/daily-tonnage/query.js';
import { findingKinds } from '../../../src/projections/findings/query.js';
import {
  UNICODE_TRICKS,
  anyText,
  badDate,
  badId,
  badPlate,
  badTicketNo,
  badTimestamp,
  isPlate,
  longString,
  notOneOf,
} from './hostile-values.js';
import { LEFT_OUT } from './json-text.js';
import { hostile, type HostileRequest } from './request.js';
import type { World } from './world.js';

/**
 * Hostile URLs: query strings with one parameter corrupted, path parameters that name nothing
 * or are not ids at all, broken percent-encodings, methods and paths no route answers.
 */

/** encodeURIComponent, except that lone surrogates are written as their (invalid) UTF-8 bytes. */
export function encodeComponent(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    } else {
      out += encodeURIComponent(char);
    }
  }
  return out;
}

type QueryValue = string | readonly string[] | typeof LEFT_OUT;

/** Percent-encodings no URL decoder accepts (fastify answers them before routing). */
const BROKEN_ENCODINGS = ['%', '%zz', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '%u0041', '%FF', '%80'];

/** Query parameters that are noise (the schemas strip them) around the corrupted one. */
const queryNoise = fc.option(
  fc.constantFrom(
    '__proto__=x',
    '__proto__[polluted]=yes',
    'constructor[prototype][polluted]=yes',
    'toString=1',
    '&&&',
    '=',
    'a[]=1&a[]=2',
    `x=${'y'.repeat(5_000)}`,
  ),
  { freq: 3 },
);

/** A valid query with one parameter corrupted: a bad value, left out, or given twice. */
function corruptedQuery(
  route: string,
  path: fc.Arbitrary<string> | string,
  valid: Readonly<Record<string, string>>,
  fields: Readonly<Record<string, fc.Arbitrary<QueryValue>>>,
): fc.Arbitrary<HostileRequest> {
  const paths = typeof path === 'string' ? fc.constant(path) : path;
  return fc.oneof(
    ...Object.entries(fields).map(([name, bad]) =>
      fc.tuple(paths, bad, queryNoise).map(([p, value, extra]) => {
        const query: [string, string][] = [];
        for (const [k, v] of Object.entries({ ...valid, [name]: value })) {
          if (typeof v === 'symbol') continue;
          for (const one of typeof v === 'string' ? [v] : v) query.push([k, one]);
        }
        const text = query
          .map(([k, v]) => `${encodeComponent(k)}=${encodeComponent(v)}`)
          .concat(extra === null ? [] : [extra])
          .join('&');
        return hostile({
          route: `GET ${route}`,
          what: `${name}=${typeof value === 'symbol' ? '(left out)' : JSON.stringify(value)}`,
          method: 'GET',
          url: `${p}?${text}`,
          headers: {},
          writes: false,
          batch: false,
        });
      }),
    ),
  );
}

const left = fc.constant(LEFT_OUT);
const strings = (arb: fc.Arbitrary<unknown>) =>
  arb.filter((v): v is string => typeof v === 'string');
/** Given twice: the second time wrong or not, any schema expecting one value refuses two. */
const twice = (valid: string) =>
  fc.oneof(
    fc.constant([valid, valid]),
    strings(badDate).map((b) => [valid, b]),
  );
/** Comma-separated lists are trimmed and blanks dropped: `day ` and `,` are valid lists. */
const notListOf =
  (allowed: readonly string[]) =>
  (v: string): boolean => {
    const items = v
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    return !items.every((item) => allowed.includes(item));
  };
/** Text parameters take any text, but not NUL (%00). */
const withNul = (valid: string) => fc.constantFrom(`${valid}\u0000`, '\u0000', `\u0000${valid}`);

const badDateQuery = fc.oneof(strings(badDate), left, twice('2026-03-01'));
/** Not whole numbers of positions or milliseconds (hex and blanks coerce to numbers: left out). */
const badIntQuery = fc.oneof(
  fc.constantFrom('-1', '1.5', 'abc', '1e400', 'Infinity', '-Infinity', 'NaN', '1e308', '--1'),
  fc.constantFrom('9007199254740993', '0.0000001', '١', '１', '1,000', '[1]', 'true'),
  fc.constant(['1', '2']),
);
/** `asOf` is any RFC 3339 instant: more than six digits of a second are fine there. */
const badAsOf = fc.oneof(
  strings(badTimestamp).filter((v) => !/^[^.]+\.\d{7,}[+-]\d{2}:\d{2}$/.test(v)),
  fc.constant(['2026-03-01T00:00:00Z', 'x']),
);
const badRules = fc.constantFrom(
  'domain-default',
  'domain-default@0',
  'Domain-default@1',
  'domain-default@01',
  'domain-default@1.5',
  'domain-default@-1',
  'domain-default@1@2',
  'nope@1',
  'domain-default@99999999999999999999',
  '@1',
);
const badChanges = fc.oneof(
  notOneOf(['true', 'false']).filter((v): v is string => typeof v === 'string'),
);

export function queryRoutes(): fc.Arbitrary<HostileRequest> {
  const period = { from: '2026-03-01', to: '2026-03-31' };
  const periodFields = {
    from: badDateQuery,
    to: fc.oneof(badDateQuery, fc.constant('2026-02-28')),
  };
  const moment = {
    asOfPosition: badIntQuery,
    asOf: badAsOf,
    rules: badRules,
    districtId: fc.oneof(fc.constant(''), withNul('fz-district'), fc.constant(['a', 'b'])),
    changes: badChanges,
  };
  const plan = plans[0]?.id ?? 'jinan-2022';
  const unknownPlan = fc.oneof(
    fc.constantFrom(...UNICODE_TRICKS).map((t) => `${plan}${t}`),
    fc.constantFrom(
      plan.toUpperCase(),
      `${plan} `,
      '..',
      '.',
      '%2e%2e',
      'constructor',
      '__proto__',
    ),
  );
  return fc.oneof(
    {
      arbitrary: corruptedQuery('/v1/tonnage', '/v1/tonnage', period, {
        ...periodFields,
        groupBy: fc.oneof(
          strings(notOneOf(tonnageDimensions)).filter(notListOf(tonnageDimensions)),
          fc.constantFrom('day,bogus', 'DAY', 'day;site', '__proto__', 'constructor'),
          fc.constant(['day', 'site']),
        ),
        flow: fc.oneof(strings(notOneOf(flows)), fc.constant(['collected', 'transfer_in'])),
        minPosition: badIntQuery,
        waitMs: fc.oneof(badIntQuery, fc.constantFrom('30001', '86400000')),
        siteId: fc.oneof(withNul('fz-station'), fc.constant(['fz-station', 'fz-plant'])),
        districtId: fc.oneof(withNul('fz-district'), fc.constant(['a', 'b'])),
        material: withNul('residual'),
      }),
      weight: 4,
    },
    {
      arbitrary: corruptedQuery('/v1/findings', '/v1/findings', period, {
        ...periodFields,
        kind: fc.oneof(
          fc.constantFrom('bogus', 'tare_drift,bogus', 'TARE_DRIFT', '__proto__'),
          strings(notOneOf(findingKinds)).filter(
            notListOf([...findingKinds, ...complianceFindingKinds]),
          ),
        ),
        minPosition: badIntQuery,
        waitMs: fc.oneof(badIntQuery, fc.constant('30001')),
        siteId: fc.oneof(withNul('fz-station'), fc.constant(['a', 'b'])),
        districtId: fc.oneof(withNul('fz-district'), fc.constant(['a', 'b'])),
      }),
      weight: 3,
    },
    {
      arbitrary: corruptedQuery('/v1/indicators', '/v1/indicators', period, {
        ...periodFields,
        ...moment,
      }),
      weight: 3,
    },
    {
      arbitrary: corruptedQuery(
        '/v1/indicators/series',
        '/v1/indicators/series',
        { ...period, indicator: indicatorIds[0] ?? 'collected_tonnage' },
        {
          ...periodFields,
          ...moment,
          indicator: fc.oneof(strings(notOneOf(indicatorIds)), left),
          interval: fc.oneof(strings(notOneOf(['day', 'month'])), fc.constant('week')),
          format: fc.oneof(strings(notOneOf(['json', 'csv'])), fc.constant('xml')),
        },
      ),
      weight: 2,
    },
    {
      arbitrary: corruptedQuery(
        '/v1/plans/:planId/report',
        `/v1/plans/${plan}/report`,
        {},
        {
          from: fc.oneof(strings(badDate), twice('2026-03-01')),
          to: fc.oneof(strings(badDate), twice('2026-03-01')),
          format: strings(notOneOf(['json', 'csv'])),
          ...moment,
        },
      ),
      weight: 3,
    },
    {
      // An unknown plan, asked for the right way.
      arbitrary: corruptedQuery(
        '/v1/plans/:planId/report',
        unknownPlan.map((p) => `/v1/plans/${encodeComponent(p)}/report`),
        { from: '2026-03-01', to: '2026-03-31' },
        { format: fc.constant('json') },
      ),
      weight: 1,
    },
    {
      arbitrary: corruptedQuery(
        '/v1/audit/seals',
        '/v1/audit/seals',
        {},
        {
          limit: fc.oneof(badIntQuery, fc.constantFrom('0', '1001', '99999')),
        },
      ),
      weight: 1,
    },
    {
      arbitrary: corruptedQuery(
        '/v1/audit/export',
        '/v1/audit/export',
        {},
        {
          from: fc.oneof(badIntQuery, fc.constant('0')),
          to: fc.oneof(badIntQuery, fc.constant('0')),
        },
      ),
      weight: 1,
    },
    {
      arbitrary: corruptedQuery(
        '/v1/audit/verify',
        '/v1/audit/verify',
        {},
        {
          heldSeal: fc.constantFrom(
            'x',
            '1:abc',
            `1:${'g'.repeat(64)}`,
            `:${'a'.repeat(64)}`,
            `-1:${'a'.repeat(64)}`,
            `1:${'A'.repeat(64)}`,
            `1:${'a'.repeat(63)}`,
            `1:${'a'.repeat(65)}`,
            `1.5:${'a'.repeat(64)}`,
            `99999999999999999999:${'a'.repeat(64)}`,
            `9007199254740993:${'a'.repeat(64)}`,
            `1:${'a'.repeat(64)}\n`,
          ),
        },
      ),
      weight: 1,
    },
  );
}

/** Path parameters: unknown sites and plans, plates that are not plates, broken encodings. */
export function pathRoutes(): fc.Arbitrary<HostileRequest> {
  const segment = fc
    .oneof(
      fc.constantFrom(
        '..',
        '.',
        '../../etc/passwd',
        'fz-station/../fz-plant',
        '%00',
        'fz-station\u0000',
      ),
      fc.constantFrom(...UNICODE_TRICKS).map((t) => `fz-station${t}`),
      longString(1, 2_000),
      anyText().filter((s) => s !== ''),
    )
    .filter((s) => s !== 'fz-station' && s !== 'fz-plant');
  const get = (route: string, url: string, what: string) =>
    hostile({
      route: `GET ${route}`,
      what,
      method: 'GET',
      url,
      headers: {},
      writes: false,
      batch: false,
    });
  return fc.oneof(
    segment.map((s) =>
      get('/v1/sites/:siteId', `/v1/sites/${encodeComponent(s)}`, JSON.stringify(s)),
    ),
    fc
      .oneof(
        badPlate.filter((p): p is string => typeof p === 'string'),
        fc.constantFrom('鲁Z99999', '鲁A·D99999'),
      )
      .filter((p) => p !== '' && (!isPlate(p) || !p.startsWith('鲁F')))
      .map((p) =>
        get('/v1/vehicles/:plate', `/v1/vehicles/${encodeComponent(p)}`, JSON.stringify(p)),
      ),
    segment.map((s) =>
      get('/v1/plans/:planId', `/v1/plans/${encodeComponent(s)}`, JSON.stringify(s)),
    ),
    fc
      .tuple(
        fc.constantFrom('/v1/sites/', '/v1/vehicles/', '/v1/plans/', '/v1/'),
        fc.constantFrom(...BROKEN_ENCODINGS),
      )
      .map(([prefix, broken]) => get('(broken encoding)', `${prefix}${broken}`, broken)),
  );
}

/** Tickets that are not there, or named by what is not a site id or a ticket number. */
export function ticketRoute(world: World): fc.Arbitrary<HostileRequest> {
  const site = fc.oneof(
    strings(badId).filter((s) => s !== ''),
    fc.constantFrom('fz-no-such-site', world.prefixSiteId),
  );
  const ticket = fc.oneof(
    strings(badTicketNo).filter((s) => s !== ''),
    fc.constantFrom('FZ-NONE', `station-${world.openTicket}`),
  );
  return fc
    .tuple(fc.oneof(site, fc.constant(world.stationId)), ticket)
    .filter(([s, t]) => s !== world.stationId || !t.startsWith('FZ-') || t === 'FZ-NONE')
    .map(([s, t]) =>
      hostile({
        route: 'GET /v1/tickets/:siteId/:ticketNo',
        what: `${JSON.stringify(s)} ${JSON.stringify(t)}`,
        method: 'GET',
        url: `/v1/tickets/${encodeComponent(s)}/${encodeComponent(t)}`,
        headers: {},
        writes: false,
        batch: false,
      }),
    );
}

/** Revoking keys that do not exist (the test admin's own is never named). */
export function revokeRoute(): fc.Arbitrary<HostileRequest> {
  return fc
    .oneof(
      strings(badId).filter((s) => s !== ''),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 1, maxLength: 40 }),
    )
    .map((keyId) =>
      hostile({
        route: 'DELETE /v1/keys/:keyId',
        what: JSON.stringify(keyId),
        method: 'DELETE',
        url: `/v1/keys/${encodeComponent(keyId)}`,
        headers: {},
        writes: true,
        batch: false,
      }),
    );
}

/** Methods and paths that no route answers. */
export function unknownRoutes(): fc.Arbitrary<HostileRequest> {
  const paths = fc.constantFrom(
    '/v1/weighings',
    '/v1/weighings/batch',
    '/v1/trips',
    '/v1/districts',
    '/v1/sites',
    '/v1/vehicles',
    '/v1/audit/seals',
    '/v1/weighings/batch/1',
    '/v1//weighings',
    '/v1/weighings%2fbatch',
    '/v2/weighings',
    '/V1/WEIGHINGS',
    '/v1/weighings.json',
    '/v1/weighings;x=1',
  );
  return fc
    .tuple(
      fc.constantFrom(
        'GET' as const,
        'PUT' as const,
        'PATCH' as const,
        'DELETE' as const,
        'OPTIONS' as const,
        'POST' as const,
      ),
      paths,
    )
    .filter(
      ([method, path]) =>
        method !== 'POST' ||
        !/^\/v1\/(weighings|weighings\/batch|trips|districts|sites|vehicles|audit\/seals)$/.test(
          path,
        ),
    )
    .filter(([method, path]) => method !== 'GET' || path !== '/v1/audit/seals')
    .map(([method, path]) =>
      hostile({
        route: '(no route)',
        what: `${method} ${path}`,
        method,
        url: path,
        headers:
          method === 'GET' || method === 'OPTIONS' ? {} : { 'content-type': 'application/json' },
        ...(method === 'GET' || method === 'OPTIONS' ? {} : { body: '{}' }),
        writes: method !== 'GET' && method !== 'OPTIONS',
        batch: false,
      }),
    );
}
