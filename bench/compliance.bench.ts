/**
 * `npm run bench:compliance`: the compliance report over a growing log, on PostgreSQL.
 *
 *   npm run bench:compliance                 10 simulated days of Jinan 2022 (about 330 000 events)
 *   npm run bench:compliance -- --days 365   a year (about 12 000 000 events; an hour or more to load)
 *
 * A long load can be kept and resumed: `--schema NAME` loads into that schema and keeps it
 * (days already loaded are skipped, so an interrupted load goes on where it stopped), and
 * `--changes-requests N` sets how many requests time phase (4), which grows with the log
 * (default 20; 0 leaves it out). `--load-only` stops after loading, so the timed phases can be run later on a quiet machine;
 * with `--project-while-loading` the projection follows each loaded day (untimed), so that the
 * later run only times the reports.
 * Days load one after another: the same vehicles weigh every day, so days loaded side by side
 * contend for the same gate streams and spend their time retrying.
 *
 * Loads simulated city days through the same ingestion code the API runs (in-process, without
 * HTTP), catches the compliance-facts projection up (timed: events/s), then times the Jinan 2022
 * report for the whole year through the API (app.inject): 200 requests now, 50 as of the
 * middle of the log (a past moment: the figures as the ledger knew them then), and 20 as of the
 * middle with the list of every ticket changed since. Prints p50 and p99
 * against the targets (p99 ≤ 50 ms now, ≤ 2 s as of a past moment, at 10 000 000 events).
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { accessMigrations, KeyStore } from '../src/access/key-store.js';
import { buildApp } from '../src/api/app.js';
import { parseWeighingItem } from '../src/api/weighings/weighing-items.js';
import {
  districtSchema,
  siteSchema,
  vehicleSchema,
} from '../src/domain/master-data/master-data.js';
import { MasterData } from '../src/ingestion/master-data.js';
import { WeighingIngestion, type IngestItem } from '../src/ingestion/weighing-ingestion.js';
import { complianceFacts } from '../src/projections/compliance-facts/projection.js';
import { projectionMigrations } from '../src/projections/runner/checkpoints.js';
import { ProjectionRunner } from '../src/projections/runner/runner.js';
import { addDays, generateCityDay } from '../src/simulator/city.js';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';
import type { EventStore } from '../src/store/port.js';
import { migrateToLatest } from '../src/store/sql/migrate.js';
import { machine, writeResults } from './support/report.js';

const { values: args } = parseArgs({
  options: {
    days: { type: 'string', default: '10' },
    schema: { type: 'string' },
    'load-only': { type: 'boolean', default: false },
    'project-while-loading': { type: 'boolean', default: false },
    /** Requests for phase (4), which grows with the log (0 leaves it out). */
    'changes-requests': { type: 'string', default: '20' },
    'database-url': {
      type: 'string',
      default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
  },
});

const TARGETS = { reportP99Ms: 50, asOfP99Ms: 2000, atEvents: 10_000_000 };
const FIRST_DAY = '2022-01-01';
const TIME_ZONE = 'Asia/Shanghai';

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function timeRequests(
  count: number,
  request: () => Promise<{ statusCode: number; body: string }>,
): Promise<{ p50Ms: number; p99Ms: number }> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await request();
    if (response.statusCode !== 200) {
      throw new Error(`report answered ${response.statusCode}: ${response.body}`);
    }
    latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  return {
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
  };
}

/** Outcomes of every loaded item, by status (and rejections by error code). */
type OutcomeCounts = Record<string, number>;

