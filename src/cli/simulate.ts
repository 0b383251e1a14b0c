import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { categories } from '../domain/shared/materials.js';
import { tonnesForDisplay } from '../domain/shared/kilograms.js';
import { businessDay } from '../domain/shared/time.js';
import {
  addDays,
  expectedTonnage,
  generateCityDay,
  householdKg,
  MAX_SCALE,
  type CityDay,
} from '../simulator/city.js';
import {
  ledgerClient,
  LedgerHttpError,
  LedgerUnreachableError,
  postCityDay,
  type PostProgress,
  type PostSummary,
} from '../simulator/post.js';

/** The longest the ledger waits for its read model to reach a position (its `waitMs` maximum). */
const WAIT_MS = 30_000;

/**
 * `npm run simulate -- [--url http://127.0.0.1:3000] [--date YYYY-MM-DD] [--seed 1] [--scale 1]`
 *
 * Generates a simulated city day, posts it to a running ledger, and prints the day's tonnage as
 * the ledger reports it once its read model has caught up with the posted events.
 */

const TIME_ZONE = 'Asia/Shanghai';
/** Where `npm start` leaves its first admin key (the same variable and default as the server). */
const FIRST_ADMIN_KEY_FILE = process.env.LEDGER_FIRST_ADMIN_KEY_FILE ?? './data/first-admin-key';
const USAGE = `Usage: npm run simulate -- [options]

  --url <url>         the ledger's base URL (default http://127.0.0.1:3000)
  --date YYYY-MM-DD   the business day to simulate (default: yesterday in ${TIME_ZONE})
  --seed <integer>    the day's random seed (default 1); the same seed posts the same events
  --scale <number>    1 is a large city, ~12 000 t/d household waste (default 1, max ${MAX_SCALE})
  --key <key>         an admin API key (default: $LEDGER_API_KEY, else the first admin key the
                      ledger wrote to ${FIRST_ADMIN_KEY_FILE} when it first started)
  --help              this text
`;

class UsageError extends Error {}

/** The ledger answered 401 or 403 to the key: say which key and what would work. */
class KeyRefusedError extends Error {
  constructor(error: LedgerHttpError, from: string) {
    super(
      error.status === 401
        ? `The ledger refused the API key from ${from} (401: unknown, malformed or revoked). ` +
            'Pass --key <key> or set LEDGER_API_KEY to a valid key; a ledger started afresh ' +
            `writes a new first admin key to ${FIRST_ADMIN_KEY_FILE}.`
        : `The API key from ${from} may not do this (403): ${error.message}. ` +
            'The simulator registers master data, which needs an admin key ' +
            '(`npm run keys -- create --role admin`).',
    );
  }
}

interface Options {
  readonly url: string;
  readonly date: string;
  readonly seed: number;
  readonly scale: number;
  readonly key: string | undefined;
}

function parseOptions(argv: readonly string[], today: string): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:3000' },
        date: { type: 'string' },
        seed: { type: 'string', default: '1' },
        scale: { type: 'string', default: '1' },
        key: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';

  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url ${values.url} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url must be http:// or https://, got ${values.url}`);
  }
  const date = values.date ?? addDays(today, -1);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || addDays(date, 0) !== date) {
    throw new UsageError(`--date must be a calendar date YYYY-MM-DD, got ${date}`);
  }
  if (date >= today) {
    throw new UsageError(
      `--date must be before today (${today} in ${TIME_ZONE}): the ledger refuses weighings in the future`,
    );
  }
  const seed = Number(values.seed);
  if (!/^-?\d+$/.test(values.seed) || !Number.isSafeInteger(seed)) {
    throw new UsageError(`--seed must be an integer, got ${values.seed}`);
  }
  const scale = Number(values.scale);
  if (!Number.isFinite(scale) || scale <= 0 || scale > MAX_SCALE) {
    throw new UsageError(`--scale must be a number above 0 and at most ${MAX_SCALE}`);
  }
  return { url: url.href.replace(/\/+$/, ''), date, seed, scale, key: values.key };
}

// ---------------------------------------------------------------------------------------------
// Output

const grouped = (n: number) => n.toLocaleString('en-US').replaceAll(',', ' ');

