import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declaredRoutes } from '../../../src/api/access/access-control.js';
import { errorCatalogue, type ErrorCode } from '../../../src/domain/errors/catalogue.js';
import { complianceFacts } from '../../../src/projections/compliance-facts/projection.js';
import { findings } from '../../../src/projections/findings/projection.js';
import { ProjectionRunner } from '../../../src/projections/runner/runner.js';
import { pgliteHarness, postgresAvailable, postgresHarness } from '../../support/databases.js';
import { authorization } from '../../support/access.js';
import { PROBLEM_BASE, openApi, type Api } from '../fixtures.js';
import {
  BODY_LIMIT_BYTES,
  hostileRequest,
  showRequest,
  type HostileRequest,
} from './hostile-requests.js';
import { setUpWorld, validDistrict, validWeighIn, type World } from './world.js';

/**
 * Issue 7: thousands of malformed and hostile requests per run, seeded. Every answer is a 4xx
 * problem+json (a batch may answer 200 with every item rejected, its documented refusal), none
 * leaks a stack trace or SQL, nothing refused is written (the log's head does not move, no API
 * key is created or revoked, no prototype is polluted), and the server still answers at the end.
 * A failure names the first request that broke a rule, unshrunk.
 *
 * FUZZ_SEED=… FUZZ_RUNS=… FUZZ_RUNS_POSTGRES=… npx vitest run tests/api/fuzz
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_123);
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
/** PostgreSQL runs fewer: it shares the machine with the other tests' databases. */
const RUNS_POSTGRES = Number(process.env.FUZZ_RUNS_POSTGRES ?? 1_000);
/** The target per CI run. */
const TARGET = 10_000;

interface Answer {
  readonly statusCode: number;
  readonly contentType: string;
  readonly text: string;
}

/** Every request of this file goes out here. */
async function send(
  app: FastifyInstance,
  request: Pick<HostileRequest, 'method' | 'url' | 'headers' | 'body'>,
): Promise<Answer> {
  const response = await app.inject({
    method: request.method,
    url: request.url,
    // The one place that says who is asking: the test admin, unless the request says otherwise.
    headers: { ...authorization(app), ...request.headers },
    ...(request.body === undefined ? {} : { payload: request.body }),
  });
  return {
    statusCode: response.statusCode,
    contentType: String(response.headers['content-type'] ?? ''),
    text: response.body,
  };
}

