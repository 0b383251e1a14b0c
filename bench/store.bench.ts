/**
 * `npm run bench`: the event store's throughput on PostgreSQL and PGlite, with the issue's
 * targets beside each figure, printed as a table and written as JSON to bench/results/.
 *
 *   npm run bench                         both backends, default sizes
 *   npm run bench -- --backend postgres   one backend
 *   npm run bench -- --tickets 40000      batched workload size (5 events per ticket)
 *   EVENTSTORE_URL=esdb://… npm run bench -- --backend eventstoredb
 *                                         the log in EventStoreDB (read models, the position
 *                                         index and the checks in PostgreSQL)
 *   npm run bench -- --peer               against Emmett's PostgreSQL store (bench/peer.bench.ts)
 *   npm run bench -- --growth             cost per event as the log grows (bench/peer.bench.ts)
 *
 * Phases: (a) one event per append, sequential, exact expectations, after 500 unmeasured
 * warm-up appends; (b) 100 events per call
 * (20 tickets × 5) over many streams, 8 calls in flight; (c) readAll of the whole log in pages;
 * (d) projection catch-up (net kg and events by day and category) through the runner.
 * Each phase also checks what it produced: (c) every event exactly once, dense and in order;
 * (d) the read model equals a direct SQL sum over the log and a plain fold of the events.
 * Then what auditors run: (e) verification of every chain, seal and signature, (f) export as
 * NDJSON (verified offline as its check), and on PostgreSQL (g) the hash chain's cost on
 * batched appends (`--skip-overhead` leaves that out).
 */
import { tmpdir } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { exportLines, verifyStore } from '../src/audit/log-audit.js';
import { Sealer } from '../src/audit/sealer.js';
import { verifyExportLines } from '../src/audit/verify-export.js';
import { generateSigningKey } from '../src/integrity/signing.js';
import { ProjectionRunner } from '../src/projections/runner/runner.js';
import { storeMigrations } from '../src/store/sql/migrations/index.js';
import { canonicalJson } from '../src/integrity/canonical-json.js';
import { contentHashOfCanonical } from '../src/integrity/event-hash.js';
import { projectionMigrations } from '../src/projections/runner/checkpoints.js';
import { openPGliteStore } from '../src/store/pglite/pglite-store.js';
import type { EventStore, RecordedEvent, StreamAppend } from '../src/store/port.js';
import { openEventStoreDbStore } from '../src/store/eventstoredb/open-esdb-store.js';
import { openPostgresDatabase, openPostgresStore } from '../src/store/postgres/postgres-store.js';
import { migrateToLatest } from '../src/store/sql/migrate.js';
import {
  machine,
  phase,
  printTable,
  timed,
  writeResults,
  type PhaseResult,
} from './support/report.js';
import { foldNetKg, netKgByDayCategory } from './workload/net-kg-projection.js';
import { prng, ticketEvents } from './workload/tickets.js';

// `--peer` (against Emmett) and `--growth` (cost per event as the log grows) are benchmarks of
// their own, with their own options: bench/peer.bench.ts parses and runs them.
const mode = parseArgs({
  options: { peer: { type: 'boolean' }, growth: { type: 'boolean' } },
  strict: false,
}).values;
if (mode.peer === true || mode.growth === true) {
  const { runPeerOrGrowth } = await import('./peer.bench.js');
  await runPeerOrGrowth();
  process.exit();
}

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'all' },
    tickets: { type: 'string' },
    sequential: { type: 'string' },
    'skip-overhead': { type: 'boolean', default: false },
    'database-url': {
      type: 'string',
      default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
  },
});

const TARGETS = {
  sequential: 1500,
  batched: 20_000,
  readAll: 45_000,
  projection: 40_000,
  verify: 100_000,
  export: 50_000,
};
const IN_FLIGHT = 8;
const TICKETS_PER_CALL = 20;

type BackendName = 'postgres' | 'pglite' | 'eventstoredb';

interface Backend {
  readonly name: BackendName;
  readonly store: EventStore;
  readonly db: Kysely<unknown>;
  readonly schema: string;
  close(): Promise<void>;
}