async function loadDays(
  store: EventStore,
  db: Kysely<unknown>,
  days: number,
  afterEachDay?: () => Promise<unknown>,
): Promise<OutcomeCounts> {
  await sql`CREATE TABLE IF NOT EXISTS bench_loaded_days (
    day text PRIMARY KEY, outcomes jsonb NOT NULL)`.execute(db);
  const loaded = await sql<{ day: string; outcomes: OutcomeCounts }>`
    SELECT day, outcomes FROM bench_loaded_days`.execute(db);
  const done = new Map(loaded.rows.map((r) => [r.day, r.outcomes]));
  const masterData = new MasterData(store);
  const first = generateCityDay({ date: FIRST_DAY, seed: 1, scale: 1 });
  if ((await store.headPosition()) === 0) {
    for (const d of first.districts)
      await masterData.registerDistrict(districtSchema.parse(d), 'bench');
    for (const s of first.sites) await masterData.registerSite(siteSchema.parse(s), 'bench');
    for (const v of first.vehicles)
      await masterData.registerVehicle(vehicleSchema.parse(v), 'bench');
  }
  const ingestion = new WeighingIngestion(store, masterData, TIME_ZONE);
  const dates = Array.from({ length: days }, (_, d) => addDays(FIRST_DAY, d));
  const pending = dates.filter((date) => !done.has(date));
  const started = performance.now();
  let finished = days - pending.length;

  const loadDay = async (date: string): Promise<void> => {
    const d = dates.indexOf(date);
    const day = d === 0 ? first : generateCityDay({ date, seed: 1 + d, scale: 1 });
    const counts: OutcomeCounts = {};
    for (let i = 0; i < day.items.length; i += 1000) {
      const chunk: IngestItem[] = day.items
        .slice(i, i + 1000)
        .map((item, k) => parseWeighingItem(item, `items[${k}]`));
      const outcomes = await ingestion.ingest(chunk, {
        now: Date.now(),
        actor: 'bench',
        correlationId: date,
      });
      for (const o of outcomes) {
        const key = o.status === 'rejected' ? `rejected:${o.error.code}` : o.status;
        counts[key] = (counts[key] ?? 0) + 1;
      }
    }
    await sql`INSERT INTO bench_loaded_days (day, outcomes)
      VALUES (${date}, ${JSON.stringify(counts)}::jsonb)`.execute(db);
    done.set(date, counts);
    await afterEachDay?.();
    finished += 1;
    const elapsed = (performance.now() - started) / 1000;
    const left = ((days - finished) * elapsed) / Math.max(1, finished - (days - pending.length));
    process.stderr.write(
      `\r    loaded ${finished}/${days} days, ${await store.headPosition()} events, ` +
        `${elapsed.toFixed(0)} s, about ${(left / 60).toFixed(0)} min left   `,
    );
  };
  for (const date of pending) await loadDay(date);
  process.stderr.write(
    `\n    loading took ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
  const total: OutcomeCounts = {};
  for (const counts of done.values())
    for (const [k, n] of Object.entries(counts)) total[k] = (total[k] ?? 0) + n;
  return total;
}

async function main() {
  const url = args['database-url'];
  const days = Number(args.days);
  if (!Number.isInteger(days) || days < 1) throw new Error(`--days must be a whole number ≥ 1`);
  const changesRequests = Number(args['changes-requests']);
  if (!Number.isInteger(changesRequests) || changesRequests < 0) {
    throw new Error('--changes-requests must be a whole number ≥ 0');
  }
  const keep = args.schema !== undefined;
  const schema = args.schema ?? `bench_compliance_${Date.now()}`;
  const { store, db } = await openPostgresStore({ connectionString: url, schema, poolSize: 4 });
  try {
    await migrateToLatest(db as Kysely<unknown>, 'projections', projectionMigrations, schema);
    await migrateToLatest(db as Kysely<unknown>, 'access', accessMigrations, schema);
    const runner = new ProjectionRunner<string>({
      store,
      db: db as Kysely<unknown>,
      projection: complianceFacts,
    });
    await runner.setup();
    const outcomes = await loadDays(
      store,
      db as Kysely<unknown>,
      days,
      args['project-while-loading'] ? () => runner.catchUp() : undefined,
    );
    const head = await store.headPosition();
    console.log(`    ${head} events in ${schema}; items by outcome: ${JSON.stringify(outcomes)}`);
    if (args['load-only']) return;

    const catchUpStarted = performance.now();
    await runner.catchUp();
    const catchUpSeconds = (performance.now() - catchUpStarted) / 1000;
    console.log(
      args['project-while-loading']
        ? `\n(1) compliance-facts projection followed the load (not timed)`
        : `\n(1) compliance-facts projection over ${head} events: ${catchUpSeconds.toFixed(1)} s = ` +
            `${Math.round(head / catchUpSeconds)} events/s`,
    );

    // Requests carry a key as a regulator's would (verified once, then from the cache).
    const keys = new KeyStore(db as Kysely<unknown>);
    const { key } = await keys.create({
      role: 'regulator',
      sites: [],
      districts: [],
      label: 'bench',
    });
    const app = await buildApp({
      store,
      db: db as Kysely<unknown>,
      timeZone: TIME_ZONE,
      keys,
      clock: () => Date.parse('2023-01-15T12:00:00+08:00'),
    });
    const report = (query: string) => async () => {
      const r = await app.inject({
        method: 'GET',
        url: `/v1/plans/jinan-2022/report${query}`,
        headers: { authorization: `Bearer ${key}` },
      });
      return { statusCode: r.statusCode, body: r.body };
    };
    for (let i = 0; i < 20; i++) await report('')(); // warm-up
    const now = await timeRequests(200, report(''));
    console.log(
      `(2) Jinan 2022 report for the year, now, ${head} events: p50 ${now.p50Ms} ms, p99 ${now.p99Ms} ms; ` +
        `target p99 ≤ ${TARGETS.reportP99Ms} ms at ${TARGETS.atEvents} events`,
    );
    const middle = Math.floor(head / 2);
    const asOf = await timeRequests(50, report(`?asOfPosition=${middle}&changes=false`));
    console.log(
      `(3) the same report as of position ${middle} (half the log since): p50 ${asOf.p50Ms} ms, ` +
        `p99 ${asOf.p99Ms} ms; target p99 ≤ ${TARGETS.asOfP99Ms} ms at ${TARGETS.atEvents} events`,
    );
    const withChanges =
      changesRequests > 0
        ? await timeRequests(changesRequests, report(`?asOfPosition=${middle}`))
        : undefined;
    console.log(
      withChanges === undefined
        ? '(4) the list of tickets changed since: left out (--changes-requests 0)'
        : `(4) and with the list of tickets changed since (every change in half the log), ` +
            `${changesRequests} requests: p50 ${withChanges.p50Ms} ms, p99 ${withChanges.p99Ms} ms`,
    );
    await app.close();

    const file = path.resolve('bench/results/compliance.json');
    await writeResults(file, {
      benchmark: 'compliance',
      at: new Date().toISOString(),
      machine: machine(),
      targets: TARGETS,
      days,
      events: head,
      outcomes,
      projection: { seconds: catchUpSeconds, eventsPerSecond: Math.round(head / catchUpSeconds) },
      reportNow: now,
      reportAsOfMiddle: { position: middle, ...asOf },
      reportAsOfMiddleWithChanges:
        withChanges === undefined
          ? null
          : { position: middle, requests: changesRequests, ...withChanges },
    });
    console.log(`JSON: ${file}`);
  } finally {
    await store.close();
    if (keep) {
      console.log(`    schema ${schema} kept; drop it with: DROP SCHEMA ${schema} CASCADE`);
    } else {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  }
}

await main();
