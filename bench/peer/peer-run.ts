import { machine, printTable, writeResults, type PhaseResult } from '../support/report.js';
import { runEmmett } from './emmett-side.js';
import { runLedger } from './ledger-side.js';
import type { PeerOptions } from './options.js';
import { PEER_PHASE_KEYS, PEER_PHASES } from './phase-names.js';
import {
  PEER_TARGETS,
  resultsFile,
  STORE_LABEL,
  type PeerComparison,
  type PeerResults,
  type StoreName,
} from './results.js';
import { median, printColumns } from './table.js';
import { versions, commandLine } from './versions.js';
import { buildPeerWorkload, IN_FLIGHT, PROJECTION_BATCH, READ_PAGE } from './workload.js';

/** Where the two stores do not do the same thing, said next to the figures. */
export const PEER_NOTES = [
  'Emmett appends one stream per call (appendToStream); phase (b) gives both stores one ticket (5 events) per call, although the ledger can also write many streams per call (appendMany).',
  "Emmett's STREAM_DOES_NOT_EXIST is not checked by its PostgreSQL store (it is sent as no expectation); phases (a) and (b) pass 0n, which its append function does check.",
  "Emmett's global-order read (readMessagesBatch) orders by transaction id, then position, and pages on position; it sees only transactions older than every transaction still open in the database, so on a shared server it may have to wait (waits are reported and not timed). Its events table has no index on the global position.",
  "Emmett's projection runs as its docs show: a raw SQL projection rebuilt by rebuildPostgreSQLProjections, one upsert and one checkpoint write per event, a batch per transaction. Its consumer's pause between batches (50 ms by default) is set to 0 and its batch to the ledger runner's size.",
  "Emmett's processors skip an event whose global position is below the last one they handled (wasMessageHandled); its reads return events from concurrent appends in transaction order, where that happens, so its projection leaves those events out: check (c) counts them, check (d) shows the events the read model lacks.",
  "Emmett's driver layer sets pg's process-wide int8/json parsers; here they apply to Emmett's connections only, so the ledger parses as it does in production.",
  'Both stores run in this process against the same PostgreSQL, each in a fresh schema dropped after its run; runs alternate and the store that goes first alternates too.',
];

function summarise(
  runs: readonly { store: StoreName; phases: readonly PhaseResult[] }[],
): PeerComparison[] {
  return PEER_PHASE_KEYS.map((key) => {
    const name = PEER_PHASES[key];
    const of = (store: StoreName) =>
      runs
        .filter((r) => r.store === store)
        .flatMap((r) => r.phases.filter((p) => p.phase === name));
    const rate = (store: StoreName) => median(of(store).map((p) => p.eventsPerSecond));
    const passed = (store: StoreName) => of(store).every((p) => p.ok !== false);
    const ledger = rate('ledger');
    const emmett = rate('emmett');
    const ratio = ledger / emmett;
    const target = PEER_TARGETS[key];
    return {
      key,
      phase: name,
      ledger: Math.round(ledger),
      emmett: Math.round(emmett),
      ratio: Number(ratio.toFixed(2)),
      ...(target === undefined ? {} : { target, met: ratio >= target }),
      ledgerOk: passed('ledger'),
      emmettOk: passed('emmett'),
    };
  });
}

function printComparison(comparison: readonly PeerComparison[], runs: number): void {
  printColumns(
    `Medians of ${runs} run(s) each, events/s`,
    ['phase', 'ledger', 'Emmett', 'ledger ÷ Emmett', 'target', 'met', 'correct (ledger / Emmett)'],
    comparison.map((c) => [
      c.phase,
      String(c.ledger),
      String(c.emmett),
      `${c.ratio.toFixed(2)}×`,
      c.target === undefined ? '' : `≥ ${c.target}×`,
      c.met === undefined ? '' : c.met ? 'yes' : 'NO',
      `${c.ledgerOk ? 'ok' : 'FAILED'} / ${c.emmettOk ? 'ok' : 'FAILED'}`,
    ]),
  );
  console.log('');
  for (const c of comparison) {
    if (c.ratio < 1) {
      console.log(
        `Emmett is ahead on ${c.phase}: ${c.emmett} against ${c.ledger} events/s (${(1 / c.ratio).toFixed(2)}× the ledger).`,
      );
    } else if (c.met === false) {
      console.log(
        `The ledger is ahead on ${c.phase} but misses the target: ${c.ratio.toFixed(2)}× instead of ≥ ${c.target}×.`,
      );
    }
    if (!c.emmettOk)
      console.log(`Emmett's output failed its check in ${c.phase} (see the runs above).`);
    if (!c.ledgerOk) console.log(`The ledger's output FAILED its check in ${c.phase}.`);
  }
}

/** `npm run bench -- --peer`: the ledger against Emmett, alternating runs, medians. */
export async function runPeer(options: PeerOptions): Promise<void> {
  const workload = buildPeerWorkload(options.tickets, options.sequential);
  console.log(
    `Peer benchmark: ${options.tickets} tickets × 5 events, ${options.sequential} sequential appends, ` +
      `${workload.totalEvents} events per store per run, ${options.runs} run(s) each` +
      (options.smoke ? ' (SMOKE RUN: lowered sizes, not results)' : ''),
  );
  const runs: { run: number; store: StoreName; phases: PhaseResult[] }[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const order: StoreName[] = run % 2 === 1 ? ['ledger', 'emmett'] : ['emmett', 'ledger'];
    for (const store of order) {
      const phases =
        store === 'ledger'
          ? await runLedger(options.databaseUrl, workload)
          : await runEmmett(options.databaseUrl, workload);
      printTable(`run ${run}: ${STORE_LABEL[store]}`, phases);
      runs.push({ run, store, phases });
    }
  }
  const comparison = summarise(runs);
  printComparison(comparison, options.runs);
  const results: PeerResults = {
    benchmark: 'peer',
    smoke: options.smoke,
    at: new Date().toISOString(),
    command: commandLine(),
    machine: machine(),
    versions: await versions(options.databaseUrl),
    workload: {
      tickets: options.tickets,
      eventsPerTicket: 5,
      sequentialAppends: options.sequential,
      eventsPerStorePerRun: workload.totalEvents,
      runs: options.runs,
      inFlight: IN_FLIGHT,
      readPage: READ_PAGE,
      projectionBatch: PROJECTION_BATCH,
    },
    comparison,
    runs,
    notes: PEER_NOTES,
  };
  const file = resultsFile('peer', options.smoke);
  await writeResults(file, results);
  console.log(
    `\nNotes (where the stores differ, and why a check can fail):\n${PEER_NOTES.map((n) => `  - ${n}`).join('\n')}`,
  );
  console.log(`\nJSON: ${file}`);
  if (comparison.some((c) => !c.ledgerOk)) {
    console.error('Correctness check failed for the ledger.');
    process.exitCode = 1;
  }
}