async function openBackend(name: BackendName): Promise<Backend> {
  if (name === 'eventstoredb') return openEventStoreDbBackend();
  if (name === 'postgres') {
    const schema = `bench_${Date.now()}`;
    const url = args['database-url'];
    const { store, db } = await openPostgresStore({
      connectionString: url,
      schema,
      poolSize: IN_FLIGHT + 2,
    });
    await migrateToLatest(db as Kysely<unknown>, 'projections', projectionMigrations, schema);
    return {
      name,
      store,
      db: db as Kysely<unknown>,
      schema,
      async close() {
        await store.close();
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
        await admin.end();
      },
    };
  }
  // The embedded default persists to a folder; so does the benchmark, to measure that.
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ledger-bench-'));
  const { store, db } = await openPGliteStore({ dataDir });
  await migrateToLatest(db as Kysely<unknown>, 'projections', projectionMigrations, 'public');
  return {
    name,
    store,
    db: db as Kysely<unknown>,
    schema: 'public',
    async close() {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The log in EventStoreDB (EVENTSTORE_URL), in a namespace of its own; the rest in PostgreSQL. */
async function openEventStoreDbBackend(): Promise<Backend> {
  const eventStoreUrl = process.env.EVENTSTORE_URL;
  if (eventStoreUrl === undefined) {
    throw new Error('--backend eventstoredb needs EVENTSTORE_URL (an esdb:// connection string)');
  }
  const stamp = Date.now();
  const schema = `bench_esdb_${stamp}`;
  const url = args['database-url'];
  const db = await openPostgresDatabase({ connectionString: url, schema });
  await migrateToLatest(db, 'projections', projectionMigrations, schema);
  const store = await openEventStoreDbStore({
    connectionString: eventStoreUrl,
    db,
    schema,
    namespace: `bench${stamp}`,
  });
  return {
    name: 'eventstoredb',
    store,
    db,
    schema,
    async close() {
      await store.close();
      await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(db);
      await db.destroy();
    },
  };
}

/**
 * Appends that are not measured: they let V8 compile the hot path and each connection plan the
 * append function (PL/pgSQL prepares its statements on first use). Their events stay in the log
 * and are read and projected like the others.
 */
const WARM_UP_APPENDS = 500;

async function warmUp(store: EventStore): Promise<void> {
  const random = prng(99);
  for (let i = 0; i < WARM_UP_APPENDS / 5; i++) {
    const ticket = ticketEvents(random, 9_000_000 + i);
    let expectedRevision: StreamAppend['expectedRevision'] = 'no_stream';
    for (const event of ticket.events) {
      expectedRevision = (await store.append(ticket.streamId, [event], { expectedRevision }))
        .nextExpectedRevision;
    }
  }
}

async function sequentialPhase(store: EventStore, count: number): Promise<PhaseResult> {
  await warmUp(store);
  const random = prng(1);
  const tickets: StreamAppend[] = Array.from({ length: Math.ceil(count / 5) }, (_, i) =>
    ticketEvents(random, 1_000_000 + i),
  );
  const { seconds } = await timed(async () => {
    let written = 0;
    for (const ticket of tickets) {
      let expectedRevision: StreamAppend['expectedRevision'] = 'no_stream';
      for (const event of ticket.events) {
        if (written++ >= count) return;
        const result = await store.append(ticket.streamId, [event], { expectedRevision });
        expectedRevision = result.nextExpectedRevision;
      }
    }
  });
  return phase('(a) append, 1 event per call, sequential', count, seconds, {
    target: TARGETS.sequential,
  });
}

async function batchedPhase(store: EventStore, tickets: number): Promise<PhaseResult> {
  const random = prng(2);
  const calls: StreamAppend[][] = [];
  for (let i = 0; i < tickets; i += TICKETS_PER_CALL) {
    calls.push(
      Array.from({ length: Math.min(TICKETS_PER_CALL, tickets - i) }, (_, k) =>
        ticketEvents(random, i + k),
      ),
    );
  }
  let next = 0;
  const worker = async () => {
    while (next < calls.length) {
      const call = calls[next++];
      if (call !== undefined) await store.appendMany(call);
    }
  };
  const { seconds } = await timed(() => Promise.all(Array.from({ length: IN_FLIGHT }, worker)));
  return phase(
    `(b) append, ${TICKETS_PER_CALL * 5} events per call, ${IN_FLIGHT} in flight`,
    tickets * 5,
    seconds,
    {
      target: TARGETS.batched,
    },
  );
}

async function readAllPhase(
  store: EventStore,
): Promise<{ result: PhaseResult; events: RecordedEvent[] }> {
  const head = await store.headPosition();
  const events: RecordedEvent[] = [];
  const { seconds } = await timed(async () => {
    let after = 0;
    for (;;) {
      const page = await store.readAll({ after, maxCount: 1000 });
      if (page.events.length === 0) break;
      for (const e of page.events) events.push(e);
      after = page.readUpTo;
    }
  });
  const dense = events.every((e, i) => e.position === i + 1);
  const distinct = new Set(events.map((e) => e.id)).size === events.length;
  const ok = events.length === head && dense && distinct;
  return {
    events,
    result: phase('(c) readAll, pages of 1000', events.length, seconds, {
      target: TARGETS.readAll,
      check: `${events.length}/${head} delivered, distinct, positions 1..${head} in order`,
      ok,
    }),
  };
}

function same(
  a: Map<string, { netKg: number; events: number }>,
  b: Map<string, { netKg: number; events: number }>,
): boolean {
  return (
    a.size === b.size &&
    [...a].every(([k, v]) => b.get(k)?.netKg === v.netKg && b.get(k)?.events === v.events)
  );
}

async function projectionPhase(
  backend: Backend,
  events: readonly RecordedEvent[],
): Promise<PhaseResult> {
  const runner = new ProjectionRunner({
    store: backend.store,
    db: backend.db,
    projection: netKgByDayCategory,
    batchSize: 2000,
  });
  await runner.setup();
  const { value: checkpoint, seconds } = await timed(() => runner.catchUp());
  const modelRows = await sql<{ day: string; category: string; net_kg: number; events: number }>`
    SELECT to_char(day, 'YYYY-MM-DD') AS day, category, net_kg, events FROM bench_net_kg`.execute(
    backend.db,
  );
  const model = new Map(
    modelRows.rows.map((r) => [
      `${r.day}|${r.category}`,
      { netKg: Number(r.net_kg), events: Number(r.events) },
    ]),
  );
  // Two independent checks: a plain fold in JS, and a direct SQL sum over the stored log (only
  // where the log is in SQL: with EventStoreDB the fold is the one check).
  const folded = foldNetKg(events);
  if (backend.name === 'eventstoredb') {
    const ok = checkpoint === events.length && same(model, folded);
    return phase('(d) projection catch-up, net kg by (day, category)', checkpoint, seconds, {
      target: TARGETS.projection,
      check: `${model.size} groups = fold; checkpoint ${checkpoint}`,
      ok,
    });
  }
  const direct = await sql<{ key: string; net_kg: number; events: number }>`
    SELECT to_char((data->>'weighedInAt')::timestamptz AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') || '|' || (data->>'category') AS key,
           sum(CASE WHEN type = 'VehicleWeighedOut' THEN (data->>'netKg')::bigint ELSE 0 END) AS net_kg,
           count(*) AS events
      FROM events GROUP BY 1`.execute(backend.db);
  const sqlMap = new Map(
    direct.rows.map((r) => [r.key, { netKg: Number(r.net_kg), events: Number(r.events) }]),
  );
  const ok = checkpoint === events.length && same(model, folded) && same(model, sqlMap);
  return phase('(d) projection catch-up, net kg by (day, category)', checkpoint, seconds, {
    target: TARGETS.projection,
    check: `${model.size} groups = fold = SQL sum; checkpoint ${checkpoint}`,
    ok,
  });
}

/**
 * (e) verification and (f) export, after sealing the log: what an auditor runs. The export is
 * verified offline too (the check), so the export phase proves its file is usable.
 */
async function auditPhases(store: EventStore): Promise<PhaseResult[]> {
  const sealer = new Sealer(store, generateSigningKey());
  await sealer.registerKey();
  await sealer.seal();
  const head = await store.headPosition();
  const verified = await timed(() => verifyStore(store));
  const report = verified.value;
  const lines: string[] = [];
  let bytes = 0;
  const exported = await timed(async () => {
    for await (const chunk of exportLines(store)) {
      bytes += chunk.length;
      lines.push(chunk);
    }
  });
  const offline = await verifyExportLines(lines.flatMap((chunk) => chunk.split('\n')));
  return [
    phase('(e) verify: chains, seals, signatures', report.events, verified.seconds, {
      target: TARGETS.verify,
      check: `${report.events}/${head} events, ${report.sealsVerified} seal(s), no break`,
      ok: report.ok && report.events === head && report.sealsVerified >= 1,
    }),
    phase('(f) export as NDJSON', head, exported.seconds, {
      target: TARGETS.export,
      check: `${(bytes / 2 ** 20).toFixed(1)} MiB, verified offline`,
      ok: offline.ok && offline.events === head,
    }),
  ];
}

/**
 * (g) What the hash chain costs on append: phase (b)'s workload on a log with the chain and on a
 * log migrated only to 0002 (before it), alternating, three runs each, medians. The adapter
 * sends content hashes to both (the older function ignores them), so this is the database's
 * share; the Node share (canonical JSON and SHA-256 instead of JSON.stringify) is timed apart.
 */
async function hashingOverhead(tickets: number): Promise<{ rows: PhaseResult[]; ratio: number }> {
  const url = args['database-url'];
  const withChain: number[] = [];
  const withoutChain: number[] = [];
  for (let run = 0; run < 3; run++) {
    for (const chained of [true, false]) {
      const schema = `bench_overhead_${Date.now()}`;
      const { store } = await openPostgresStore({
        connectionString: url,
        schema,
        poolSize: IN_FLIGHT + 2,
        ...(chained
          ? {}
          : {
              migrations: Object.fromEntries(
                Object.entries(storeMigrations).filter(([name]) => name < '0003'),
              ),
            }),
      });
      try {
        const result = await batchedPhase(store, tickets);
        (chained ? withChain : withoutChain).push(result.eventsPerSecond);
      } finally {
        await store.close();
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
        await admin.end();
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] ?? NaN;
  const chainedRate = median(withChain);
  const plainRate = median(withoutChain);
  // The Node share, per event: canonical JSON and the content hash, against the plain
  // JSON.stringify the adapter did before the chain (best of five passes over the same events).
  const random = prng(5);
  const sample = Array.from({ length: 2000 }, (_, i) => ticketEvents(random, 5_000_000 + i));
  const best = async (work: () => void) => {
    let fastest = Infinity;
    for (let pass = 0; pass < 5; pass++)
      fastest = Math.min(fastest, (await timed(() => Promise.resolve(work()))).seconds);
    return { seconds: fastest };
  };
  const canonical = await best(() => {
    for (const a of sample)
      for (const e of a.events) {
        const data = canonicalJson(e.data);
        const metadata = canonicalJson(e.metadata ?? {});
        contentHashOfCanonical(a.streamId, e.id, e.type, data, metadata);
      }
  });
  let encodedBytes = 0;
  const plain = await best(() => {
    for (const a of sample)
      for (const e of a.events) {
        encodedBytes += JSON.stringify(e.data).length + JSON.stringify(e.metadata ?? {}).length;
      }
  });
  if (encodedBytes === 0) throw new Error('the sample encoded to nothing');
  const events = sample.length * 5;
  const nodeExtraUsPerEvent = ((canonical.seconds - plain.seconds) / events) * 1e6;
  const ratio = chainedRate / plainRate;
  return {
    ratio,
    rows: [
      phase(
        `(g) batched append with the hash chain (median of 3)`,
        tickets * 5,
        (tickets * 5) / chainedRate,
        {
          check: `${(100 * (1 - ratio)).toFixed(1)} % slower than without (target ≤ 10 %); runs ${withChain.join(', ')}`,
          ok: ratio >= 0.9,
        },
      ),
      phase(
        `(g) batched append without it, migration 0002 (median of 3)`,
        tickets * 5,
        (tickets * 5) / plainRate,
        {
          check: `runs ${withoutChain.join(', ')}; Node share of hashing ${nodeExtraUsPerEvent.toFixed(2)} µs/event (included in both)`,
        },
      ),
    ],
  };
}

async function rawBaselines(url: string, schema: string): Promise<PhaseResult[]> {
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    await client.query('CREATE TABLE raw_rows (id bigint PRIMARY KEY, data jsonb NOT NULL)');
    const payload = JSON.stringify(ticketEvents(prng(3), 0).events[1]?.data);
    const single = await timed(async () => {
      for (let i = 1; i <= 2000; i++)
        await client.query('INSERT INTO raw_rows VALUES ($1, $2)', [i, payload]);
    });
    const multi = await timed(async () => {
      for (let start = 10_000; start < 60_000; start += 500) {
        const values = Array.from({ length: 500 }, (_, k) => `(${start + k}, $1)`).join(',');
        await client.query(`INSERT INTO raw_rows VALUES ${values}`, [payload]);
      }
    });
    const read = await timed(async () => {
      let after = 0;
      let n = 0;
      for (;;) {
        const { rows } = await client.query<{ id: string }>(
          'SELECT id, data FROM raw_rows WHERE id > $1 ORDER BY id LIMIT 1000',
          [after],
        );
        if (rows.length === 0) return n;
        n += rows.length;
        after = Number(rows.at(-1)?.id);
      }
    });
    return [
      phase('raw: single-row INSERT, autocommit', 2000, single.seconds),
      phase('raw: 500-row INSERT', 50_000, multi.seconds),
      phase('raw: keyset read, pages of 1000', read.value, read.seconds),
    ];
  } finally {
    await client.end();
  }
}

async function runBackend(name: BackendName) {
  const tickets = Number(args.tickets ?? (name === 'postgres' ? 20_000 : 10_000));
  const sequential = Number(args.sequential ?? 5000);
  const backend = await openBackend(name);
  try {
    const rows: PhaseResult[] = [];
    rows.push(await sequentialPhase(backend.store, sequential));
    rows.push(await batchedPhase(backend.store, tickets));
    const read = await readAllPhase(backend.store);
    rows.push(read.result);
    rows.push(await projectionPhase(backend, read.events));
    rows.push(...(await auditPhases(backend.store)));
    if (name === 'postgres' && !args['skip-overhead']) {
      rows.push(...(await hashingOverhead(tickets)).rows);
    }
    const baselines =
      name === 'postgres' ? await rawBaselines(args['database-url'], backend.schema) : [];
    printTable(`${name}: ${read.events.length} events in the log`, [...rows, ...baselines]);
    return { backend: name, log: read.events.length, phases: rows, baselines };
  } finally {
    await backend.close();
  }
}

async function main() {
  if (!['all', 'postgres', 'pglite', 'eventstoredb'].includes(args.backend)) {
    throw new Error(`--backend must be all, postgres, pglite or eventstoredb`);
  }
  const withEventStore = process.env.EVENTSTORE_URL !== undefined;
  if (args.backend === 'all' && !withEventStore) {
    console.log('SKIPPED: EventStoreDB backend — EVENTSTORE_URL is not set.');
  }
  const backends: readonly BackendName[] =
    args.backend === 'all'
      ? withEventStore
        ? ['postgres', 'pglite', 'eventstoredb']
        : ['postgres', 'pglite']
      : [args.backend as BackendName];
  const results = [];
  for (const name of backends) results.push(await runBackend(name));
  const report = {
    benchmark: 'store',
    at: new Date().toISOString(),
    machine: machine(),
    targets: TARGETS,
    results,
  };
  // A one-backend run does not overwrite the results of a full one.
  const file = path.resolve(
    args.backend === 'all'
      ? 'bench/results/store.json'
      : `bench/results/store-${args.backend}.json`,
  );
  await writeResults(file, report);
  console.log(`\nJSON: ${file}`);
  console.log(JSON.stringify(report));
  const failed = results.flatMap((r) => r.phases).filter((p) => p.ok === false);
  if (failed.length > 0) {
    console.error(`Correctness check failed: ${failed.map((p) => p.phase).join('; ')}`);
    process.exitCode = 1;
  }
}

await main();
