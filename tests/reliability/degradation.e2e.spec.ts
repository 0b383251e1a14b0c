/**
 * Graceful degradation (issue 7, part 6): the ledger's PostgreSQL goes away under load and
 * comes back. Requests meanwhile fail fast with 503 problem+json and a Retry-After; nothing
 * acknowledged is lost or doubled; the ledger serves again by itself, without a restart, and
 * its read model catches up.
 *
 * The shared PostgreSQL is never restarted (other test files use it): the ledger reaches it
 * through a TCP proxy (tests/support/tcp-proxy.ts) that the test cuts, which resets every open
 * connection and refuses new ones, as a restarting server does. A second test terminates the
 * ledger's own sessions the way a restart begins (57P01 admin_shutdown).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEvents } from '../../src/audit/event-sources.js';
import { diffProjection, dropScratch, replayProjection } from '../../src/audit/replay.js';
import { dailyTonnage } from '../../src/projections/daily-tonnage/projection.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import {
  nextTicketNo,
  onePass,
  openApi,
  PROBLEM_BASE,
  registerScenario,
  registerVehicle,
  type Api,
  type Report,
  type Scenario,
} from '../api/fixtures.js';
import { checkpointOf, delay, eventually, readLog } from '../projections/fixtures.js';
import { authorization } from '../support/access.js';
import { POSTGRES_URL, postgresAvailable, type StoreHarness } from '../support/databases.js';
import { proxiedUrl, startTcpProxy, targetOf, type TcpProxy } from '../support/tcp-proxy.js';

const available = await postgresAvailable();

/** Each answer during an outage must come at least this fast. */
const ANSWER_BOUND_MS = 5_000;
const CLIENTS = 4;
const APPLICATION_NAME = `ledger_degradation_${randomBytes(4).toString('hex')}`;

/** A fresh schema on the shared PostgreSQL, reached through the proxy. */
function proxiedHarness(proxy: TcpProxy): StoreHarness {
  return {
    name: 'postgres',
    async open(options = {}) {
      const schema = `test_${randomBytes(6).toString('hex')}`;
      const url = new URL(proxiedUrl(POSTGRES_URL, proxy.port));
      // Names the ledger's sessions, so that the test can end exactly those.
      url.searchParams.set('application_name', APPLICATION_NAME);
      const { store, db } = await openPostgresStore({
        connectionString: url.toString(),
        schema,
        ...options,
      });
      return {
        store,
        db,
        appendElsewhere: () => Promise.reject(new Error('not used here')),
        async close() {
          await store.close();
          const admin = new pg.Client({ connectionString: POSTGRES_URL });
          await admin.connect();
          try {
            await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          } finally {
            await admin.end();
          }
        },
      };
    },
  };
}

/** One request as a client saw it. */
interface Exchange {
  readonly client: number;
  readonly url: string;
  readonly startedAt: number;
  readonly ms: number;
  readonly status: number;
  readonly contentType: string | undefined;
  readonly retryAfter: string | undefined;
  readonly body: unknown;
}

/**
 * The one place this file calls the API directly (it needs the Retry-After header, which the
 * fixtures' `post`/`get` do not return); authenticated as the fixtures' requests are.
 */
