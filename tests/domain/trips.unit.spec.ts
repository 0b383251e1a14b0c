import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { RuleViolation, type ErrorCode } from '../../src/domain/errors/catalogue.js';
import { epochMs } from '../../src/domain/shared/time.js';
import {
  tripCommandSchemas,
  type TripCommand,
  type TripCommandType,
} from '../../src/domain/trips/commands.js';
import { decideTrip } from '../../src/domain/trips/decide.js';
import {
  tripEventSchemas,
  tripStreamId,
  type TripEvent,
  type TripEventType,
} from '../../src/domain/trips/events.js';
import { evolveTrip, initialTripState, type TripState } from '../../src/domain/trips/trip.js';

/** The ledger's clock for every test: 4 March 2026, 08:00 in Jinan. */
const NOW = Date.parse('2026-03-04T08:00:00+08:00');
const SEED = 20_260_304;

const TRIP = 'trip-0304-07';
const STATION = 'ts-licheng-1';
const PLATE = '鲁A12345';

// ---------------------------------------------------------------------------------------------
// Builders: commands and events go through their zod schemas, as they would at the API.

function command<T extends TripCommandType>(
  type: T,
  data: z.input<(typeof tripCommandSchemas)[T]>,
): TripCommand {
  return { type, data: tripCommandSchemas[type].parse(data) } as TripCommand;
}

function event<T extends TripEventType>(
  type: T,
  data: z.input<(typeof tripEventSchemas)[T]>,
): TripEvent {
  return { type, data: tripEventSchemas[type].parse(data) } as TripEvent;
}

const dispatchData = {
  tripId: TRIP,
  plate: PLATE,
  districtId: 'licheng',
  category: 'kitchen',
  dispatchedAt: '2026-03-04T06:00:00+08:00',
} as const;
const firstCollectionData = {
  tripId: TRIP,
  collectionPointId: 'cp-huayuan-3',
  category: 'kitchen',
  bins: 12,
  kg: 1_850,
  collectedAt: '2026-03-04T06:20:00+08:00',
} as const;
const arrivalData = {
  tripId: TRIP,
  siteId: STATION,
  arrivedAt: '2026-03-04T07:10:00+08:00',
  ticketNo: 'A0001',
} as const;
const departureData = {
  tripId: TRIP,
  siteId: STATION,
  departedAt: '2026-03-04T07:25:00+08:00',
} as const;

const dispatched = event('TripDispatched', dispatchData);
const collected = event('CollectedAtPoint', firstCollectionData);
const arrived = event('ArrivedAtSite', arrivalData);
const departed = event('DepartedSite', departureData);

const dispatch = (overrides: Partial<z.input<typeof tripCommandSchemas.DispatchTrip>> = {}) =>
  command('DispatchTrip', { ...dispatchData, ...overrides });
const collect = (overrides: Partial<z.input<typeof tripCommandSchemas.RecordCollection>> = {}) =>
  command('RecordCollection', {
    tripId: TRIP,
    collectionPointId: 'cp-huayuan-4',
    category: 'kitchen',
    bins: 8,
    collectedAt: '2026-03-04T06:45:00+08:00',
    ...overrides,
  });
const arrive = (overrides: Partial<z.input<typeof tripCommandSchemas.RecordArrival>> = {}) =>
  command('RecordArrival', { ...arrivalData, ...overrides });
const depart = (overrides: Partial<z.input<typeof tripCommandSchemas.RecordDeparture>> = {}) =>
  command('RecordDeparture', { ...departureData, ...overrides });

// ---------------------------------------------------------------------------------------------
// given / when / then

const fold = (events: readonly TripEvent[]): TripState =>
  events.reduce(evolveTrip, initialTripState());

