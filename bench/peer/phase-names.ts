import { IN_FLIGHT, PROJECTION_BATCH, READ_PAGE } from './workload.js';

/** The four phases of the peer comparison, named the same for both stores. */
export const PEER_PHASES = {
  sequential: '(a) append, 1 event per call, sequential, exact version',
  batched: `(b) append, 5 events (1 ticket) per call, ${IN_FLIGHT} in flight, no stream yet`,
  readAll: `(c) read all in global order, pages of ${READ_PAGE}`,
  projection: `(d) projection rebuild from 0, net kg by (day, category), batches of ${PROJECTION_BATCH}`,
} as const;

export type PeerPhaseKey = keyof typeof PEER_PHASES;
export const PEER_PHASE_KEYS = Object.keys(PEER_PHASES) as PeerPhaseKey[];
