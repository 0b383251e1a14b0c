/**
 * Two benchmarks beside the store's, run through `npm run bench` (bench/store.bench.ts hands
 * over to this file when it sees `--peer` or `--growth`):
 *
 *   npm run bench -- --peer                    this ledger against Emmett's PostgreSQL event
 *                                              store: 20 000 tickets × 5 events, 2 000
 *                                              sequential appends, 3 alternating runs each
 *   npm run bench -- --peer --tickets N --sequential N --runs N
 *   npm run bench -- --growth                  the ledger alone at 100 000 and 1 000 000 events:
 *                                              projection rebuild and verification, time per
 *                                              event and peak RSS at each size
 *   npm run bench -- --growth --growth-max 10000000     adds 10 000 000 events
 *   npm run bench -- --growth --growth-sizes 20000,50000  other sizes (a quick check)
 *
 * Results: bench/results/peer.json and growth.json (runs with lowered sizes write *.smoke.json
 * instead); `npx tsx bench/peer/write-docs.ts` renders docs/benchmarks.md from them.
 */
import { pathToFileURL } from 'node:url';
import { runGrowth } from './peer/growth-run.js';
import { parseModeArgs } from './peer/options.js';
import { runPeer } from './peer/peer-run.js';

export async function runPeerOrGrowth(argv?: readonly string[]): Promise<void> {
  const mode = parseModeArgs(argv);
  if (mode.kind === 'peer') await runPeer(mode.options);
  else await runGrowth(mode.options);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runPeerOrGrowth();
}