/** What no answer may contain: stack frames, source paths, SQL and PostgreSQL's own words. */
const LEAKS = [
  /\bat [\w$.<>]+ \(/,
  /\n\s+at /,
  /node_modules/,
  /file:\/\//,
  /\.ts:\d+/,
  /\bSELECT\b/,
  /\bINSERT\b/,
  /\brelation\b/,
  /syntax error at or near/,
];

function describeExchange(request: HostileRequest, answer: Answer): string {
  return `${showRequest(request)}\n→ ${answer.statusCode} ${answer.contentType} ${answer.text.slice(0, 1_000)}`;
}

/** A problem+json body of a 4xx status, whole. */
function expectClientProblem(problem: unknown, status: number, context: string): void {
  expect(status, context).toBeGreaterThanOrEqual(400);
  expect(status, context).toBeLessThan(500);
  expect(problem, context).toMatchObject({
    type: expect.stringMatching(`^${PROBLEM_BASE}ledger-err-`) as unknown,
    title: expect.any(String) as unknown,
    status,
    detail: expect.any(String) as unknown,
    code: expect.stringMatching(/^LEDGER_ERR_[A-Z_]+$/) as unknown,
  });
  const { code, title } = problem as { code: string; title: string };
  expect(code in errorCatalogue, context).toBe(true);
  expect(title, context).toBe(errorCatalogue[code as ErrorCode].title);
}

/** The answer is a refusal: a 4xx problem, or a batch answered item by item, all rejected. */
function expectRefusal(request: HostileRequest, answer: Answer, head: number): void {
  const context = describeExchange(request, answer);
  for (const leak of LEAKS) expect(answer.text, context).not.toMatch(leak);
  if (request.batch && answer.statusCode === 200) {
    expect(answer.contentType, context).toMatch(/^application\/json/);
    const body = JSON.parse(answer.text) as {
      results: { status: string; problem?: { status: number } }[];
      headPosition: number;
    };
    expect(body.headPosition, context).toBe(head);
    expect(body.results.length, context).toBeGreaterThan(0);
    for (const result of body.results) {
      expect(result.status, context).toBe('rejected');
      expectClientProblem(result.problem, result.problem?.status ?? 0, context);
    }
    return;
  }
  expect(answer.contentType, context).toMatch(/^application\/problem\+json/);
  expectClientProblem(JSON.parse(answer.text), answer.statusCode, context);
}

/**
 * Refused by fastify (body too large, unsupported media type, path parameter too long) or by a
 * route's zod schema (a problem listing `errors`), before any handler ran.
 */
function refusedBeforeHandler(answer: Answer): boolean {
  if ([413, 414, 415].includes(answer.statusCode)) return true;
  if (answer.statusCode !== 400) return false;
  return Array.isArray((JSON.parse(answer.text) as { errors?: unknown }).errors);
}

/** How many API keys there are, and how many of them are revoked. */
async function keyCounts(api: Api): Promise<{ keys: number; revoked: number }> {
  const { rows } = await sql<{ keys: number; revoked: number }>`
    SELECT count(*)::int AS keys, count(revoked_at)::int AS revoked FROM api_keys`.execute(
    api.ledger.db,
  );
  return rows[0] ?? { keys: -1, revoked: -1 };
}

/** Counts for the summary line. */
class Tally {
  total = 0;
  readonly byRoute = new Map<string, number>();
  readonly byStatus = new Map<number, number>();

  add(route: string, status: number): void {
    this.total += 1;
    this.byRoute.set(route, (this.byRoute.get(route) ?? 0) + 1);
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }

  summary(seconds: number, cpuSeconds: number): string {
    const list = <K>(map: Map<K, number>) =>
      [...map]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${String(k)} ${n}`)
        .join(', ');
    return (
      `fuzz: ${this.total} hostile requests in ${seconds.toFixed(1)} s ` +
      `(${cpuSeconds.toFixed(1)} s CPU, seed ${SEED}); ` +
      `by status: ${list(this.byStatus)}; by route: ${list(this.byRoute)}`
    );
  }
}

/** Authorization headers an attacker tries: with a key, refused (401) before validation. */
const HOSTILE_AUTHORIZATION = [
  'Bearer ',
  'Bearer',
  'Bearer not-a-key',
  `Bearer ${'k'.repeat(10_000)}`,
  'Basic YWRtaW46YWRtaW4=',
  'bearer  ',
  'Bearer null',
  'Bearer undefined',
  'Bearer ../../etc/passwd',
  "Bearer ' or '1'='1",
];

describe.each([
  { harness: pgliteHarness, runs: RUNS, skip: false },
  { harness: postgresHarness, runs: RUNS_POSTGRES, skip: !(await postgresAvailable()) },
])('hostile requests on $harness.name', ({ harness, runs, skip }) => {
  let api: Api;
  let world: World;

  beforeAll(async () => {
    if (skip) return;
    api = await openApi(harness);
    // The read models the compliance and findings routes query (openApi sets up tonnage's).
    for (const projection of [findings, complianceFacts]) {
      await new ProjectionRunner({
        store: api.ledger.store,
        db: api.ledger.db,
        projection,
      }).setup();
    }
    world = await setUpWorld(async (url, body) => {
      const answer = await send(api.app, {
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { statusCode: answer.statusCode, body: JSON.parse(answer.text) as unknown };
    });
  });
  afterAll(async () => {
    if (!skip) await api.close();
  });

  it.skipIf(skip)(
    `answers ${runs}+ hostile requests with 4xx problems, writes nothing and stays up`,
    async () => {
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      const store = api.ledger.store;
      const keysBefore = await keyCounts(api);
      const startHead = await store.headPosition();
      let head = startHead;
      const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).length;
      const tally = new Tally();

      const check = async (request: HostileRequest, expectedStatus?: number): Promise<void> => {
        const answer = await send(api.app, request);
        tally.add(request.route, answer.statusCode);
        expectRefusal(request, answer, head);
        if (expectedStatus !== undefined) {
          expect(answer.statusCode, describeExchange(request, answer)).toBe(expectedStatus);
        }
        // API keys live beside the read models, not in the log: none created, none revoked.
        if (request.url.startsWith('/v1/keys') && !refusedBeforeHandler(answer)) {
          expect(await keyCounts(api), describeExchange(request, answer)).toEqual(keysBefore);
        }
        // The head is read after every write request that got past fastify's and zod's own
        // checks, and after every 100 requests whatever they were: exact (the log only grows),
        // and each request that reached a handler is named if it wrote.
        if ((request.writes && !refusedBeforeHandler(answer)) || tally.total % 100 === 0) {
          const now = await store.headPosition();
          const moved = now !== head;
          // The first write is this request's (or among the last 100); later ones are judged anew.
          head = now;
          expect(moved, `the log's head moved: ${describeExchange(request, answer)}`).toBe(false);
        }
        expect(Object.getOwnPropertyNames(Object.prototype)).toHaveLength(prototypeKeys);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      };

      await fc.assert(
        fc.asyncProperty(hostileRequest(world), (request) => check(request)),
        // No shrinking: a request that wrote changed the world its smaller versions would meet.
        { seed: SEED, numRuns: runs, endOnFailure: true },
      );

      // Every run sends bodies over the limit, whatever the seed drew.
      for (const url of ['/v1/weighings', '/v1/weighings/batch', '/v1/trips']) {
        await check(
          {
            route: `POST ${url}`,
            what: 'over the body limit',
            method: 'POST',
            url,
            headers: { 'content-type': 'application/json' },
            body: `{"items":["${'x'.repeat(BODY_LIMIT_BYTES)}"]}`,
            writes: true,
            batch: false,
          },
          413,
        );
      }
      // Valid writes with a key that is not one: refused (401) before anything else.
      const validWrites = [
        ['/v1/weighings', validWeighIn(world)],
        ['/v1/weighings/batch', { items: [validWeighIn(world)] }],
        ['/v1/districts', validDistrict()],
      ] as const;
      for (const [k, header] of HOSTILE_AUTHORIZATION.entries()) {
        const [url, valid] = validWrites[k % validWrites.length] ?? validWrites[0];
        await check(
          {
            route: `POST ${url}`,
            what: `authorization: ${header.slice(0, 40)}`,
            method: 'POST',
            url,
            headers: { 'content-type': 'application/json', authorization: header },
            body: JSON.stringify(valid),
            writes: true,
            batch: false,
          },
          401,
        );
      }

      expect(await store.headPosition()).toBe(startHead);
      const health = await send(api.app, { method: 'GET', url: '/health', headers: {} });
      expect(health.statusCode).toBe(200);
      expect(JSON.parse(health.text)).toEqual({ status: 'ok', headPosition: startHead });

      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuStarted);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      console.log(`${harness.name} ${tally.summary(seconds, cpuSeconds)}`);
      // The run proves it sent them: every generated request, plus the fixed ones.
      expect(tally.total).toBe(runs + 3 + HOSTILE_AUTHORIZATION.length);
      if (harness.name === 'pglite' && process.env.FUZZ_RUNS === undefined) {
        expect(tally.total).toBeGreaterThanOrEqual(TARGET);
      }
      // Every route that writes was attacked (a new one fails here until the fuzzer knows it).
      if (runs >= 5_000) {
        const writeRoutes = declaredRoutes(api.app)
          .filter((r) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method))
          .map((r) => `${r.method} ${r.url}`);
        expect(writeRoutes.filter((route) => !tally.byRoute.has(route))).toEqual([]);
      }
    },
    600_000,
  );
});
