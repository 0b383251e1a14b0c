/**
 * `npm run bench:ingestion`: HTTP ingestion and the daily-tonnage query, on PostgreSQL.
 *
 *   npm run bench:ingestion                 1 simulated city day over HTTP, then 30 days loaded
 *   npm run bench:ingestion -- --days 3     fewer days for the query phase (quicker)
 *   npm run bench:ingestion -- --profile-dir /tmp/prof   a CPU profile of the server
 *
 * (1) HTTP batched ingestion: the ledger runs as its own process (`node dist/main.js`, with its
 *     projection runner) on a local port; 8 clients in this process, each the
 *     weighbridge software of its own share of the sites, post a city day's reports in batches
 *     of 100 tickets (all of a ticket's reports together), in the order they happened.
 * (2) Query latency: more simulated days are ingested in-process (the same WeighingIngestion
 *     code, without HTTP) until the log holds about 1 000 000 events, the daily-tonnage
 *     projection catches up, then 1 000 tonnage queries (a month, by day, material and flow)
 *     are timed over HTTP: p50 and p99.
 * (3) Start-up: `node dist/main.js` on an existing PGlite folder, time to the first answer.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { generateApiKey } from '../src/access/api-key.js';
import { MasterData } from '../src/ingestion/master-data.js';
import { WeighingIngestion, type IngestItem } from '../src/ingestion/weighing-ingestion.js';
import { projectionMigrations } from '../src/projections/runner/checkpoints.js';
import { addDays, generateCityDay, type CityDay } from '../src/simulator/city.js';
import {
  districtSchema,
  siteSchema,
  vehicleSchema,
} from '../src/domain/master-data/master-data.js';
import { parseWeighingItem } from '../src/api/weighings/weighing-items.js';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';
import { migrateToLatest } from '../src/store/sql/migrate.js';
import { cpuSnapshot } from './support/cpu.js';
import { machine, writeResults } from './support/report.js';

const { values: args } = parseArgs({
  options: {
    days: { type: 'string', default: '30' },
    clients: { type: 'string', default: '8' },
    // Writes a V8 CPU profile of the server process to this folder (open it in Chrome DevTools).
    'profile-dir': { type: 'string' },
    'database-url': {
      type: 'string',
      default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
  },
});

const TARGETS = { httpEventsPerSecond: 10_000, queryP99Ms: 20, startupMs: 3000 };
const TICKETS_PER_BATCH = 100;
const FIRST_DAY = '2026-10-01';

type Item = CityDay['items'][number];

/** Splits a day's reports among clients by site, then into batches of 100 tickets each. */
function clientBatches(day: CityDay, clients: number): Item[][][] {
  const sites = [...new Set(day.items.map((i) => i.data.siteId))].sort();
  const clientOf = new Map(sites.map((s, k) => [s, k % clients]));
  const perClient: Item[][] = Array.from({ length: clients }, () => []);
  for (const item of day.items) perClient[clientOf.get(item.data.siteId) ?? 0]?.push(item);
  return perClient.map((items) => {
    const batches: Item[][] = [];
    let batch: Item[] = [];
    const tickets = new Set<string>();
    for (const item of items) {
      const ticket = `${item.data.siteId}/${item.data.ticketNo}`;
      if (!tickets.has(ticket) && tickets.size === TICKETS_PER_BATCH) {
        batches.push(batch);
        batch = [];
        tickets.clear();
      }
      tickets.add(ticket);
      batch.push(item);
    }
    if (batch.length > 0) batches.push(batch);
    return batches;
  });
}

/**
 * The server is started with this admin key (LEDGER_ADMIN_KEY) and a rate limit no client
 * reaches: the bench measures ingestion, not the limiter's refusals.
 */
const { key: ADMIN_KEY } = generateApiKey();
const AUTHORIZATION = { authorization: `Bearer ${ADMIN_KEY}` };
const SERVER_ENV = { LEDGER_ADMIN_KEY: ADMIN_KEY, LEDGER_RATE_LIMIT_PER_MINUTE: '10000000' };

