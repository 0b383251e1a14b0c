import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RuleViolation } from '../../src/domain/errors/catalogue.js';
import {
  siteSchema,
  vehicleSchema,
  type Site,
  type Vehicle,
} from '../../src/domain/master-data/master-data.js';
import { subtypesByCategory, type Category } from '../../src/domain/shared/materials.js';
import { businessDay } from '../../src/domain/shared/time.js';
import {
  weighingCommandSchemas,
  type WeighingCommand,
} from '../../src/domain/weighing/commands.js';
import { decideWeighing, type WeighingDecision } from '../../src/domain/weighing/decide.js';
import {
  gateEventSchemas,
  weighingEventSchemas,
  type GateEvent,
  type WeighingEvent,
} from '../../src/domain/weighing/events.js';
import {
  evolveGate,
  evolveTicket,
  initialGateState,
  initialTicketState,
  type GateState,
  type TicketState,
} from '../../src/domain/weighing/ticket.js';

/** Fixed seed: a failure names its seed and path, and the same run comes back every time. */
const SEED = 20_260_304;
const NUM_RUNS = 200;
const TIME_ZONE = 'Asia/Shanghai';

// ---------------------------------------------------------------------------------------------
// Arbitrary valid weighing events, built field by field after the zod schemas' shapes.

const HOUR_MS = 3_600_000;
/** 1 March 2026 00:00 UTC; generated instants span a week from there. */
const EPOCH = Date.parse('2026-03-01T00:00:00Z');

/** An instant as a weighbridge may report it: UTC, China or another offset, maybe with ms. */
function formatAt(ms: number, offsetHours: number): string {
  const local = new Date(ms + offsetHours * HOUR_MS).toISOString();
  if (offsetHours === 0) return local;
  const sign = offsetHours < 0 ? '-' : '+';
  return `${local.slice(0, -1)}${sign}${String(Math.abs(offsetHours)).padStart(2, '0')}:00`;
}

const instantArb = fc.integer({ min: EPOCH, max: EPOCH + 7 * 24 * HOUR_MS });
const timestampArb = fc
  .tuple(instantArb, fc.constantFrom(0, 8, -5))
  .map(([ms, offset]) => formatAt(ms, offset));
const dayArb = instantArb.map((ms) => new Date(ms).toISOString().slice(0, 10));

const siteIdArb = fc.constantFrom('ts-licheng-1', 'inc-licheng');
const ticketNoArb = fc.constantFrom('A0001', 'A0002', 'A0003');
const plateArb = fc.constantFrom('鲁A12345', '鲁AD8821F', '津C6688挂');
const kgArb = fc.integer({ min: 1, max: 100_000 });
const idArb = fc.constantFrom('licheng', 'tianqiao', 'cp-17', 'trip-0304-07');
const textArb = fc.string({ minLength: 1, maxLength: 20 });

const loadArb = fc.oneof(
  fc
    .constantFrom<Category>('kitchen', 'recyclable', 'hazardous', 'residual', 'construction')
    .chain((category) => {
      const subtypes: readonly string[] = subtypesByCategory[category];
      return subtypes.length === 0
        ? fc.constant({ kind: 'waste' as const, category })
        : fc
            .option(fc.constantFrom(...subtypes), { nil: undefined })
            .map((subtype) =>
              subtype === undefined
                ? { kind: 'waste' as const, category }
                : { kind: 'waste' as const, category, subtype },
            );
    }),
  fc.record({
    kind: fc.constant('residue' as const),
    residue: fc.constantFrom(
      'sorting_residue' as const,
      'digestate_residue' as const,
      'bottom_ash' as const,
      'fly_ash' as const,
    ),
  }),
);

const originArb = fc.oneof(
  fc.record(
    {
      kind: fc.constant('collection' as const),
      districtId: idArb,
      collectionPointId: idArb,
      tripId: idArb,
    },
    { requiredKeys: ['kind', 'districtId'] },
  ),
  fc.record({
    kind: fc.constant('transfer' as const),
    fromSiteId: siteIdArb,
    outboundTicketNo: ticketNoArb,
  }),
);

const siteSnapshotArb = fc.oneof(
  fc.record({
    kind: fc.constantFrom('collection_point' as const, 'transfer_station' as const),
    districtId: idArb,
  }),
  fc.record({
    kind: fc.constant('treatment_facility' as const),
    operation: fc.constantFrom(
      'incineration_energy_recovery' as const,
      'anaerobic_digestion' as const,
      'sanitary_landfill' as const,
    ),
    districtId: idArb,
  }),
);

