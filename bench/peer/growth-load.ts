import type { EventStore, StreamAppend } from '../../src/store/port.js';
import { timed } from '../support/report.js';
import { foldNetKg, type DayCategoryTotal } from '../workload/net-kg-projection.js';
import { prng, ticketEvents } from '../workload/tickets.js';
import { asRecorded, IN_FLIGHT } from './workload.js';

/** Tickets per appendMany call while loading: store.bench.ts's batched phase (100 events). */
const TICKETS_PER_CALL = 20;

/**
 * Grows one log ticket by ticket across sizes: each `loadUpTo` adds tickets after the last one
 * (generated as they are written, so memory does not grow with the log), and folds what it wrote
 * into the expected totals, the projection's check.
 */
export class GrowingLog {
  readonly #random = prng(7);
  #nextTicket = 0;
  readonly expected = new Map<string, DayCategoryTotal>();

  constructor(private readonly store: EventStore) {}

  get ticketEvents(): number {
    return this.#nextTicket * 5;
  }

  /** Appends tickets until the log holds at least `events` events; returns the time taken. */
  async loadUpTo(events: number): Promise<{ appended: number; seconds: number }> {
    const head = await this.store.headPosition();
    const tickets = Math.max(0, Math.ceil((events - head) / 5));
    const last = this.#nextTicket + tickets;
    const nextCall = (): StreamAppend[] | undefined => {
      if (this.#nextTicket >= last) return undefined;
      const count = Math.min(TICKETS_PER_CALL, last - this.#nextTicket);
      const call = Array.from({ length: count }, () =>
        ticketEvents(this.#random, this.#nextTicket++),
      );
      for (const ticket of call) foldNetKg(asRecorded(ticket), this.expected);
      return call;
    };
    const worker = async () => {
      for (let call = nextCall(); call !== undefined; call = nextCall()) {
        await this.store.appendMany(call);
      }
    };
    const { seconds } = await timed(() => Promise.all(Array.from({ length: IN_FLIGHT }, worker)));
    return { appended: tickets * 5, seconds };
  }
}