async function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...AUTHORIZATION },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function registerMasterData(masterData: MasterData, day: CityDay) {
  for (const d of day.districts)
    await masterData.registerDistrict(districtSchema.parse(d), 'bench');
  for (const s of day.sites) await masterData.registerSite(siteSchema.parse(s), 'bench');
  for (const v of day.vehicles) await masterData.registerVehicle(vehicleSchema.parse(v), 'bench');
}

async function waitUntilReady(address: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${address}/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the ledger at ${address} did not become ready`);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function startupPhase(): Promise<number> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ledger-startup-'));
  const run = async (): Promise<number> => {
    const port = 39_000 + Math.floor(performance.now() % 500);
    const started = performance.now();
    const child = spawn(process.execPath, ['dist/main.js'], {
      env: {
        ...process.env,
        ...SERVER_ENV,
        DATABASE_URL: '',
        LEDGER_DATA_DIR: dataDir,
        LEDGER_FIRST_ADMIN_KEY_FILE: path.join(dataDir, 'first-admin-key'),
        PORT: String(port),
      },
      stdio: 'ignore',
    });
    try {
      for (;;) {
        try {
          const r = await fetch(`http://127.0.0.1:${port}/health/ready`);
          if (r.ok) return performance.now() - started;
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  };
  try {
    await run(); // creates the folder; the target is about an existing one
    return await run();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const url = args['database-url'];
  const schema = `bench_ingest_${Date.now()}`;
  const clients = Number(args.clients);
  const { store, db } = await openPostgresStore({
    connectionString: url,
    schema,
    poolSize: clients + 4,
  });
  await migrateToLatest(db as Kysely<unknown>, 'projections', projectionMigrations, schema);
  // The ledger runs as its own process (with its projection runners), as in production; the
  // clients run here, so they do not take the server's CPU.
  const port = 38_000 + (Date.now() % 1000);
  const address = `http://127.0.0.1:${port}`;
  const profile = args['profile-dir'];
  const nodeArgs = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`];
  const server = spawn(process.execPath, [...nodeArgs, 'dist/main.js'], {
    env: {
      ...process.env,
      ...SERVER_ENV,
      DATABASE_URL: url,
      LEDGER_DB_SCHEMA: schema,
      PORT: String(port),
    },
    stdio: 'ignore',
  });
  await waitUntilReady(address);
  try {
    // (1) HTTP ingestion of one city day.
    const first = generateCityDay({ date: FIRST_DAY, seed: 1, scale: 1 });
    const masterData = new MasterData(store);
    await registerMasterData(masterData, first);
    const headBefore = await store.headPosition();
    const batches = clientBatches(first, clients);
    let recorded = 0;
    let rejected = 0;
    const started = performance.now();
    const cpuUsed = cpuSnapshot(server.pid);
    await Promise.all(
      batches.map(async (clientBatchList) => {
        for (const items of clientBatchList) {
          const { status, json } = await post(`${address}/v1/weighings/batch`, { items });
          if (status !== 200) throw new Error(`batch answered ${status}: ${JSON.stringify(json)}`);
          for (const r of (json as { results: { status: string }[] }).results) {
            if (r.status === 'rejected') rejected += 1;
            else recorded += 1;
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuUsed();
    const events = (await store.headPosition()) - headBefore;
    const http = {
      reports: first.items.length,
      recorded,
      rejected,
      seconds,
      reportsPerSecond: Math.round(recorded / seconds),
      eventsPerSecond: Math.round(events / seconds),
      storedEvents: events,
      cpu,
    };
    console.log(
      `\n(1) HTTP ingestion, ${clients} clients, batches of ${TICKETS_PER_BATCH} tickets: ` +
        `${recorded} reports (${rejected} rejected) → ${events} events in ${seconds.toFixed(2)} s = ` +
        `${http.eventsPerSecond} events/s (${http.reportsPerSecond} reports/s); target ≥ ${TARGETS.httpEventsPerSecond} events/s → ` +
        `${(http.eventsPerSecond / TARGETS.httpEventsPerSecond).toFixed(2)}×\n` +
        `    CPU seconds in that time (2 cores give ${(2 * seconds).toFixed(1)}): server ${cpu.serverSeconds ?? '?'}, ` +
        `PostgreSQL ${cpu.postgresSeconds ?? '?'}, clients ${cpu.clientSeconds}`,
    );

    // (2) Load more days in-process until about a million events, then time queries.
    const ingestion = new WeighingIngestion(store, masterData, 'Asia/Shanghai');
    const days = Number(args.days);
    for (let d = 1; d < days; d++) {
      const date = addDays(FIRST_DAY, d);
      const day = generateCityDay({ date, seed: 1 + d, scale: 1 });
      for (let i = 0; i < day.items.length; i += 1000) {
        // Parsed exactly as the API parses a batch item.
        const chunk: IngestItem[] = day.items
          .slice(i, i + 1000)
          .map((item, k) => parseWeighingItem(item, `items[${k}]`));
        await ingestion.ingest(chunk, {
          now: Date.now(),
          actor: 'bench',
          correlationId: `bench-${date}`,
        });
      }
      process.stderr.write(
        `\r    loaded ${d + 1}/${days} days, ${await store.headPosition()} events`,
      );
    }
    const head = await store.headPosition();
    const catchUpStart = performance.now();
    // Every projection the server runs must be caught up, or queries are timed under its load.
    const behind = async () => {
      const head = await store.headPosition();
      const { rows } = await sql<{ name: string; position: string }>`
        SELECT name, position FROM projection_checkpoints`.execute(db);
      return rows.length < 2 || rows.some((r) => Number(r.position) < head);
    };
    while (await behind()) await new Promise((resolve) => setTimeout(resolve, 200));
    process.stderr.write(
      `\n    projection caught up ${((performance.now() - catchUpStart) / 1000).toFixed(1)} s after the last append\n`,
    );
    const lastDay = addDays(FIRST_DAY, days - 1);
    const queryUrl = `${address}/v1/tonnage?from=${FIRST_DAY}&to=${lastDay}&groupBy=day,material,flow`;
    const ask = () => fetch(queryUrl, { headers: AUTHORIZATION });
    const check = (await (await ask()).json()) as { rows: unknown[]; totalKg: number };
    for (let i = 0; i < 50; i++) await ask(); // warm-up
    const latencies: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const t = performance.now();
      const r = await ask();
      await r.arrayBuffer();
      latencies.push(performance.now() - t);
    }
    latencies.sort((a, b) => a - b);
    const query = {
      events: head,
      rows: check.rows.length,
      p50Ms: Number(percentile(latencies, 50).toFixed(2)),
      p99Ms: Number(percentile(latencies, 99).toFixed(2)),
    };
    console.log(
      `(2) tonnage query over ${days} days (${query.rows} rows) with ${head} events in the log: ` +
        `p50 ${query.p50Ms} ms, p99 ${query.p99Ms} ms; target p99 ≤ ${TARGETS.queryP99Ms} ms`,
    );

    // (3) Start-up on an existing PGlite folder.
    const startupMs = Math.round(await startupPhase());
    console.log(
      `(3) node dist/main.js on an existing PGlite folder answered its first request after ${startupMs} ms ` +
        `(npm start adds npm's own start-up); target ≤ ${TARGETS.startupMs} ms`,
    );

    const report = {
      benchmark: 'ingestion',
      at: new Date().toISOString(),
      machine: machine(),
      targets: TARGETS,
      http,
      query,
      startupMs,
    };
    const file = path.resolve('bench/results/ingestion.json');
    await writeResults(file, report);
    console.log(`JSON: ${file}`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    await store.close();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

await main();
