/**
 * Crash safety: ingests simulated weighbridge traffic over HTTP while killing the ledger with
 * SIGKILL at random (seeded) moments and restarting it, then checks that every event whose
 * request was answered 2xx is in the log exactly once, where its answer said; that no event id
 * is stored twice; that the log verifies; and that every read model equals its rebuild.
 *
 *   npm run crash-test -- [--backend pglite|postgres] [--kills 20] [--seconds-between 1-4] [--seed 1]
 *
 * On PostgreSQL the ledger gets a schema of its own (dropped at the end unless --keep); on PGlite
 * a data folder in a temporary directory, opened by this script once the server has stopped.
 * Exits 0 when every check holds, 1 when one fails, 64 on a usage error.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { openPGliteStore } from '../src/store/pglite/pglite-store.js';
import type { EventStore } from '../src/store/port.js';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';
import { checkLedger, type LedgerCheck } from './crash/check.js';
import { ledgerHttp } from './crash/http.js';
import { LedgerProcess, resolveRunner, type ServerRunner } from './crash/ledger-process.js';
import {
  Acknowledgements,
  CityFeed,
  LoadStats,
  postUntilStopped,
  registerMasterData,
} from './crash/load.js';
import { Random } from './crash/random.js';

export interface CrashTestOptions {
  readonly backend: 'postgres' | 'pglite';
  /** SIGKILLs to deliver (the issue asks for at least 20). */
  readonly kills: number;
  /**
   * Seconds from ingestion resuming (the first acknowledgement after a restart) to the next
   * kill: a random time in this range.
   */
  readonly secondsBetween: readonly [number, number];
  readonly seed: number;
  /** Weighbridge clients posting at once (each owns some sites). */
  readonly clients: number;
  /** Size of the simulated city (1: a large city; the crash test needs far less). */
  readonly scale: number;
  readonly maxBatch: number;
  readonly server: ServerRunner;
  /** Keep the PostgreSQL schema and the temporary folder (data, server log) for a look. */
  readonly keep: boolean;
  readonly databaseUrl: string;
  /** Where progress lines go. */
  readonly log: (line: string) => void;
}

export const defaultCrashTestOptions: CrashTestOptions = {
  backend: 'pglite',
  kills: 20,
  secondsBetween: [1, 4],
  seed: 1,
  clients: 4,
  scale: 0.1,
  maxBatch: 40,
  server: 'auto',
  keep: false,
  databaseUrl: process.env.LEDGER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  log: (line) => console.log(line),
};

export interface CrashReport {
  readonly ok: boolean;
  /** Why not ok, one line each. */
  readonly failures: readonly string[];
  readonly kills: number;
  readonly elapsedMs: number;
  /** Time from a kill to the restarted server answering /health, in ms. */
  readonly restartMs: { readonly median: number; readonly max: number };
  readonly requests: number;
  readonly resent: number;
  readonly acknowledged: number;
  /** Acknowledged on a retry as a duplicate: writes that went through before their answer was lost. */
  readonly duplicates: number;
  readonly rejected: number;
  readonly check: LedgerCheck | undefined;
  /** The temporary folder (kept with --keep, or when the run failed before its check). */
  readonly folder: string;
}

const FIRST_DATE = '2025-01-06';