/** A progress line on stderr, redrawn in place on a terminal, throttled elsewhere. */
function progressBar(stream: NodeJS.WriteStream) {
  const started = performance.now();
  let weighingsStarted: number | undefined;
  let lastDraw = 0;
  let lastLine = '';
  return {
    update(p: PostProgress): void {
      const now = performance.now();
      const finished = p.done === p.total;
      if (p.phase === 'weighings' && weighingsStarted === undefined) weighingsStarted = now;
      if (!finished && now - lastDraw < (stream.isTTY ? 100 : 2_000)) return;
      lastDraw = now;
      const percent = p.total === 0 ? 100 : (100 * p.done) / p.total;
      const width = 24;
      const full = Math.round((width * percent) / 100);
      const bar = `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
      const seconds = (now - (weighingsStarted ?? started)) / 1000;
      const rate =
        p.phase === 'weighings' && seconds > 0
          ? `  ${grouped(Math.round(p.done / seconds))} events/s`
          : '';
      const label = p.phase === 'master-data' ? 'master data' : 'weighings  ';
      const line = `${label} ${bar} ${grouped(p.done)} / ${grouped(p.total)}  ${percent.toFixed(1)} %${rate}`;
      if (stream.isTTY) stream.write(`\r${line.padEnd(lastLine.length)}`);
      else stream.write(`${line}\n`);
      lastLine = line;
    },
    end(): void {
      if (stream.isTTY && lastLine !== '') stream.write('\n');
    },
  };
}

interface TonnageRow {
  /** The material: a category, or a residue. */
  readonly category: string;
  readonly flow: string;
  readonly netKg: number;
}

/** Reads the tonnage answer; a row names its material as `material` (or `category`). */
function parseTonnage(text: string): { rows: TonnageRow[]; totalKg: number } {
  const body = JSON.parse(text) as { rows?: unknown; totalKg?: unknown };
  const raw: unknown[] = Array.isArray(body.rows) ? body.rows : [];
  const rows = raw.flatMap((r): TonnageRow[] => {
    if (typeof r !== 'object' || r === null) return [];
    const { material, category, flow, netKg } = r as Record<string, unknown>;
    const name = material ?? category;
    return typeof name === 'string' && typeof flow === 'string' && typeof netKg === 'number'
      ? [{ category: name, flow, netKg }]
      : [];
  });
  if (rows.length !== raw.length || typeof body.totalKg !== 'number') {
    throw new Error(`unexpected tonnage answer: ${text.slice(0, 300)}`);
  }
  return { rows, totalKg: body.totalKg };
}

/** Category × flow, in tonnes with three decimals, with row and column totals. */
function tonnageTable(rows: readonly TonnageRow[], totalKg: number): string {
  const known: readonly string[] = categories;
  const rank = (c: string) => (known.includes(c) ? known.indexOf(c) : known.length);
  const cats = [...new Set(rows.map((r) => r.category))].sort(
    (a, b) => rank(a) - rank(b) || a.localeCompare(b),
  );
  const flows = [...new Set(rows.map((r) => r.flow))].sort();
  const cell = (c: string | undefined, f: string | undefined) =>
    rows
      .filter((r) => (c === undefined || r.category === c) && (f === undefined || r.flow === f))
      .reduce((sum, r) => sum + r.netKg, 0);
  const header = ['material (t)', ...flows, 'total'];
  const body = cats.map((c) => [
    c,
    ...flows.map((f) => tonnesForDisplay(cell(c, f))),
    tonnesForDisplay(cell(c, undefined)),
  ]);
  const footer = ['total', ...flows.map((f) => tonnesForDisplay(cell(undefined, f))), ''];
  footer[footer.length - 1] = tonnesForDisplay(totalKg);
  const table = [header, ...body, footer];
  const widths = header.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]) =>
    row.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...body.map(line), rule, line(footer)].join('\n');
}

function describeProblem(p: PostSummary['rejections'][number]): string {
  const problem = p.problem;
  const what = [problem?.code, problem?.title, problem?.detail].filter(
    (x): x is string => typeof x === 'string' && x !== '',
  );
  return `  #${p.index} ${p.type} ${p.eventId}: ${what.length > 0 ? what.join(' — ') : JSON.stringify(problem)}`;
}

/** The key to post with: --key, else LEDGER_API_KEY, else the first admin key's file. */
async function apiKey(option: string | undefined): Promise<{ key: string; from: string }> {
  if (option !== undefined && option !== '') return { key: option, from: '--key' };
  const env = process.env.LEDGER_API_KEY;
  if (env !== undefined && env !== '') return { key: env, from: 'LEDGER_API_KEY' };
  try {
    const key = (await readFile(FIRST_ADMIN_KEY_FILE, 'utf8')).trim();
    if (key !== '') return { key, from: FIRST_ADMIN_KEY_FILE };
  } catch {
    // No file: said below.
  }
  throw new UsageError(
    `No API key: pass --key <key>, set LEDGER_API_KEY, or start the ledger once on this machine ` +
      `(a fresh ledger writes its first admin key to ${FIRST_ADMIN_KEY_FILE}). ` +
      'Master data needs an admin key: `npm run keys -- create --role admin`.',
  );
}

// ---------------------------------------------------------------------------------------------

async function main(argv: readonly string[]): Promise<number> {
  const today = businessDay(new Date().toISOString(), TIME_ZONE);
  const options = parseOptions(argv, today);
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const { url, date, seed, scale } = options;
  const { key, from } = await apiKey(options.key);

  // One quick attempt first, so a ledger that is not running is reported at once.
  const health = await ledgerClient({ url, maxAttempts: 1, timeoutMs: 5_000 }).send(
    'GET',
    '/health',
  );
  if (health.status !== 200) {
    throw new LedgerHttpError('GET', `${url}/health`, health.status, health.text);
  }

  const day: CityDay = generateCityDay({ date, seed, scale });
  process.stderr.write(
    `Simulating ${date} (seed ${seed}, scale ${scale}): ${day.districts.length} districts, ` +
      `${day.sites.length} sites, ${grouped(day.vehicles.length)} vehicles, ` +
      `${grouped(day.items.length)} weighbridge commands → ${url}\n`,
  );

  const bar = progressBar(process.stderr);
  let summary: PostSummary;
  try {
    summary = await postCityDay(day, { url, apiKey: key, onProgress: (p) => bar.update(p) });
  } catch (error) {
    if (error instanceof LedgerHttpError && (error.status === 401 || error.status === 403)) {
      throw new KeyRefusedError(error, from);
    }
    throw error;
  } finally {
    bar.end();
  }

  // Read-your-writes: the ledger answers once its read model has applied the posted events.
  const query = new URLSearchParams({ from: date, to: date, groupBy: 'material,flow' });
  const position = summary.largestPosition ?? summary.headPosition;
  if (position !== undefined) {
    query.set('minPosition', position.toString());
    query.set('waitMs', String(WAIT_MS));
    process.stderr.write(`Waiting for the tonnage read model to reach position ${position}…\n`);
  }
  const path = `/v1/tonnage?${query.toString()}`;
  const tonnage = await ledgerClient({
    url,
    apiKey: key,
    maxAttempts: 4,
    timeoutMs: WAIT_MS + 30_000,
  }).send('GET', path);
  if (tonnage.status !== 200) {
    throw new LedgerHttpError('GET', `${url}${path}`, tonnage.status, tonnage.text);
  }
  const { rows, totalKg } = parseTonnage(tonnage.text);

  const out = process.stdout;
  out.write(`\nTonnage on ${date} as the ledger reports it (${url}):\n\n`);
  out.write(`${rows.length === 0 ? '(no rows)' : tonnageTable(rows, totalKg)}\n\n`);
  const expected = expectedTonnage(day);
  out.write(
    `Collected according to the simulator (t): ` +
      categories.map((c) => `${c} ${tonnesForDisplay(expected[c])}`).join(', ') +
      `; household ${tonnesForDisplay(householdKg(expected))}\n\n`,
  );
  out.write(
    `Master data: ${summary.masterData.created} registered, ${summary.masterData.existing} already there\n` +
      `Weighbridge commands: ${grouped(summary.items)} posted, ${grouped(summary.recorded)} recorded, ` +
      `${grouped(summary.duplicates)} duplicates, ${grouped(summary.rejected)} rejected\n`,
  );
  const findings = Object.entries(summary.findings);
  if (findings.length > 0) {
    out.write(`Findings: ${findings.map(([name, n]) => `${name} ${grouped(n)}`).join(', ')}\n`);
  }
  if (summary.rejected > 0) {
    out.write(
      `First rejections:\n${summary.rejections.slice(0, 5).map(describeProblem).join('\n')}\n`,
    );
    out.write(
      'A generated day should be accepted whole; rejections usually mean another seed or scale ' +
        'was already posted for this date (ticket numbers are per site and day).\n',
    );
    return 2;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}`);
      process.exitCode = 64;
    } else if (error instanceof KeyRefusedError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 1;
    } else if (error instanceof LedgerUnreachableError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 1;
    } else if (error instanceof LedgerHttpError) {
      const hint =
        error.status === 404 ? ' (does this ledger version serve that endpoint yet?)' : '';
      process.stderr.write(`The ledger refused the simulation: ${error.message}${hint}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(
        `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    }
  },
);
