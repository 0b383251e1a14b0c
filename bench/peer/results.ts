import path from 'node:path';
import type { PhaseResult } from '../support/report.js';
import type { PeerPhaseKey } from './phase-names.js';

export type StoreName = 'ledger' | 'emmett';
export const STORE_LABEL: Record<StoreName, string> = {
  ledger: 'this ledger (PostgreSQL)',
  emmett: 'Emmett (PostgreSQL)',
};

/** The targets, as ours ÷ peer (events/s). */
export const PEER_TARGETS: Partial<Record<PeerPhaseKey, number>> = {
  batched: 3,
  readAll: 3,
  projection: 10,
};

export interface PeerComparison {
  readonly key: PeerPhaseKey;
  readonly phase: string;
  /** Medians over the runs, events/s. */
  readonly ledger: number;
  readonly emmett: number;
  readonly ratio: number;
  readonly target?: number;
  readonly met?: boolean;
  /** Every run of each store passed this phase's correctness check. */
  readonly ledgerOk: boolean;
  readonly emmettOk: boolean;
}

export interface PeerResults {
  readonly benchmark: 'peer';
  readonly smoke: boolean;
  readonly at: string;
  readonly command: string;
  readonly machine: Record<string, unknown>;
  readonly versions: Record<string, string>;
  readonly workload: Record<string, number>;
  readonly comparison: readonly PeerComparison[];
  readonly runs: readonly { run: number; store: StoreName; phases: readonly PhaseResult[] }[];
  readonly notes: readonly string[];
}

export interface GrowthRow {
  readonly size: number;
  readonly phase: string;
  readonly events: number;
  readonly seconds: number;
  readonly usPerEvent: number;
  /** µs per event over the same phase's at the smallest size. */
  readonly ratioToSmallest: number;
  readonly startRssMb: number;
  readonly peakRssMb: number;
  readonly check: string;
  readonly ok: boolean;
}

export interface GrowthResults {
  readonly benchmark: 'growth';
  readonly smoke: boolean;
  readonly at: string;
  readonly command: string;
  readonly machine: Record<string, unknown>;
  readonly versions: Record<string, string>;
  readonly sizes: readonly number[];
  readonly targets: { readonly ratioAt10M: number; readonly peakRssMbAt10M: number };
  readonly loads: readonly {
    size: number;
    events: number;
    seconds: number;
    eventsPerSecond: number;
  }[];
  readonly rows: readonly GrowthRow[];
  readonly notes: readonly string[];
}

/**
 * Where a run writes: the results files, or beside them for a run with lowered sizes (a check
 * that it works must not replace the figures of a full run).
 */
export function resultsFile(benchmark: 'peer' | 'growth', smoke: boolean): string {
  return path.resolve(`bench/results/${benchmark}${smoke ? '.smoke' : ''}.json`);
}
