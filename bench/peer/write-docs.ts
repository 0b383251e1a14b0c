/**
 * Renders docs/benchmarks.md from the benchmarks' JSON results:
 *
 *   npx tsx bench/peer/write-docs.ts
 *   npx tsx bench/peer/write-docs.ts --peer F --growth F --out F   other files (e.g. *.smoke.json)
 *
 * Run it after `npm run bench -- --peer` and `npm run bench -- --growth`; the page says which
 * machine, versions and commands produced the figures, so they can be rerun and compared.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { meetsTargets } from './growth-table.js';
import type { GrowthResults, PeerResults } from './results.js';

const { values: args } = parseArgs({
  options: {
    peer: { type: 'string', default: 'bench/results/peer.json' },
    growth: { type: 'string', default: 'bench/results/growth.json' },
    out: { type: 'string', default: 'docs/benchmarks.md' },
  },
});

async function load<T extends { benchmark: string }>(
  file: string,
  benchmark: T['benchmark'],
): Promise<T | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as T;
    if (parsed.benchmark !== benchmark) throw new Error(`${file} is not a ${benchmark} result`);
    return parsed;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const n = (x: number) => x.toLocaleString('en-US');

function context(r: PeerResults | GrowthResults): string {
  const machine = Object.entries(r.machine).map(([k, v]) => `${k} ${String(v)}`);
  const versions = Object.entries(r.versions).map(([k, v]) => `${k} ${v}`);
  return [
    r.smoke
      ? '> **Smoke run** (lowered sizes): a check that the benchmark works, not results.\n'
      : '',
    `Run ${r.at} with \`${r.command}\`.`,
    '',
    `Machine: ${machine.join(', ')}.`,
    '',
    `Versions: ${versions.join(', ')}.`,
  ].join('\n');
}

function peerSection(r: PeerResults | undefined): string {
  if (r === undefined) return 'Not run yet: `npm run bench -- --peer`.';
  const w = r.workload;
  return [
    context(r),
    '',
    `Workload per store and run: ${n(w.tickets ?? 0)} tickets × ${w.eventsPerTicket} events, ` +
      `${n(w.sequentialAppends ?? 0)} sequential appends, ${n(w.eventsPerStorePerRun ?? 0)} events in all; ` +
      `${w.runs} alternating run(s) per store, medians.`,
    '',
    table(
      [
        'phase',
        'ledger (events/s)',
        'Emmett (events/s)',
        'ledger ÷ Emmett',
        'target',
        'met',
        'correct (ledger / Emmett)',
      ],
      r.comparison.map((c) => [
        c.phase,
        n(c.ledger),
        n(c.emmett),
        `${c.ratio.toFixed(2)}×`,
        c.target === undefined ? '' : `≥ ${c.target}×`,
        c.met === undefined ? '' : c.met ? 'yes' : '**no**',
        `${c.ledgerOk ? 'ok' : '**failed**'} / ${c.emmettOk ? 'ok' : '**failed**'}`,
      ]),
    ),
    '',
    ...r.comparison
      .filter((c) => c.ratio < 1)
      .map((c) => `- **Emmett is ahead** on ${c.phase}: ${(1 / c.ratio).toFixed(2)}× the ledger.`),
    '',
    'What each store read back, per run:',
    '',
    table(
      ['run', 'store', 'phase', 'check'],
      r.runs.flatMap((run) =>
        run.phases
          .filter((p) => p.check !== undefined)
          .map((p) => [
            String(run.run),
            run.store,
            p.phase,
            `${p.ok === false ? '**failed**' : 'ok'}: ${p.check ?? ''}`,
          ]),
      ),
    ),
    '',
    'Notes (where the stores differ, and why a check can fail):',
    '',
    ...r.notes.map((note) => `- ${note}`),
  ].join('\n');
}

function growthSection(r: GrowthResults | undefined): string {
  if (r === undefined) return 'Not run yet: `npm run bench -- --growth`.';
  return [
    context(r),
    '',
    `Targets at 10 000 000 events: µs per event within ${r.targets.ratioAt10M}× the smallest size's, peak RSS < ${r.targets.peakRssMbAt10M} MB.`,
    '',
    table(
      [
        'size',
        'phase',
        'events',
        'seconds',
        'µs/event',
        '× smallest',
        'peak RSS MB (start)',
        'targets',
        'check',
      ],
      r.rows.map((row) => {
        const met = meetsTargets(row);
        return [
          n(row.size),
          row.phase,
          n(row.events),
          row.seconds.toFixed(2),
          row.usPerEvent.toFixed(2),
          `${row.ratioToSmallest.toFixed(2)}×`,
          `${row.peakRssMb.toFixed(0)} (${row.startRssMb.toFixed(0)})`,
          met === undefined ? '' : met ? 'met' : '**not met**',
          `${row.ok ? 'ok' : '**failed**'}: ${row.check}`,
        ];
      }),
    ),
    '',
    'Loading (not part of the phases):',
    '',
    table(
      ['size', 'events appended', 'seconds', 'events/s'],
      r.loads.map((l) => [n(l.size), n(l.events), l.seconds.toFixed(1), n(l.eventsPerSecond)]),
    ),
    '',
    ...r.notes.map((note) => `- ${note}`),
  ].join('\n');
}

const peer = await load<PeerResults>(path.resolve(args.peer), 'peer');
const growth = await load<GrowthResults>(path.resolve(args.growth), 'growth');
const page = [
  '# Benchmarks',
  '',
  '<!-- Generated by `npx tsx bench/peer/write-docs.ts` from bench/results/*.json: edit the generator, not this page. -->',
  '',
  'To rerun (on a quiet machine: figures from a shared one say little):',
  '',
  '```sh',
  'npm run bench -- --peer            # this ledger against Emmett, writes bench/results/peer.json',
  'npm run bench -- --growth          # add --growth-max 10000000 for 10 M events; writes bench/results/growth.json',
  'npx tsx bench/peer/write-docs.ts   # this page',
  '```',
  '',
  "## This ledger against Emmett's PostgreSQL event store",
  '',
  peerSection(peer),
  '',
  '## Cost per event as the log grows',
  '',
  growthSection(growth),
  '',
].join('\n');
await writeFile(path.resolve(args.out), page);
console.log(`wrote ${args.out}`);
