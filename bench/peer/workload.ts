import type { RecordedEvent, StreamAppend } from '../../src/store/port.js';
import { foldNetKg, type DayCategoryTotal } from '../workload/net-kg-projection.js';
import { prng, ticketEvents } from '../workload/tickets.js';

/** Tickets of unmeasured single-event appends before phase (a), for both stores alike. */
export const WARM_UP_TICKETS = 20;
/** Concurrent calls in phase (b). */
export const IN_FLIGHT = 8;
/** Events per page in phase (c). */
export const READ_PAGE = 1000;
/** Events per batch when projecting, for both stores (the ledger's runner, Emmett's puller). */
export const PROJECTION_BATCH = 2000;

/**
 * The same events for both stores, generated once before anything is timed (seeded, so the same
 * on every machine): warm-up tickets, the tickets phase (a) writes an event at a time, and the
 * tickets phase (b) writes a ticket at a time. Ticket numbers do not overlap, so no stream is
 * written by two phases.
 */
export interface PeerWorkload {
  readonly warmUp: readonly StreamAppend[];
  readonly sequential: readonly StreamAppend[];
  /** Phase (a) appends this many events (the last ticket may be cut short). */
  readonly sequentialEvents: number;
  readonly batched: readonly StreamAppend[];
  /** Net kg and events by `day|category` over every event either store is given. */
  readonly expected: ReadonlyMap<string, DayCategoryTotal>;
  readonly totalEvents: number;
}

/** An appended event as `foldNetKg` reads it (only the type and data matter to the fold). */
export function asRecorded(append: StreamAppend): RecordedEvent[] {
  return append.events.map((e, revision) => ({
    streamId: append.streamId,
    revision,
    position: 0,
    id: e.id,
    type: e.type,
    data: e.data,
    metadata: e.metadata ?? {},
    recordedAt: '',
  }));
}

export function buildPeerWorkload(tickets: number, sequentialEvents: number): PeerWorkload {
  const warmUpRandom = prng(99);
  const warmUp = Array.from({ length: WARM_UP_TICKETS }, (_, i) =>
    ticketEvents(warmUpRandom, 9_000_000 + i),
  );
  const sequentialRandom = prng(1);
  const sequential = Array.from({ length: Math.ceil(sequentialEvents / 5) }, (_, i) =>
    ticketEvents(sequentialRandom, 1_000_000 + i),
  );
  const batchedRandom = prng(2);
  const batched = Array.from({ length: tickets }, (_, i) => ticketEvents(batchedRandom, i));
  const expected = new Map<string, DayCategoryTotal>();
  let totalEvents = 0;
  for (const append of warmUp) totalEvents += foldInto(expected, asRecorded(append));
  let left = sequentialEvents;
  for (const append of sequential) {
    const events = asRecorded(append).slice(0, left);
    left -= events.length;
    totalEvents += foldInto(expected, events);
  }
  for (const append of batched) totalEvents += foldInto(expected, asRecorded(append));
  return { warmUp, sequential, sequentialEvents, batched, expected, totalEvents };
}

function foldInto(into: Map<string, DayCategoryTotal>, events: RecordedEvent[]): number {
  foldNetKg(events, into);
  return events.length;
}

/** Runs `work` over `items` with `concurrency` calls in flight, in order of taking. */
export async function inFlight<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await work(item);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