const ref = { siteId: siteIdArb, ticketNo: ticketNoArb };
const firstWeighing = {
  ...ref,
  direction: fc.constantFrom('inbound' as const, 'outbound' as const),
  plate: plateArb,
  load: loadArb,
  grossKg: kgArb,
  weighedInAt: timestampArb,
  businessDay: dayArb,
  origin: originArb,
  destination: fc.record({ siteId: siteIdArb }),
  site: siteSnapshotArb,
  device: fc.string({ maxLength: 10 }),
};
const firstRequired = [
  'siteId',
  'ticketNo',
  'direction',
  'plate',
  'load',
  'grossKg',
  'weighedInAt',
  'businessDay',
  'site',
] as const;

const eventArbs = {
  VehicleWeighedIn: fc.record(firstWeighing, { requiredKeys: [...firstRequired] }),
  VehicleWeighedOut: fc.record({
    ...ref,
    tareKg: kgArb,
    tareSource: fc.constant('measured' as const),
    weighedOutAt: timestampArb,
    netKg: kgArb,
  }),
  VehicleWeighedOnePass: fc.record(
    {
      ...firstWeighing,
      tareKg: kgArb,
      tareSource: fc.constantFrom('stored' as const, 'preset' as const),
      netKg: kgArb,
    },
    { requiredKeys: [...firstRequired, 'tareKg', 'tareSource', 'netKg'] },
  ),
  LoadRejected: fc.record(
    {
      ...ref,
      plate: plateArb,
      load: loadArb,
      reason: fc.constantFrom(
        'category_not_accepted' as const,
        'mixed_load' as const,
        'over_legal_limit' as const,
        'contaminated' as const,
        'other' as const,
      ),
      note: fc.string({ maxLength: 20 }),
      rejectedAt: timestampArb,
      businessDay: dayArb,
      origin: originArb,
      site: siteSnapshotArb,
    },
    {
      requiredKeys: [
        'siteId',
        'ticketNo',
        'plate',
        'load',
        'reason',
        'rejectedAt',
        'businessDay',
        'site',
      ],
    },
  ),
  TicketCorrected: fc.record(
    {
      ...ref,
      version: fc.integer({ min: 2, max: 20 }),
      grossKg: kgArb,
      tareKg: kgArb,
      netKg: kgArb,
      load: loadArb,
      origin: originArb,
      destination: fc.record({ siteId: siteIdArb }),
      reason: textArb,
      approvedBy: textArb,
      correctedAt: timestampArb,
    },
    {
      requiredKeys: [
        'siteId',
        'ticketNo',
        'version',
        'grossKg',
        'tareKg',
        'netKg',
        'load',
        'reason',
        'approvedBy',
        'correctedAt',
      ],
    },
  ),
  TicketVoided: fc.record({
    ...ref,
    reason: textArb,
    approvedBy: textArb,
    voidedAt: timestampArb,
  }),
  TareDriftFound: fc.record({
    ...ref,
    plate: plateArb,
    storedTareKg: kgArb,
    measuredTareKg: kgArb,
    driftKg: fc.integer({ min: -100_000, max: 100_000 }),
    toleranceKg: fc.integer({ min: 0, max: 2_000 }),
  }),
  RepeatWeighingSuspected: fc.record({
    ...ref,
    plate: plateArb,
    previousTicketNo: ticketNoArb,
    previousWeighedInAt: timestampArb,
    secondsApart: fc.integer({ min: 0, max: 299 }),
  }),
};

/** Any weighing event, its data already through its schema (so brands and plates are real). */
const weighingEventArb: fc.Arbitrary<WeighingEvent> = fc.oneof(
  ...Object.entries(eventArbs).map(([type, dataArb]) =>
    (dataArb as fc.Arbitrary<unknown>).map(
      (data) =>
        ({
          type,
          data: weighingEventSchemas[type as keyof typeof eventArbs].parse(data),
        }) as WeighingEvent,
    ),
  ),
);

/** Events as a stream holds them: several facts about the same few tickets, in any order. */
const eventsArb = fc.array(weighingEventArb, { maxLength: 30 });

const gateEventArb: fc.Arbitrary<GateEvent> = fc.oneof(
  fc
    .record({
      ...ref,
      plate: plateArb,
      weighedInAt: timestampArb,
      ticketOpen: fc.boolean(),
    })
    .map((data) => ({
      type: 'PlateWeighedInAtGate' as const,
      data: gateEventSchemas.PlateWeighedInAtGate.parse(data),
    })),
  fc.record({ ...ref, plate: plateArb }).map((data) => ({
    type: 'PlateTicketClosedAtGate' as const,
    data: gateEventSchemas.PlateTicketClosedAtGate.parse(data),
  })),
);

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

