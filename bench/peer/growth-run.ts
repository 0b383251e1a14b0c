import type { Kysely } from 'kysely';
import { verifyStore } from '../../src/audit/log-audit.js';
import { Sealer } from '../../src/audit/sealer.js';
import { generateSigningKey } from '../../src/integrity/signing.js';
import { projectionMigrations } from '../../src/projections/runner/checkpoints.js';
import { ProjectionRunner } from '../../src/projections/runner/runner.js';
import type { EventStore } from '../../src/store/port.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { migrateToLatest } from '../../src/store/sql/migrate.js';
import { machine, timed, writeResults } from '../support/report.js';
import { netKgByDayCategory } from '../workload/net-kg-projection.js';
import { directSqlGroups, projectionCheck, readModelGroups } from './checks.js';
import { GrowingLog } from './growth-load.js';
import { printGrowth, withRatios, GROWTH_TARGETS } from './growth-table.js';
import type { GrowthOptions } from './options.js';
import { resultsFile, type GrowthResults, type GrowthRow } from './results.js';
import { collectGarbage, withPeakRss } from './rss.js';
import { dropSchema, freshSchema, schemaClient } from './schema.js';
import { commandLine, versions } from './versions.js';
import { IN_FLIGHT, PROJECTION_BATCH } from './workload.js';

export const GROWTH_NOTES = [
  'Compliance report: left out. It reads the compliance-facts projection, which needs master data (sites, districts, vehicles) and the events the ingestion and the city simulator write; the ticket workload has neither, and a report over it would measure an empty report. bench/compliance.bench.ts measures the report on simulated city days.',
  'One log grows across the sizes (each size adds tickets to the previous one, written 100 events per call, 8 calls in flight, then sealed); load and seal times are reported apart from the phases.',
  'Before each timed phase a full garbage collection runs, so that the peak RSS is the phase’s own and not what loading left behind; start RSS is reported beside the peak.',
];

type Measured = Omit<GrowthRow, 'ratioToSmallest'>;

/** (d) from 0: the read model and its checkpoint are dropped first, then the runner catches up. */
async function rebuildPhase(
  store: EventStore,
  db: Kysely<unknown>,
  log: GrowingLog,
  databaseUrl: string,
  schema: string,
  size: number,
): Promise<Measured> {
  const client = await schemaClient(databaseUrl, schema);
  try {
    await client.query('DROP TABLE IF EXISTS bench_net_kg');
    await client.query('DELETE FROM projection_checkpoints WHERE name = $1', [
      netKgByDayCategory.name,
    ]);
    const runner = new ProjectionRunner({
      store,
      db,
      projection: netKgByDayCategory,
      batchSize: PROJECTION_BATCH,
    });
    await runner.setup();
    collectGarbage();
    const { value, startRssMb, peakRssMb } = await withPeakRss(() => timed(() => runner.catchUp()));
    const head = await store.headPosition();
    const model = await readModelGroups(client);
    const sqlSum = await directSqlGroups(client, { name: 'events', data: 'data', type: 'type' });
    const { check, ok } = projectionCheck(model, sqlSum, log.expected, log.ticketEvents);
    return {
      size,
      phase: 'projection rebuild from 0 (ProjectionRunner, net kg by day and category)',
      events: head,
      seconds: value.seconds,
      usPerEvent: (value.seconds / head) * 1e6,
      startRssMb,
      peakRssMb,
      check: `${check}; checkpoint ${value.value}/${head}`,
      ok: ok && value.value === head,
    };
  } finally {
    await client.end();
  }
}

/** Verification of every chain, seal and signature, as an auditor runs it. */
async function verifyPhase(store: EventStore, size: number, seals: number): Promise<Measured> {
  const head = await store.headPosition();
  collectGarbage();
  const { value, startRssMb, peakRssMb } = await withPeakRss(() => timed(() => verifyStore(store)));
  const report = value.value;
  return {
    size,
    phase: 'verification (verifyStore: chains, seals, signatures)',
    events: report.events,
    seconds: value.seconds,
    usPerEvent: (value.seconds / report.events) * 1e6,
    startRssMb,
    peakRssMb,
    check: `${report.events}/${head} events, ${report.sealsVerified}/${seals} seal(s), ${report.breakCount} break(s)`,
    ok: report.ok && report.events === head && report.sealsVerified === seals,
  };
}

/** `npm run bench -- --growth`: the ledger alone, the same phases at growing sizes. */
export async function runGrowth(options: GrowthOptions): Promise<void> {
  const { databaseUrl, sizes } = options;
  console.log(
    `Growth benchmark: ${sizes.join(', ')} events` +
      (options.smoke ? ' (SMOKE RUN: lowered sizes, not results)' : ''),
  );
  const schema = freshSchema('bench_growth');
  const { store, db } = await openPostgresStore({
    connectionString: databaseUrl,
    schema,
    poolSize: IN_FLIGHT + 2,
  });
  const measured: Measured[] = [];
  const loads: GrowthResults['loads'][number][] = [];
  try {
    await migrateToLatest(db as Kysely<unknown>, 'projections', projectionMigrations, schema);
    const sealer = new Sealer(store, generateSigningKey());
    await sealer.registerKey();
    const log = new GrowingLog(store);
    for (const [i, size] of sizes.entries()) {
      const load = await log.loadUpTo(size);
      const sealed = await timed(() => sealer.seal());
      const events = await store.headPosition();
      loads.push({
        size,
        events: load.appended,
        seconds: load.seconds,
        eventsPerSecond: Math.round(load.appended / load.seconds),
      });
      console.log(
        `\n${size}: appended ${load.appended} events in ${load.seconds.toFixed(1)} s ` +
          `(${Math.round(load.appended / load.seconds)} events/s, untimed for the phases); ` +
          `sealed in ${sealed.seconds.toFixed(1)} s; ${events} events in the log`,
      );
      measured.push(
        await rebuildPhase(store, db as Kysely<unknown>, log, databaseUrl, schema, size),
      );
      measured.push(await verifyPhase(store, size, i + 1));
      console.log(`${size}: compliance report left out (see the notes)`);
    }
  } finally {
    await store.close();
    await dropSchema(databaseUrl, schema);
  }
  const rows = withRatios(measured);
  printGrowth(rows, sizes);
  const results: GrowthResults = {
    benchmark: 'growth',
    smoke: options.smoke,
    at: new Date().toISOString(),
    command: commandLine(),
    machine: machine(),
    versions: await versions(databaseUrl),
    sizes,
    targets: GROWTH_TARGETS,
    loads,
    rows,
    notes: GROWTH_NOTES,
  };
  const file = resultsFile('growth', options.smoke);
  await writeResults(file, results);
  console.log(`\nNotes:\n${GROWTH_NOTES.map((n) => `  - ${n}`).join('\n')}`);
  console.log(`\nJSON: ${file}`);
  if (rows.some((r) => !r.ok)) {
    console.error(
      `Correctness check failed: ${rows
        .filter((r) => !r.ok)
        .map((r) => `${r.size} ${r.phase}`)
        .join('; ')}`,
    );
    process.exitCode = 1;
  }
}