function given(...events: TripEvent[]) {
  const state = fold(events);
  return {
    when(cmd: TripCommand) {
      const decide = () => decideTrip(cmd, state, { now: NOW });
      return {
        then(expected: readonly { readonly type: string; readonly data: object }[]) {
          const decided = decide();
          expect(decided).toStrictEqual(expected);
          return decided;
        },
        thenFails(code: ErrorCode, field: string): void {
          let error: unknown;
          try {
            decide();
          } catch (caught) {
            error = caught;
          }
          expect(error).toBeInstanceOf(RuleViolation);
          const violation = error as RuleViolation;
          expect({ code: violation.code, field: violation.field }).toStrictEqual({ code, field });
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------

describe('trip stream', () => {
  it('is named after the trip', () => {
    expect(tripStreamId(TRIP)).toBe('trip-trip-0304-07');
  });
});

describe('trip decider: dispatch', () => {
  it('dispatches a new trip, with the plate as printed normalised', () => {
    given()
      .when(dispatch({ plate: '鲁a·12345' }))
      .then([
        {
          type: 'TripDispatched',
          data: {
            tripId: TRIP,
            plate: PLATE,
            districtId: 'licheng',
            category: 'kitchen',
            dispatchedAt: '2026-03-04T06:00:00+08:00',
          },
        },
      ]);
  });

  it.each([
    ['collecting', [dispatched, collected]],
    ['at a site', [dispatched, arrived]],
    ['departed', [dispatched, arrived, departed]],
  ] as const)('refuses to dispatch a trip twice (%s)', (_status, events) => {
    given(...events)
      .when(dispatch())
      .thenFails('LEDGER_ERR_OUT_OF_ORDER', 'tripId');
  });

  it('refuses a dispatch more than 10 minutes ahead of the clock (exactly 10 is fine)', () => {
    given()
      .when(dispatch({ dispatchedAt: '2026-03-04T08:10:00+08:00' }))
      .then([
        {
          type: 'TripDispatched',
          data: { ...dispatchData, dispatchedAt: '2026-03-04T08:10:00+08:00' },
        },
      ]);
    given()
      .when(dispatch({ dispatchedAt: '2026-03-04T00:10:00.001Z' }))
      .thenFails('LEDGER_ERR_TIME_IN_FUTURE', 'dispatchedAt');
  });
});

describe('trip decider: collection', () => {
  it('records a collection with its weight where the point weighs', () => {
    given(dispatched)
      .when(collect({ kg: 640 }))
      .then([
        {
          type: 'CollectedAtPoint',
          data: {
            tripId: TRIP,
            collectionPointId: 'cp-huayuan-4',
            category: 'kitchen',
            bins: 8,
            kg: 640,
            collectedAt: '2026-03-04T06:45:00+08:00',
          },
        },
      ]);
  });

  it('records an unweighed collection of no bins without a weight', () => {
    given(dispatched, collected)
      .when(collect({ bins: 0 }))
      .then([
        {
          type: 'CollectedAtPoint',
          data: {
            tripId: TRIP,
            collectionPointId: 'cp-huayuan-4',
            category: 'kitchen',
            bins: 0,
            collectedAt: '2026-03-04T06:45:00+08:00',
          },
        },
      ]);
  });

  it('accepts a collection at the same instant as the previous step', () => {
    given(dispatched)
      .when(collect({ collectedAt: '2026-03-03T22:00:00Z' }))
      .then([
        {
          type: 'CollectedAtPoint',
          data: {
            tripId: TRIP,
            collectionPointId: 'cp-huayuan-4',
            category: 'kitchen',
            bins: 8,
            collectedAt: '2026-03-03T22:00:00Z',
          },
        },
      ]);
  });

  it('refuses a collection before the dispatch', () => {
    given().when(collect()).thenFails('LEDGER_ERR_OUT_OF_ORDER', 'tripId');
  });

  it('refuses a collection earlier than the dispatch or the previous collection', () => {
    given(dispatched)
      .when(collect({ collectedAt: '2026-03-04T05:59:59+08:00' }))
      .thenFails('LEDGER_ERR_OUT_OF_ORDER', 'collectedAt');
    given(dispatched, collected)
      .when(collect({ collectedAt: '2026-03-03T22:19:59Z' }))
      .thenFails('LEDGER_ERR_OUT_OF_ORDER', 'collectedAt');
  });

  it('refuses a collection once the vehicle is at a site or gone', () => {
    given(dispatched, arrived).when(collect()).thenFails('LEDGER_ERR_OUT_OF_ORDER', 'tripId');
    given(dispatched, arrived, departed)
      .when(collect())
      .thenFails('LEDGER_ERR_OUT_OF_ORDER', 'tripId');
  });

  it('refuses a collection time in the future', () => {
    given(dispatched)
      .when(collect({ collectedAt: '2026-03-04T08:10:01+08:00' }))
      .thenFails('LEDGER_ERR_TIME_IN_FUTURE', 'collectedAt');
  });
});

describe('trip decider: arrival', () => {
  it('records the arrival with the site’s weigh ticket', () => {
    given(dispatched, collected)
      .when(arrive())
      .then([
        {
          type: 'ArrivedAtSite',
          data: {
            tripId: TRIP,
            siteId: STATION,
            arrivedAt: '2026-03-04T07:10:00+08:00',
            ticketNo: 'A0001',
          },
        },
      ]);
  });

  it('records an arrival without a ticket number', () => {
    given(dispatched)
      .when(arrive({ ticketNo: undefined }))
      .then([
        {
          type: 'ArrivedAtSite',
          data: { tripId: TRIP, siteId: STATION, arrivedAt: '2026-03-04T07:10:00+08:00' },
        },
      ]);
  });

  it('refuses an arrival before the dispatch', () => {
    given().when(arrive()).thenFails('LEDGER_ERR_OUT_OF_ORDER', 'tripId');
  });

  it('refuses an arrival earlier than the last collection', () => {
    given(dispatched, collected)
      .when(arrive({ arrivedAt: '2026-03-04T06:19:00+08:00' }))
      .thenFails('LEDGER_ERR_OUT_OF_ORDER', 'arrivedAt');
  });

  it('refuses a second arrival', () => {
    given(dispatched, arrived)
      .when(arrive({ siteId: 'inc-licheng', arrivedAt: '2026-03-04T07:40:00+08:00' }))
      .thenFails('LEDGER_ERR_OUT_OF_ORDER', 'tripId');
    given(dispatched, arrived, departed)
      .when(arrive({ arrivedAt: '2026-03-04T07:40:00+08:00' }))
      .thenFails('LEDGER_ERR_OUT_OF_ORDER', 'tripId');
  });

  it('refuses an arrival time in the future', () => {
    given(dispatched)
      .when(arrive({ arrivedAt: '2026-03-04T08:10:01+08:00' }))
      .thenFails('LEDGER_ERR_TIME_IN_FUTURE', 'arrivedAt');
  });
});

describe('trip decider: departure', () => {
  it('records the departure from the site it arrived at', () => {
    given(dispatched, collected, arrived)
      .when(depart())
      .then([
        {
          type: 'DepartedSite',
          data: { tripId: TRIP, siteId: STATION, departedAt: '2026-03-04T07:25:00+08:00' },
        },
      ]);
  });

  it('refuses a departure before the dispatch', () => {
    given().when(depart()).thenFails('LEDGER_ERR_OUT_OF_ORDER', 'tripId');
  });

  it('refuses a departure without an arrival at that site', () => {
    given(dispatched, collected).when(depart()).thenFails('LEDGER_ERR_OUT_OF_ORDER', 'siteId');
    given(dispatched, arrived)
      .when(depart({ siteId: 'inc-licheng' }))
      .thenFails('LEDGER_ERR_OUT_OF_ORDER', 'siteId');
  });

  it('refuses a departure earlier than the arrival', () => {
    given(dispatched, arrived)
      .when(depart({ departedAt: '2026-03-04T07:09:59+08:00' }))
      .thenFails('LEDGER_ERR_OUT_OF_ORDER', 'departedAt');
  });

  it('refuses a second departure', () => {
    given(dispatched, arrived, departed)
      .when(depart({ departedAt: '2026-03-04T07:30:00+08:00' }))
      .thenFails('LEDGER_ERR_OUT_OF_ORDER', 'tripId');
  });

  it('refuses a departure time in the future', () => {
    given(dispatched, arrived)
      .when(depart({ departedAt: '2026-03-04T08:10:01+08:00' }))
      .thenFails('LEDGER_ERR_TIME_IN_FUTURE', 'departedAt');
  });
});

describe('trip commands and events (schemas)', () => {
  it('refuse a negative or fractional bin count and a weight that is not positive whole kg', () => {
    const base = { ...firstCollectionData };
    for (const bad of [{ bins: -1 }, { bins: 1.5 }, { kg: 0 }, { kg: -5 }, { kg: 12.5 }]) {
      expect(tripCommandSchemas.RecordCollection.safeParse({ ...base, ...bad }).success).toBe(
        false,
      );
      expect(tripEventSchemas.CollectedAtPoint.safeParse({ ...base, ...bad }).success).toBe(false);
    }
  });

  it('refuse a time without an offset, an unknown category and a bad plate', () => {
    expect(
      tripCommandSchemas.DispatchTrip.safeParse({
        ...dispatchData,
        dispatchedAt: '2026-03-04T06:00:00',
      }).success,
    ).toBe(false);
    expect(
      tripCommandSchemas.DispatchTrip.safeParse({ ...dispatchData, category: 'mixed' }).success,
    ).toBe(false);
    expect(
      tripCommandSchemas.DispatchTrip.safeParse({ ...dispatchData, plate: 'ABC123' }).success,
    ).toBe(false);
  });
});

describe('evolveTrip', () => {
  it('folds a whole trip', () => {
    const second = event('CollectedAtPoint', {
      tripId: TRIP,
      collectionPointId: 'cp-huayuan-4',
      category: 'kitchen',
      bins: 0,
      collectedAt: '2026-03-04T06:45:00+08:00',
    });
    expect(fold([dispatched, collected, second, arrived, departed])).toStrictEqual({
      status: 'departed',
      dispatch: dispatchData,
      collections: [
        firstCollectionData,
        {
          tripId: TRIP,
          collectionPointId: 'cp-huayuan-4',
          category: 'kitchen',
          bins: 0,
          collectedAt: '2026-03-04T06:45:00+08:00',
        },
      ],
      arrival: arrivalData,
      departure: departureData,
      lastStepAt: '2026-03-04T07:25:00+08:00',
    });
  });

  it('keeps the facts it has when one arrives out of place', () => {
    expect(fold([collected, arrived, departed])).toStrictEqual({ status: 'none' });
    const atSite = fold([dispatched, arrived]);
    expect(fold([dispatched, arrived, collected])).toStrictEqual(atSite);
    expect(fold([dispatched, arrived, dispatched])).toStrictEqual(atSite);
    expect(
      fold([dispatched, arrived, event('DepartedSite', { ...departureData, siteId: 'other' })]),
    ).toStrictEqual(atSite);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const HOUR_MS = 3_600_000;
const EPOCH = Date.parse('2026-03-04T00:00:00+08:00');

function formatAt(ms: number, offsetHours: 0 | 8): string {
  const iso = new Date(ms + offsetHours * HOUR_MS).toISOString();
  return offsetHours === 0 ? iso : `${iso.slice(0, -1)}+08:00`;
}

const timestampArb = fc
  .tuple(
    fc.integer({ min: EPOCH, max: EPOCH + 9 * HOUR_MS }),
    fc.constantFrom(0 as const, 8 as const),
  )
  .map(([ms, offset]) => formatAt(ms, offset));
const tripIdArb = fc.constantFrom(TRIP, 'trip-0304-08');
const siteIdArb = fc.constantFrom(STATION, 'inc-licheng');
const categoryArb = fc.constantFrom(
  'kitchen' as const,
  'recyclable' as const,
  'hazardous' as const,
  'residual' as const,
  'construction' as const,
);

const tripDataArbs = {
  TripDispatched: fc.record({
    tripId: tripIdArb,
    plate: fc.constantFrom(PLATE, '鲁AD8821F'),
    districtId: fc.constantFrom('licheng', 'tianqiao'),
    category: categoryArb,
    dispatchedAt: timestampArb,
  }),
  CollectedAtPoint: fc.record(
    {
      tripId: tripIdArb,
      collectionPointId: fc.constantFrom('cp-huayuan-3', 'cp-huayuan-4'),
      category: categoryArb,
      bins: fc.integer({ min: 0, max: 60 }),
      kg: fc.integer({ min: 1, max: 100_000 }),
      collectedAt: timestampArb,
    },
    { requiredKeys: ['tripId', 'collectionPointId', 'category', 'bins', 'collectedAt'] },
  ),
  ArrivedAtSite: fc.record(
    {
      tripId: tripIdArb,
      siteId: siteIdArb,
      arrivedAt: timestampArb,
      ticketNo: fc.constantFrom('A0001', 'A0002'),
    },
    { requiredKeys: ['tripId', 'siteId', 'arrivedAt'] },
  ),
  DepartedSite: fc.record({ tripId: tripIdArb, siteId: siteIdArb, departedAt: timestampArb }),
};

const tripEventArb: fc.Arbitrary<TripEvent> = fc.oneof(
  ...Object.entries(tripDataArbs).map(([type, dataArb]) =>
    (dataArb as fc.Arbitrary<unknown>).map(
      (data) =>
        ({
          type,
          data: tripEventSchemas[type as TripEventType].parse(data),
        }) as TripEvent,
    ),
  ),
);

/** A step of a generated trip: what happens, and how many minutes after the previous step. */
interface TripStep {
  readonly kind: 'dispatch' | 'collect' | 'arrive' | 'depart';
  /** Sometimes negative, as a late or skewed report is. */
  readonly dtMin: number;
  readonly offset: 0 | 8;
  readonly siteId: string;
  readonly bins: number;
  readonly kg: number | undefined;
}

const tripStepArb: fc.Arbitrary<TripStep> = fc.record({
  kind: fc.oneof(
    { weight: 1, arbitrary: fc.constant('dispatch' as const) },
    { weight: 4, arbitrary: fc.constant('collect' as const) },
    { weight: 2, arbitrary: fc.constant('arrive' as const) },
    { weight: 2, arbitrary: fc.constant('depart' as const) },
  ),
  dtMin: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 40 }) },
    { weight: 1, arbitrary: fc.integer({ min: -30, max: -1 }) },
  ),
  offset: fc.constantFrom(0 as const, 8 as const),
  siteId: fc.oneof({ weight: 4, arbitrary: fc.constant(STATION) }, fc.constant('inc-licheng')),
  bins: fc.integer({ min: 0, max: 40 }),
  kg: fc.option(fc.integer({ min: 1, max: 5_000 }), { nil: undefined }),
});

function tripCommand(step: TripStep, at: string): TripCommand {
  switch (step.kind) {
    case 'dispatch':
      return dispatch({ dispatchedAt: at });
    case 'collect':
      return collect({
        bins: step.bins,
        collectedAt: at,
        ...(step.kg === undefined ? {} : { kg: step.kg }),
      });
    case 'arrive':
      return arrive({ siteId: step.siteId, arrivedAt: at });
    case 'depart':
      return depart({ siteId: step.siteId, departedAt: at });
    default: {
      const unknown: never = step.kind;
      return unknown;
    }
  }
}

function stepTimes(state: TripState): number[] {
  if (state.status === 'none') return [];
  return [
    state.dispatch.dispatchedAt,
    ...state.collections.map((c) => c.collectedAt),
    ...(state.status === 'collecting' ? [] : [state.arrival.arrivedAt]),
    ...(state.status === 'departed' ? [state.departure.departedAt] : []),
  ].map(epochMs);
}

describe('evolveTrip (property)', () => {
  it('never throws on any sequence of valid trip events, and replays deterministically', () => {
    fc.assert(
      fc.property(fc.array(tripEventArb, { maxLength: 30 }), (events) => {
        for (const e of events) Object.freeze(Object.freeze(e).data);
        const state = fold(events);
        expect(['none', 'collecting', 'at_site', 'departed']).toContain(state.status);
        expect(fold(structuredClone(events))).toStrictEqual(state);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('decided trips keep their steps in time order; refusals are typed rule violations', () => {
    const reached = { none: 0, collecting: 0, at_site: 0, departed: 0 };
    fc.assert(
      fc.property(fc.array(tripStepArb, { minLength: 1, maxLength: 12, size: 'max' }), (steps) => {
        let state = initialTripState();
        let clock = EPOCH + 5 * HOUR_MS;
        for (const step of steps) {
          clock += step.dtMin * 60_000;
          const cmd = tripCommand(step, formatAt(clock, step.offset));
          let decided: readonly TripEvent[];
          try {
            decided = decideTrip(cmd, state, { now: NOW });
          } catch (error) {
            expect(error).toBeInstanceOf(RuleViolation);
            expect(['LEDGER_ERR_OUT_OF_ORDER', 'LEDGER_ERR_TIME_IN_FUTURE']).toContain(
              (error as RuleViolation).code,
            );
            continue;
          }
          // One event, valid under its own schema, and it moves the trip on.
          expect(decided).toHaveLength(1);
          for (const e of decided) {
            expect(tripEventSchemas[e.type].safeParse(e.data).success).toBe(true);
          }
          const next = decided.reduce(evolveTrip, state);
          expect(next).not.toStrictEqual(state);
          state = next;
        }
        reached[state.status] += 1;
        const times = stepTimes(state);
        expect(times).toStrictEqual([...times].sort((a, b) => a - b));
        expect(times.every((t) => t <= NOW + 10 * 60_000)).toBe(true);
      }),
      { seed: SEED, numRuns: 300 },
    );
    // The generator reaches every stage, not only refusals.
    expect(Math.min(...Object.values(reached))).toBeGreaterThan(10);
  });
});