/** How long to wait for a restarted server to acknowledge something before killing it anyway. */
const PROGRESS_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** An admin key as LEDGER_ADMIN_KEY takes it: `wl_<16 hex digits>_<43 base64url characters>`. */
function adminKey(): string {
  return `wl_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;
}

/** The server's environment: this process's, without anything that would point it elsewhere. */
function serverEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !key.startsWith('LEDGER_') &&
        !['DATABASE_URL', 'EVENTSTORE_URL', 'HOST', 'PORT', 'NODE_OPTIONS'].includes(key),
    ),
  );
  return { ...inherited, ...extra };
}

async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.end();
  }
}

const grouped = (n: number) => n.toLocaleString('en-US').replaceAll(',', ' ');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Runs the crash test; resolves with the figures and whether every check held. */
export async function crashTest(options: CrashTestOptions): Promise<CrashReport> {
  const { log } = options;
  const started = Date.now();
  const random = new Random(options.seed);
  const folder = await mkdtemp(path.join(tmpdir(), 'ledger-crash-'));
  const schema = `crash_${randomBytes(6).toString('hex')}`;
  const dataDir = path.join(folder, 'data');
  const port = await freePort();
  const apiKey = adminKey();
  const http = ledgerHttp({ baseUrl: `http://127.0.0.1:${port}`, apiKey });
  const { runner, note } = resolveRunner(options.server);
  if (note !== undefined) log(note);
  const ledger = new LedgerProcess({
    runner,
    http,
    logFile: path.join(folder, 'server.log'),
    env: serverEnv({
      HOST: '127.0.0.1',
      PORT: String(port),
      LEDGER_ADMIN_KEY: apiKey,
      LEDGER_FIRST_ADMIN_KEY_FILE: path.join(folder, 'first-admin-key'),
      LEDGER_SEAL_KEY_FILE: path.join(folder, 'seal-key.pem'),
      // Seals every second, so that kills land in seals too.
      LEDGER_SEAL_EVERY_SECONDS: '1',
      LEDGER_RATE_LIMIT_PER_MINUTE: '10000000',
      ...(options.backend === 'postgres'
        ? { DATABASE_URL: options.databaseUrl, LEDGER_DB_SCHEMA: schema }
        : { LEDGER_DATA_DIR: dataDir }),
    }),
  });
  log(
    `Crash test on ${options.backend === 'postgres' ? `PostgreSQL (schema ${schema})` : `PGlite (${dataDir})`}: ` +
      `${options.kills} SIGKILLs ${options.secondsBetween[0]}–${options.secondsBetween[1]} s apart, ` +
      `${options.clients} clients, seed ${options.seed}, server from ${runner}; output in ${folder}`,
  );

  const acks = new Acknowledgements();
  const stats = new LoadStats();
  const failures: string[] = [];
  const restarts: number[] = [];
  let kills = 0;
  let check: LedgerCheck | undefined;
  const abandon = new AbortController();
  let stopped = false;
  let clients: Promise<unknown> = Promise.resolve();
  try {
    await ledger.start();
    log(`server ready in ${seconds(Date.now() - started)}`);
    const feed = new CityFeed({
      firstDate: FIRST_DATE,
      seed: options.seed,
      scale: options.scale,
      clients: options.clients,
    });
    // Master data first, without kills: it is set-up (written by the same append as weighings).
    await registerMasterData(http, feed.first, acks, stats, options.clients, abandon.signal);
    log(
      `master data registered (${acks.masterData.size} streams) at ${seconds(Date.now() - started)}`,
    );
    clients = Promise.all(
      Array.from({ length: options.clients }, (_, client) =>
        postUntilStopped({
          client,
          http,
          feed,
          acks,
          stats,
          random: random.fork(client),
          maxBatch: options.maxBatch,
          singleShare: 0.3,
          stopped: () => stopped,
          abandon: abandon.signal,
        }),
      ),
    );
    // A client that fails (it should not) ends the run at once rather than after the kills.
    const clientFailure = clients.then(
      () => undefined,
      (error: unknown) => error,
    );

    const [lo, hi] = options.secondsBetween;
    while (kills < options.kills) {
      // Each kill lands while ingestion runs: the clock starts once the (re)started server has
      // acknowledged something, not when it first answers /health.
      const acknowledgedBefore = acks.events.size;
      const failed = await Promise.race([
        clientFailure,
        (async () => {
          const deadline = Date.now() + PROGRESS_TIMEOUT_MS;
          while (acks.events.size === acknowledgedBefore && Date.now() < deadline) await sleep(20);
          await sleep(random.between(lo, hi) * 1000);
          return undefined;
        })(),
      ]);
      if (failed !== undefined) {
        throw failed instanceof Error
          ? failed
          : new Error(`a client failed: ${JSON.stringify(failed)}`);
      }
      await ledger.kill();
      kills += 1;
      const down = Date.now();
      await ledger.start();
      restarts.push(Date.now() - down);
      log(
        `kill ${kills}/${options.kills} at ${seconds(down - started)}: ` +
          `${grouped(acks.events.size)} events acknowledged, ${grouped(stats.resent)} requests re-sent; ` +
          `back in ${seconds(Date.now() - down)}`,
      );
    }

    // The clients finish what they are sending (retrying until it is answered), then stop.
    stopped = true;
    await clients;
    // Let the read models follow the last writes before the server is stopped for good.
    await sleep(1_500);
    await ledger.stop();
    log(
      `posting stopped at ${seconds(Date.now() - started)}: ${grouped(acks.events.size)} events ` +
        'acknowledged; checking the log and the read models…',
    );

    const opened = await openForCheck(options, schema, dataDir);
    try {
      // Rebuilds go to scratch schemas named after this run (another may share the database).
      check = await checkLedger(
        opened.store,
        opened.db,
        acks,
        `rp_${schema.slice('crash_'.length)}`,
      );
    } finally {
      await opened.store.close();
    }
  } catch (error) {
    failures.push(`the run did not finish: ${(error as Error).message}`);
    abandon.abort(error);
    stopped = true;
    await clients.catch(() => undefined);
    await ledger.kill();
  } finally {
    if (!options.keep) {
      if (options.backend === 'postgres') {
        await dropSchema(options.databaseUrl, schema).catch((error: unknown) =>
          failures.push(`could not drop schema ${schema}: ${(error as Error).message}`),
        );
      }
      if (check !== undefined) await rm(folder, { recursive: true, force: true });
    }
  }

  if (check !== undefined) failures.push(...failuresOf(check));
  if (acks.contradictions.length > 0) {
    failures.push(`contradictory answers: ${acks.contradictions.slice(0, 5).join('; ')}`);
  }
  if (stats.rejected > 0) {
    failures.push(
      `${stats.rejected} items refused (${[...stats.rejections].map(([c, n]) => `${c} ${n}`).join(', ')}): ` +
        stats.rejectionSamples.slice(0, 3).join('; '),
    );
  }
  if (stats.serverErrors.length > 0) {
    failures.push(`server errors: ${stats.serverErrors.slice(0, 3).join('; ')}`);
  }
  if (check !== undefined && acks.events.size === 0) failures.push('no event was acknowledged');

  const report: CrashReport = {
    ok: failures.length === 0,
    failures,
    kills,
    elapsedMs: Date.now() - started,
    restartMs: { median: median(restarts), max: Math.max(0, ...restarts) },
    requests: stats.requests,
    resent: stats.resent,
    acknowledged: acks.events.size,
    duplicates: stats.duplicates,
    rejected: stats.rejected,
    check,
    folder,
  };
  for (const line of summary(report, options)) log(line);
  return report;
}