async function send(
  app: FastifyInstance,
  client: number,
  method: 'GET' | 'POST',
  url: string,
  payload?: unknown,
): Promise<Exchange> {
  const startedAt = Date.now();
  const response = await app.inject({
    method,
    url,
    headers: authorization(app),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return {
    client,
    url,
    startedAt,
    ms: Date.now() - startedAt,
    status: response.statusCode,
    contentType: response.headers['content-type'] as string | undefined,
    retryAfter: response.headers['retry-after'],
    body: response.json(),
  };
}

const unavailable = {
  type: `${PROBLEM_BASE}ledger-err-store-unavailable`,
  title: 'The event store cannot be reached',
  status: 503,
  detail: 'The database cannot be reached; retry shortly.',
  code: 'LEDGER_ERR_STORE_UNAVAILABLE',
};

interface Place {
  readonly streamId: string;
  readonly revision: number;
  readonly position: number;
}

/**
 * Weighbridge clients posting one-pass tickets (one report, then a batch of three, in turn)
 * until stopped; each request is sent again after a 503 until it is acknowledged. They retry
 * after 200 ms rather than the Retry-After's 2 s, to ask often during a short outage.
 */
function startClients(api: Api, s: Scenario, plates: readonly string[]) {
  const exchanges: Exchange[] = [];
  const acknowledged = new Map<string, Place>();
  let stopped = false;
  const minute = 60_000;
  const loops = plates.map(async (plate, client) => {
    // Each client its own plate and clock: 7 minutes between weighings (no repeat finding).
    let clock = Date.parse('2026-03-10T06:00:00+08:00') + client * 1_000;
    const report = (): Report => {
      clock += 7 * minute;
      return onePass({
        siteId: s.stationId,
        ticketNo: nextTicketNo(),
        plate,
        grossKg: 16_000,
        tareKg: 10_000,
        weighedInAt: `${new Date(clock + 8 * 60 * minute).toISOString().slice(0, 19)}+08:00`,
        origin: s.collection,
      });
    };
    for (let n = 0; !stopped; n += 1) {
      const batch = n % 2 === 1;
      const items = batch ? [report(), report(), report()] : [report()];
      for (;;) {
        const exchange = batch
          ? await send(api.app, client, 'POST', '/v1/weighings/batch', { items })
          : await send(api.app, client, 'POST', '/v1/weighings', items[0]);
        exchanges.push(exchange);
        if (exchange.status === 503) {
          await delay(200);
          continue;
        }
        if (batch && exchange.status === 200) {
          for (const result of (exchange.body as { results: (Place & { eventId: string })[] })
            .results) {
            acknowledged.set(result.eventId, result);
          }
        } else if (exchange.status === 200 || exchange.status === 201) {
          const accepted = exchange.body as Place & { eventId: string };
          acknowledged.set(accepted.eventId, accepted);
        }
        break;
      }
    }
  });
  return {
    exchanges,
    acknowledged,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** What a 503 for an unreachable database must look like, whole. */
function expectUnavailable(exchange: Exchange): void {
  expect(exchange.body).toEqual({ ...unavailable, instance: exchange.url });
  expect(exchange.status).toBe(503);
  expect(exchange.contentType).toMatch(/^application\/problem\+json/);
  expect(exchange.retryAfter).toBe('2');
}

/** Every acknowledged event is in the log once, where the answer said; no id is stored twice. */
async function expectLogHolds(api: Api, acknowledged: ReadonlyMap<string, Place>): Promise<void> {
  const log = await readLog(api.ledger.store);
  const ids = log.map((e) => e.id);
  expect(new Set(ids).size).toBe(ids.length);
  const stored = new Map(log.map((e) => [e.id, e]));
  const lost = [...acknowledged.keys()].filter((id) => !stored.has(id));
  expect(lost).toEqual([]);
  for (const [id, place] of acknowledged) {
    const event = stored.get(id);
    expect({
      id,
      streamId: event?.streamId,
      revision: event?.revision,
      position: event?.position,
    }).toEqual({
      id,
      streamId: place.streamId,
      revision: place.revision,
      position: place.position,
    });
  }
}

describe.skipIf(!available)('PostgreSQL out of reach under load', () => {
  let proxy: TcpProxy;
  let api: Api;
  let scenario: Scenario;
  const plates: string[] = [];
  const projections = new AbortController();
  let following: Promise<void>;

  beforeAll(async () => {
    proxy = await startTcpProxy(targetOf(POSTGRES_URL));
    api = await openApi(proxiedHarness(proxy));
    scenario = await registerScenario(api.app);
    for (let k = 0; k < CLIENTS; k += 1) plates.push(await registerVehicle(api.app));
    // The read model follows the log as on a server (the runner retries a failed batch).
    following = api.runner.run(projections.signal, 50);
  });

  afterAll(async () => {
    projections.abort();
    await following;
    await api.close();
    await proxy.close();
  });

  it('answers 503 with Retry-After while the database is cut off, then serves again by itself', async () => {
    const clients = startClients(api, scenario, plates);
    await delay(1_000);

    await proxy.cut();
    const cutAt = Date.now();
    // Reads fail the same way as writes.
    await delay(500);
    const reads = [
      await send(api.app, -1, 'GET', '/health'),
      await send(api.app, -1, 'GET', '/v1/tonnage?from=2026-03-10&to=2026-03-12'),
    ];
    await delay(2_500);
    const restoredAt = Date.now();
    await proxy.restore();
    await delay(2_000);
    await clients.stop();

    const { exchanges } = clients;
    const outage = exchanges.filter((e) => e.startedAt >= cutAt && e.startedAt + e.ms < restoredAt);
    const after = exchanges.filter((e) => e.startedAt >= restoredAt + 1_000);
    // Enough traffic in each phase for the assertions to mean something.
    expect(exchanges.filter((e) => e.startedAt + e.ms < cutAt).length).toBeGreaterThan(CLIENTS);
    expect(outage.length).toBeGreaterThan(CLIENTS * 5);
    expect(after.length).toBeGreaterThan(CLIENTS);

    for (const exchange of [...reads, ...outage]) expectUnavailable(exchange);
    // Any answer, in any phase, is a success or that 503, and comes fast.
    for (const exchange of exchanges) {
      if (exchange.status === 503) expectUnavailable(exchange);
      else expect([200, 201]).toContain(exchange.status);
      expect(exchange.ms).toBeLessThan(ANSWER_BOUND_MS);
    }
    expect(after.map((e) => e.status).filter((s) => s !== 200 && s !== 201)).toEqual([]);

    await expectLogHolds(api, clients.acknowledged);
    // The read model catches up (its runner backed off while the database was away).
    const head = await api.ledger.store.headPosition();
    expect(
      await eventually(
        async () => ((await checkpointOf(api.ledger.db, dailyTonnage.name)) ?? 0) >= head,
        30_000,
        100,
      ),
    ).toBe(true);
    const schema = `replay_degradation_${randomBytes(4).toString('hex')}`;
    try {
      const replayed = await replayProjection({
        db: api.ledger.db,
        projection: dailyTonnage,
        events: storeEvents(api.ledger.store),
        upTo: { position: head },
        schema,
      });
      const diffs = await diffProjection(api.ledger.db, dailyTonnage, replayed.tables);
      expect(diffs.map((d) => [d.table, d.onlyLive, d.onlyReplayed])).toEqual(
        dailyTonnage.tables.map((t) => [t, 0, 0]),
      );
    } finally {
      await dropScratch(api.ledger.db, schema);
    }
  }, 90_000);

  it('answers 503 to requests whose session the server terminates (57P01, as a restart does)', async () => {
    const clients = startClients(api, scenario, plates);
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      for (let round = 0; round < 5; round += 1) {
        await delay(300);
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
          [APPLICATION_NAME],
        );
      }
    } finally {
      await admin.end();
    }
    await delay(1_000);
    await clients.stop();

    for (const exchange of clients.exchanges) {
      if (exchange.status === 503) expectUnavailable(exchange);
      else expect([200, 201]).toContain(exchange.status);
      expect(exchange.ms).toBeLessThan(ANSWER_BOUND_MS);
    }
    // Each client's last request went through: the pool replaced the terminated sessions.
    for (let client = 0; client < CLIENTS; client += 1) {
      const last = clients.exchanges.filter((e) => e.client === client).at(-1);
      expect([200, 201]).toContain(last?.status);
    }
    await expectLogHolds(api, clients.acknowledged);
  }, 60_000);
});
