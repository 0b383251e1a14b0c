import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GateEvent } from '../../src/domain/weighing/events.js';
import {
  evolveGate,
  gateStateFromTail,
  initialGateState,
} from '../../src/domain/weighing/ticket.js';

const ticketNo = fc.constantFrom('A1', 'A2', 'A3', 'A4');
const at = fc
  .integer({ min: 0, max: 10_000 })
  .map((m) => new Date(Date.UTC(2026, 0, 1) + m * 60_000).toISOString().replace('Z', '+00:00'));

const gateEvent: fc.Arbitrary<GateEvent> = fc.oneof(
  fc.record({ ticketNo, weighedInAt: at, ticketOpen: fc.boolean() }).map(
    (d) =>
      ({
        type: 'PlateWeighedInAtGate',
        data: {
          siteId: 'S1',
          ticketNo: d.ticketNo,
          plate: '鲁A12345',
          weighedInAt: d.weighedInAt,
          ticketOpen: d.ticketOpen,
        },
      }) as unknown as GateEvent,
  ),
  ticketNo.map(
    (t) =>
      ({
        type: 'PlateTicketClosedAtGate',
        data: { siteId: 'S1', ticketNo: t, plate: '鲁A12345' },
      }) as unknown as GateEvent,
  ),
);

describe('gate state from the tail of a long gate stream', () => {
  it('is the state of the whole stream whenever it is given, and is given for a whole stream', () => {
    fc.assert(
      fc.property(fc.array(gateEvent, { maxLength: 60 }), fc.nat(70), (events, k) => {
        const whole = events.reduce(evolveGate, initialGateState());
        const tail = events.slice(Math.max(0, events.length - k));
        const fromTail = gateStateFromTail(tail, tail.length === events.length);
        if (tail.length === events.length) expect(fromTail).toEqual(whole);
        if (fromTail !== undefined) expect(fromTail).toEqual(whole);
      }),
      { seed: 20_261_123, numRuns: 2000 },
    );
  });

  it('refuses a tail without an opening weigh-in when older events may hold an open ticket', () => {
    const open = {
      type: 'PlateWeighedInAtGate',
      data: {
        siteId: 'S1',
        ticketNo: 'A1',
        plate: '鲁A12345',
        weighedInAt: '2026-01-01T08:00:00+08:00',
        ticketOpen: true,
      },
    } as unknown as GateEvent;
    const onePass = {
      type: 'PlateWeighedInAtGate',
      data: {
        siteId: 'S1',
        ticketNo: 'A2',
        plate: '鲁A12345',
        weighedInAt: '2026-01-02T08:00:00+08:00',
        ticketOpen: false,
      },
    } as unknown as GateEvent;
    expect(gateStateFromTail([onePass], false)).toBeUndefined();
    expect([open, onePass].reduce(evolveGate, initialGateState()).openTicketNo).toBe('A1');
    expect(gateStateFromTail([open, onePass], true)?.openTicketNo).toBe('A1');
  });
});