async function openForCheck(
  options: CrashTestOptions,
  schema: string,
  dataDir: string,
): Promise<{ store: EventStore; db: Kysely<unknown> }> {
  if (options.backend === 'postgres') {
    const { store, db } = await openPostgresStore({
      connectionString: options.databaseUrl,
      schema,
    });
    return { store, db: db as Kysely<unknown> };
  }
  const { store, db } = await openPGliteStore({ dataDir });
  return { store, db: db as Kysely<unknown> };
}

function failuresOf(check: LedgerCheck): string[] {
  const failures: string[] = [];
  const few = (xs: readonly string[]) => xs.slice(0, 5).join('; ');
  if (check.lost.length > 0) {
    failures.push(`${check.lost.length} acknowledged events lost: ${few(check.lost)}`);
  }
  if (check.duplicated.length > 0) {
    failures.push(`${check.duplicated.length} event ids stored twice: ${few(check.duplicated)}`);
  }
  if (check.misplaced.length > 0) {
    failures.push(
      `${check.misplaced.length} events not where acknowledged: ${few(check.misplaced)}`,
    );
  }
  if (check.masterDataMissing.length > 0) {
    failures.push(`acknowledged master data missing: ${few(check.masterDataMissing)}`);
  }
  if (!check.verification.ok) {
    failures.push(`the log does not verify: ${check.verification.firstBreak ?? '?'}`);
  }
  for (const projection of check.projections) {
    for (const comparison of projection.comparisons) {
      for (const difference of comparison.different) {
        failures.push(
          `${projection.name} differs from its rebuild at position ${comparison.at}: ${difference}`,
        );
      }
    }
  }
  return failures;
}