const foldTicket = (events: readonly WeighingEvent[]): TicketState =>
  events.reduce(evolveTicket, initialTicketState());
const foldGate = (events: readonly GateEvent[]): GateState =>
  events.reduce(evolveGate, initialGateState());

const statuses = ['none', 'open', 'weighed', 'rejected', 'voided'];

describe('evolveTicket (property)', () => {
  it('never throws on any sequence of valid weighing events, and never mutates them', () => {
    fc.assert(
      fc.property(eventsArb, (events) => {
        deepFreeze(events);
        // Frozen facts: evolve would throw in strict mode if it wrote to one.
        const state = foldTicket(events);
        expect(statuses).toContain(state.status);
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  it('replays deterministically: folding the same events twice gives the same state', () => {
    fc.assert(
      fc.property(eventsArb, (events) => {
        const first = foldTicket(events);
        const second = foldTicket(structuredClone(events));
        expect(second).toStrictEqual(first);
        expect(foldTicket(events)).toStrictEqual(first);
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  it('evolveGate never throws and replays deterministically', () => {
    fc.assert(
      fc.property(fc.array(gateEventArb, { maxLength: 20 }), (events) => {
        deepFreeze(events);
        const first = foldGate(events);
        expect(foldGate(structuredClone(events))).toStrictEqual(first);
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Random command sequences through decide + evolve, against one site and one vehicle.

const STATION = 'ts-licheng-1';
const PLATE = '鲁A12345';
const station: Site = siteSchema.parse({
  siteId: STATION,
  name: '历城区第一转运站',
  kind: 'transfer_station',
  districtId: 'licheng',
  accepts: { categories: ['kitchen', 'residual'], residues: [] },
  validFrom: '2025-01-01',
});
/** 2 axles: gross above 18 000 kg is refused, which the generated weights sometimes are. */
const compactor: Vehicle = vehicleSchema.parse({
  plate: PLATE,
  axles: 2,
  storedTareKg: 10_000,
  tareMeasuredOn: '2026-01-15',
  operator: '历城环卫',
});
/** The sequences start two hours before local midnight, so they cross business days. */
const START = Date.parse('2026-03-03T22:00:00+08:00');
/** The ledger's clock, well after every generated time. */
const NOW = START + 30 * 24 * HOUR_MS;

type Op =
  | { readonly kind: 'weighIn'; readonly grossKg: number }
  | { readonly kind: 'onePass'; readonly grossKg: number; readonly tareKg: number }
  | { readonly kind: 'weighOut'; readonly tareKg: number }
  | { readonly kind: 'correct'; readonly grossKg?: number; readonly tareKg?: number }
  | { readonly kind: 'void' }
  | { readonly kind: 'reject' };

interface Step {
  readonly ticket: number;
  /** Seconds since the previous step; sometimes negative, as late uploads are. */
  readonly dtS: number;
  /** 0: reported in UTC, 8: in China time. */
  readonly offset: 0 | 8;
  readonly op: Op;
}

const grossArb = fc.integer({ min: 6_000, max: 18_500 });
const tareArb = fc.integer({ min: 5_000, max: 14_000 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: grossArb.map((grossKg) => ({ kind: 'weighIn' as const, grossKg })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(grossArb, tareArb)
      .map(([grossKg, tareKg]) => ({ kind: 'onePass' as const, grossKg, tareKg })),
  },
  { weight: 3, arbitrary: tareArb.map((tareKg) => ({ kind: 'weighOut' as const, tareKg })) },
  {
    weight: 3,
    arbitrary: fc
      .record({ grossKg: grossArb, tareKg: tareArb }, { requiredKeys: [] })
      .map((fields) => ({ kind: 'correct' as const, ...fields })),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'void' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reject' as const }) },
);
const stepArb: fc.Arbitrary<Step> = fc.record({
  ticket: fc.integer({ min: 1, max: 3 }),
  dtS: fc.oneof(
    { weight: 5, arbitrary: fc.integer({ min: 0, max: 1_800 }) },
    fc.integer({ min: -120, max: -1 }),
  ),
  offset: fc.constantFrom(0 as const, 8 as const),
  op: opArb,
});

function toCommand(step: Step, at: string): WeighingCommand {
  const ref = { siteId: STATION, ticketNo: `A000${step.ticket}` };
  const first = {
    ...ref,
    plate: PLATE,
    load: { kind: 'waste', category: 'kitchen' } as const,
    weighedInAt: at,
    origin: { kind: 'collection', districtId: 'licheng' } as const,
  };
  const approval = { reason: 'recalibrated', approvedBy: 'zhang.wei' };
  const { op } = step;
  switch (op.kind) {
    case 'weighIn':
      return {
        type: 'RecordWeighIn',
        data: weighingCommandSchemas.RecordWeighIn.parse({ ...first, grossKg: op.grossKg }),
      };
    case 'onePass':
      return {
        type: 'RecordOnePassWeighing',
        data: weighingCommandSchemas.RecordOnePassWeighing.parse({
          ...first,
          grossKg: op.grossKg,
          tareKg: op.tareKg,
          tareSource: 'stored',
        }),
      };
    case 'weighOut':
      return {
        type: 'RecordWeighOut',
        data: weighingCommandSchemas.RecordWeighOut.parse({
          ...ref,
          tareKg: op.tareKg,
          weighedOutAt: at,
        }),
      };
    case 'correct':
      return {
        type: 'CorrectTicket',
        data: weighingCommandSchemas.CorrectTicket.parse({
          ...ref,
          ...approval,
          ...(op.grossKg === undefined ? {} : { grossKg: op.grossKg }),
          ...(op.tareKg === undefined ? {} : { tareKg: op.tareKg }),
          correctedAt: at,
        }),
      };
    case 'void':
      return {
        type: 'VoidTicket',
        data: weighingCommandSchemas.VoidTicket.parse({ ...ref, ...approval, voidedAt: at }),
      };
    case 'reject':
      return {
        type: 'RejectLoad',
        data: weighingCommandSchemas.RejectLoad.parse({
          ...ref,
          plate: PLATE,
          load: { kind: 'waste', category: 'construction' },
          reason: 'category_not_accepted',
          rejectedAt: at,
        }),
      };
    default: {
      const unknown: never = op;
      return unknown;
    }
  }
}

/** What the test itself expects of a ticket, kept apart from the domain's state. */
interface Expected {
  readonly status: TicketState['status'];
  readonly grossKg: number;
  readonly tareKg: number | undefined;
}

/** The weighed total of a set of tickets: the sum of their latest net weights. */
function weighedNet(tickets: ReadonlyMap<string, TicketState>): number {
  let total = 0;
  for (const state of tickets.values()) {
    if (state.status === 'weighed') total += state.weighing.netKg;
  }
  return total;
}

interface Run {
  readonly tickets: ReadonlyMap<string, TicketState>;
  readonly expected: ReadonlyMap<string, Expected>;
  readonly accepted: number;
  readonly voidsAfterCorrection: number;
}

/** Applies the steps as the command handler would; refused commands change nothing. */
function run(steps: readonly Step[]): Run {
  const tickets = new Map<string, TicketState>();
  const expected = new Map<string, Expected>();
  const corrections = new Map<string, number>();
  let gate: GateState = initialGateState();
  let clock = START;
  let accepted = 0;
  let voidsAfterCorrection = 0;

  for (const step of steps) {
    clock += step.dtS * 1000;
    const at = formatAt(clock, step.offset);
    const command = toCommand(step, at);
    const ticketNo = command.data.ticketNo;
    const before = tickets.get(ticketNo) ?? initialTicketState();
    let decision: WeighingDecision;
    try {
      decision = decideWeighing(command, before, {
        now: NOW,
        timeZone: TIME_ZONE,
        site: station,
        vehicle: compactor,
        gate,
      });
    } catch (error) {
      // A broken rule is refused with a typed error; anything else is a bug.
      expect(error).toBeInstanceOf(RuleViolation);
      continue;
    }
    accepted += 1;
    const totalBefore = weighedNet(tickets);
    const after = decision.ticket.reduce(evolveTicket, before);
    tickets.set(ticketNo, after);
    gate = decision.gate.reduce(evolveGate, gate);

    const previous = expected.get(ticketNo);
    const { op } = step;
    switch (op.kind) {
      case 'weighIn':
        expected.set(ticketNo, { status: 'open', grossKg: op.grossKg, tareKg: undefined });
        break;
      case 'onePass':
        expected.set(ticketNo, { status: 'weighed', grossKg: op.grossKg, tareKg: op.tareKg });
        break;
      case 'weighOut':
        expect(previous?.status).toBe('open');
        expected.set(ticketNo, {
          status: 'weighed',
          grossKg: previous?.grossKg ?? 0,
          tareKg: op.tareKg,
        });
        break;
      case 'correct': {
        expect(previous?.status).toBe('weighed');
        expected.set(ticketNo, {
          status: 'weighed',
          grossKg: op.grossKg ?? previous?.grossKg ?? 0,
          tareKg: op.tareKg ?? previous?.tareKg,
        });
        corrections.set(ticketNo, (corrections.get(ticketNo) ?? 0) + 1);
        // A correction never moves the ticket to another day.
        expect(before.status === 'weighed' && after.status === 'weighed').toBe(true);
        if (before.status === 'weighed' && after.status === 'weighed') {
          expect(after.weighing.businessDay).toBe(before.weighing.businessDay);
          expect(after.weighing.businessDay).toBe(
            businessDay(after.weighing.weighedInAt, TIME_ZONE),
          );
          expect(after.weighing.version).toBe(before.weighing.version + 1);
        }
        break;
      }
      case 'void': {
        expected.set(ticketNo, {
          status: 'voided',
          grossKg: previous?.grossKg ?? 0,
          tareKg: previous?.tareKg,
        });
        // The void removes the ticket's latest net weight from the total, whatever came before.
        const removed = before.status === 'weighed' ? before.weighing.netKg : 0;
        expect(weighedNet(tickets)).toBe(totalBefore - removed);
        if ((corrections.get(ticketNo) ?? 0) > 0) voidsAfterCorrection += 1;
        break;
      }
      case 'reject':
        expected.set(ticketNo, { status: 'rejected', grossKg: 0, tareKg: undefined });
        break;
      default: {
        const unknown: never = op;
        return unknown;
      }
    }
  }
  return { tickets, expected, accepted, voidsAfterCorrection };
}

describe('decideWeighing + evolveTicket (property)', () => {
  it('keeps the weighed total equal to gross − tare of each ticket’s latest version', () => {
    let accepted = 0;
    let voidsAfterCorrection = 0;
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 5, maxLength: 40, size: 'max' }), (steps) => {
        const result = run(steps);
        accepted += result.accepted;
        voidsAfterCorrection += result.voidsAfterCorrection;

        let expectedTotal = 0;
        for (const [ticketNo, want] of result.expected) {
          const state = result.tickets.get(ticketNo);
          expect(state?.status).toBe(want.status);
          if (want.status !== 'weighed') continue;
          expectedTotal += want.grossKg - (want.tareKg ?? 0);
          if (state?.status === 'weighed') {
            expect(state.weighing.grossKg).toBe(want.grossKg);
            expect(state.weighing.tareKg).toBe(want.tareKg);
            expect(state.weighing.netKg).toBe(state.weighing.grossKg - state.weighing.tareKg);
          }
        }
        expect(weighedNet(result.tickets)).toBe(expectedTotal);
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
    // The generator reaches the cases that matter, not only refusals.
    expect(accepted).toBeGreaterThan(NUM_RUNS * 3);
    expect(voidsAfterCorrection).toBeGreaterThan(10);
  });

  it('removes a ticket from the total when it is voided after any corrections', () => {
    const correctionArb = fc.record(
      { grossKg: grossArb, tareKg: tareArb, dtS: fc.integer({ min: 0, max: 4 * 3_600 }) },
      { requiredKeys: ['dtS'] },
    );
    fc.assert(
      fc.property(
        fc.record({
          grossKg: fc.integer({ min: 14_001, max: 18_000 }),
          tareKg: fc.integer({ min: 5_000, max: 14_000 }),
        }),
        fc.array(correctionArb, { minLength: 1, maxLength: 6 }),
        fc.constantFrom(0 as const, 8 as const),
        (first, corrections, offset) => {
          const steps: Step[] = [
            { ticket: 1, dtS: 0, offset, op: { kind: 'onePass', ...first } },
            ...corrections.map(({ dtS, ...fields }) => ({
              ticket: 1,
              dtS,
              offset,
              op: { kind: 'correct' as const, ...fields },
            })),
            { ticket: 1, dtS: 60, offset, op: { kind: 'void' } },
          ];
          const result = run(steps);
          const state = result.tickets.get('A0001');
          expect(state?.status).toBe('voided');
          expect(weighedNet(result.tickets)).toBe(0);
          if (state?.status === 'voided' && state.before.status === 'weighed') {
            // Every version stays readable: the voided ticket keeps its latest values and day.
            const want = result.expected.get('A0001');
            expect(state.before.weighing.grossKg).toBe(want?.grossKg);
            expect(state.before.weighing.tareKg).toBe(want?.tareKg);
            expect(state.before.weighing.businessDay).toBe(
              businessDay(state.before.weighing.weighedInAt, TIME_ZONE),
            );
          } else {
            expect.unreachable('the voided ticket was weighed');
          }
        },
      ),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });
});