function summary(report: CrashReport, options: CrashTestOptions): string[] {
  const check = report.check;
  const lines = [
    '',
    `Crash test on ${options.backend}: ${report.kills} SIGKILLs in ${seconds(report.elapsedMs)} ` +
      `(restart median ${seconds(report.restartMs.median)}, max ${seconds(report.restartMs.max)})`,
    `  requests ${grouped(report.requests)}, re-sent ${grouped(report.resent)}; ` +
      `events acknowledged ${grouped(report.acknowledged)} ` +
      `(${grouped(report.duplicates)} as duplicates of a write whose answer was lost), refused ${report.rejected}`,
  ];
  if (check !== undefined) {
    lines.push(
      `  log: ${grouped(check.events)} events, head ${grouped(check.headPosition)}; ` +
        `lost ${check.lost.length}, duplicated ${check.duplicated.length}, misplaced ${check.misplaced.length}`,
      `  verification: ${check.verification.ok ? 'ok' : 'FAILED'}, ${check.verification.sealsVerified} seals, ` +
        `sealed up to ${grouped(check.verification.sealedUpTo)}`,
      ...check.projections.map(
        (p) =>
          `  ${p.name}: checkpoint ${grouped(p.liveCheckpoint)}; ` +
          p.comparisons
            .map(
              (c) =>
                `at ${grouped(c.at)} ${c.different.length === 0 ? 'equal to its rebuild' : 'DIFFERENT'} ` +
                `(${c.same.length} tables${c.notCompared.length > 0 ? `, ${c.notCompared.length} not compared` : ''})`,
            )
            .join(', then '),
      ),
    );
  }
  lines.push(report.ok ? 'PASSED' : `FAILED:\n  ${report.failures.join('\n  ')}`);
  if (!report.ok || options.keep) lines.push(`  kept: ${report.folder}`);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Command line

const USAGE = `Usage: npm run crash-test -- [options]

  --backend pglite|postgres   where the log lives (default pglite)
  --kills <n>                 SIGKILLs to deliver (default 20)
  --seconds-between <a-b>     seconds from ingestion resuming after a restart to the next kill,
                              random in a..b (default 1-4)
  --seed <integer>            kill times, request shapes and the simulated days (default 1)
  --clients <n>               weighbridge clients posting at once (default 4)
  --scale <number>            size of the simulated city (default 0.1)
  --server auto|dist|tsx      run the build or the sources (default auto: the build when current)
  --database-url <url>        PostgreSQL for --backend postgres (default LEDGER_TEST_DATABASE_URL
                              or postgres://postgres@127.0.0.1:5432/test)
  --keep                      keep the schema / data folder and the server's log
`;

class UsageError extends Error {}

export function parseCrashTestArgs(argv: readonly string[]): CrashTestOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        backend: { type: 'string', default: defaultCrashTestOptions.backend },
        kills: { type: 'string', default: String(defaultCrashTestOptions.kills) },
        'seconds-between': { type: 'string', default: '1-4' },
        seed: { type: 'string', default: String(defaultCrashTestOptions.seed) },
        clients: { type: 'string', default: String(defaultCrashTestOptions.clients) },
        scale: { type: 'string', default: String(defaultCrashTestOptions.scale) },
        server: { type: 'string', default: defaultCrashTestOptions.server },
        'database-url': { type: 'string', default: defaultCrashTestOptions.databaseUrl },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const backend = values.backend;
  if (backend !== 'pglite' && backend !== 'postgres') {
    throw new UsageError(`--backend must be pglite or postgres, got ${backend}`);
  }
  const server = values.server;
  if (server !== 'auto' && server !== 'dist' && server !== 'tsx') {
    throw new UsageError(`--server must be auto, dist or tsx, got ${server}`);
  }
  const whole = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
      throw new UsageError(`--${name} must be a whole number of at least ${min}, got ${text}`);
    }
    return n;
  };
  const range = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(values['seconds-between']);
  const lo = Number(range?.[1]);
  const hi = Number(range?.[2]);
  if (range === null || !(lo > 0) || !(hi >= lo)) {
    throw new UsageError(
      `--seconds-between must be a range such as 0.5-3 (seconds, low first), got ${values['seconds-between']}`,
    );
  }
  const scale = Number(values.scale);
  if (!(scale > 0 && scale <= 1)) throw new UsageError(`--scale must be above 0 and at most 1`);
  return {
    ...defaultCrashTestOptions,
    backend,
    server,
    kills: whole('kills', values.kills, 1),
    secondsBetween: [lo, hi],
    seed: whole('seed', values.seed, Number.MIN_SAFE_INTEGER),
    clients: whole('clients', values.clients, 1),
    scale,
    databaseUrl: values['database-url'],
    keep: values.keep,
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  let options;
  try {
    options = parseCrashTestArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${USAGE}`);
    return 64;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const report = await crashTest(options);
  return report.ok ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
