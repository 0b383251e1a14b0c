import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { RuleViolation, type ErrorCode } from '../../src/domain/errors/catalogue.js';
import {
  siteSchema,
  vehicleSchema,
  type Site,
  type Vehicle,
} from '../../src/domain/master-data/master-data.js';
import {
  weighingCommandSchemas,
  type WeighingCommand,
  type WeighingCommandType,
} from '../../src/domain/weighing/commands.js';
import {
  decideWeighing,
  type WeighingContext,
  type WeighingDecision,
} from '../../src/domain/weighing/decide.js';
import {
  gateEventSchemas,
  weighingEventSchemas,
  type GateEvent,
  type GateEventType,
  type WeighingEvent,
  type WeighingEventType,
} from '../../src/domain/weighing/events.js';
import {
  evolveGate,
  evolveTicket,
  initialGateState,
  initialTicketState,
  type TicketState,
} from '../../src/domain/weighing/ticket.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: one transfer station, one incinerator, a compactor and a 6-axle container truck.

const TIME_ZONE = 'Asia/Shanghai';
/** The ledger's clock for every test: 4 March 2026, noon in Jinan. */
const NOW = Date.parse('2026-03-04T12:00:00+08:00');

const STATION = 'ts-licheng-1';
const INCINERATOR = 'inc-licheng';
const PLATE = '鲁A12345';
const TRUCK = '鲁AD8821F';

const station: Site = siteSchema.parse({
  siteId: STATION,
  name: '历城区第一转运站',
  kind: 'transfer_station',
  districtId: 'licheng',
  accepts: { categories: ['kitchen', 'recyclable', 'residual'], residues: [] },
  capacityKgPerDay: 300_000,
  validFrom: '2025-01-01',
});

const incinerator: Site = siteSchema.parse({
  siteId: INCINERATOR,
  name: '历城生活垃圾焚烧发电厂',
  kind: 'treatment_facility',
  operation: 'incineration_energy_recovery',
  districtId: 'licheng',
  accepts: { categories: ['residual'], residues: ['sorting_residue'] },
  validFrom: '2025-01-01',
});

/** A 2-axle compactor: legal gross 18 t, stored tare 10 t (tare tolerance 200 kg). */
const compactor: Vehicle = vehicleSchema.parse({
  plate: PLATE,
  axles: 2,
  storedTareKg: 10_000,
  tareMeasuredOn: '2026-01-15',
  operator: '历城环卫',
});

/** A 6-axle transfer container truck: legal gross 49 t, stored tare 15 t (tolerance 300 kg). */
const containerTruck: Vehicle = vehicleSchema.parse({
  plate: TRUCK,
  axles: 6,
  storedTareKg: 15_000,
  tareMeasuredOn: '2026-02-01',
  operator: '济南城投',
});

const kitchenLoad = { kind: 'waste', category: 'kitchen', subtype: 'household' } as const;
const fromCollection = {
  kind: 'collection',
  districtId: 'licheng',
  tripId: 'trip-0304-07',
} as const;
const stationSnapshot = { kind: 'transfer_station', districtId: 'licheng' } as const;
const incineratorSnapshot = {
  kind: 'treatment_facility',
  operation: 'incineration_energy_recovery',
  districtId: 'licheng',
} as const;

// ---------------------------------------------------------------------------------------------
// Builders: commands and events go through their zod schemas, as they would at the API.

function command<T extends WeighingCommandType>(
  type: T,
  data: z.input<(typeof weighingCommandSchemas)[T]>,
): WeighingCommand {
  return { type, data: weighingCommandSchemas[type].parse(data) } as WeighingCommand;
}

function event<T extends WeighingEventType>(
  type: T,
  data: z.input<(typeof weighingEventSchemas)[T]>,
): WeighingEvent {
  return { type, data: weighingEventSchemas[type].parse(data) } as WeighingEvent;
}

function gateEvent<T extends GateEventType>(
  type: T,
  data: z.input<(typeof gateEventSchemas)[T]>,
): GateEvent {
  return { type, data: gateEventSchemas[type].parse(data) } as GateEvent;
}

const weighIn = (overrides: Partial<z.input<typeof weighingCommandSchemas.RecordWeighIn>> = {}) =>
  command('RecordWeighIn', {
    siteId: STATION,
    ticketNo: 'A0001',
    plate: PLATE,
    load: kitchenLoad,
    grossKg: 16_500,
    weighedInAt: '2026-03-04T09:00:00+08:00',
    origin: fromCollection,
    ...overrides,
  });

const onePass = (
  overrides: Partial<z.input<typeof weighingCommandSchemas.RecordOnePassWeighing>> = {},
) =>
  command('RecordOnePassWeighing', {
    siteId: STATION,
    ticketNo: 'A0001',
    plate: PLATE,
    load: kitchenLoad,
    grossKg: 16_500,
    tareKg: 10_000,
    tareSource: 'stored',
    weighedInAt: '2026-03-04T09:00:00+08:00',
    origin: fromCollection,
    ...overrides,
  });

const weighOut = (tareKg: number, weighedOutAt = '2026-03-04T09:20:00+08:00') =>
  command('RecordWeighOut', { siteId: STATION, ticketNo: 'A0001', tareKg, weighedOutAt });

const correct = (overrides: Partial<z.input<typeof weighingCommandSchemas.CorrectTicket>> = {}) =>
  command('CorrectTicket', {
    siteId: STATION,
    ticketNo: 'A0001',
    reason: 'weighbridge recalibrated',
    approvedBy: 'zhang.wei',
    correctedAt: '2026-03-04T11:00:00+08:00',
    ...overrides,
  });

const voidTicket = (voidedAt = '2026-03-04T11:30:00+08:00') =>
  command('VoidTicket', {
    siteId: STATION,
    ticketNo: 'A0001',
    reason: 'test weighing',
    approvedBy: 'zhang.wei',
    voidedAt,
  });

const rejectLoad = (rejectedAt = '2026-03-04T09:05:00+08:00') =>
  command('RejectLoad', {
    siteId: STATION,
    ticketNo: 'A0001',
    plate: PLATE,
    load: { kind: 'waste', category: 'construction', subtype: 'decoration' },
    reason: 'category_not_accepted',
    rejectedAt,
    origin: fromCollection,
  });

/** The ticket facts the "given" clauses start from. */
const weighedInData = {
  siteId: STATION,
  ticketNo: 'A0001',
  direction: 'inbound',
  plate: PLATE,
  load: kitchenLoad,
  grossKg: 16_500,
  weighedInAt: '2026-03-04T09:00:00+08:00',
  businessDay: '2026-03-04',
  origin: fromCollection,
  site: stationSnapshot,
} as const;
const weighedIn = event('VehicleWeighedIn', weighedInData);
const weighedOut = event('VehicleWeighedOut', {
  siteId: STATION,
  ticketNo: 'A0001',
  tareKg: 10_050,
  tareSource: 'measured',
  weighedOutAt: '2026-03-04T09:20:00+08:00',
  netKg: 6_450,
});
const weighedOnePass = event('VehicleWeighedOnePass', {
  ...weighedInData,
  tareKg: 10_000,
  tareSource: 'stored',
  netKg: 6_500,
});
const rejected = event('LoadRejected', {
  siteId: STATION,
  ticketNo: 'A0001',
  plate: PLATE,
  load: { kind: 'waste', category: 'construction' },
  reason: 'category_not_accepted',
  rejectedAt: '2026-03-04T09:05:00+08:00',
  businessDay: '2026-03-04',
  site: stationSnapshot,
});
const voided = event('TicketVoided', {
  siteId: STATION,
  ticketNo: 'A0001',
  reason: 'test weighing',
  approvedBy: 'zhang.wei',
  voidedAt: '2026-03-04T10:00:00+08:00',
});
const corrected = event('TicketCorrected', {
  siteId: STATION,
  ticketNo: 'A0001',
  version: 2,
  grossKg: 16_400,
  tareKg: 10_000,
  netKg: 6_400,
  load: kitchenLoad,
  origin: fromCollection,
  reason: 'weighbridge recalibrated',
  approvedBy: 'zhang.wei',
  correctedAt: '2026-03-04T10:30:00+08:00',
});

/** The plate's gate at the station: weighed in (ticket open or not), and closed. */
const gateWeighedIn = (ticketNo: string, weighedInAt: string, ticketOpen: boolean) =>
  gateEvent('PlateWeighedInAtGate', {
    siteId: STATION,
    ticketNo,
    plate: PLATE,
    weighedInAt,
    ticketOpen,
  });
const gateClosed = (ticketNo: string) =>
  gateEvent('PlateTicketClosedAtGate', { siteId: STATION, ticketNo, plate: PLATE });

// ---------------------------------------------------------------------------------------------
// given / when / then

interface Given {
  readonly ticket?: readonly WeighingEvent[];
  readonly gate?: readonly GateEvent[];
  readonly site?: Site | undefined;
  readonly vehicle?: Vehicle | undefined;
}

/**
 * A decision as the test writes it down: plain numbers where the domain has branded kilograms,
 * compared field by field with the decided events.
 */
interface ExpectedDecision {
  readonly ticket: readonly { readonly type: string; readonly data: object }[];
  readonly gate: readonly { readonly type: string; readonly data: object }[];
}

function given(facts: Given = {}) {
  const state = (facts.ticket ?? []).reduce(evolveTicket, initialTicketState());
  const context: WeighingContext = {
    now: NOW,
    timeZone: TIME_ZONE,
    site: 'site' in facts ? facts.site : station,
    vehicle: 'vehicle' in facts ? facts.vehicle : compactor,
    gate: (facts.gate ?? []).reduce(evolveGate, initialGateState()),
  };
  return {
    state,
    when(cmd: WeighingCommand) {
      const decide = () => decideWeighing(cmd, state, context);
      return {
        then(expected: ExpectedDecision): WeighingDecision {
          const decision = decide();
          expect(decision).toStrictEqual(expected);
          return decision;
        },
        thenFails(code: ErrorCode, field: string, details?: Record<string, unknown>): void {
          let error: unknown;
          try {
            decide();
          } catch (caught) {
            error = caught;
          }
          expect(error).toBeInstanceOf(RuleViolation);
          const violation = error as RuleViolation;
          expect({ code: violation.code, field: violation.field }).toStrictEqual({ code, field });
          if (details !== undefined) {
            expect(violation.details).toStrictEqual({ field, ...details });
          }
        },
      };
    },
  };
}

const gateOpened = (ticketOpen: boolean, weighedInAt = '2026-03-04T09:00:00+08:00') => ({
  type: 'PlateWeighedInAtGate',
  data: { siteId: STATION, ticketNo: 'A0001', plate: PLATE, weighedInAt, ticketOpen },
});
const gateClosedDecided = {
  type: 'PlateTicketClosedAtGate',
  data: { siteId: STATION, ticketNo: 'A0001', plate: PLATE },
};

// ---------------------------------------------------------------------------------------------

describe('weighing decider: first weighing', () => {
  it('records a weigh-in with the whole ticket and opens the ticket at the gate', () => {
    given()
      .when(weighIn())
      .then({
        ticket: [
          {
            type: 'VehicleWeighedIn',
            data: {
              siteId: STATION,
              ticketNo: 'A0001',
              direction: 'inbound',
              plate: PLATE,
              load: kitchenLoad,
              grossKg: 16_500,
              weighedInAt: '2026-03-04T09:00:00+08:00',
              businessDay: '2026-03-04',
              origin: fromCollection,
              site: stationSnapshot,
            },
          },
        ],
        gate: [gateOpened(true)],
      });
  });

  it('normalises the plate and keeps the weighbridge terminal', () => {
    given()
      .when(weighIn({ plate: '鲁a·12345', device: 'bridge-2' }))
      .then({
        ticket: [
          {
            type: 'VehicleWeighedIn',
            data: { ...weighedInData, plate: PLATE, device: 'bridge-2' },
          },
        ],
        gate: [gateOpened(true)],
      });
  });

  it('records a one-pass weighing with net = gross − tare and leaves the gate closed', () => {
    given({ site: incinerator })
      .when(
        onePass({
          siteId: INCINERATOR,
          load: { kind: 'waste', category: 'residual' },
          grossKg: 17_999,
          tareKg: 10_020,
        }),
      )
      .then({
        ticket: [
          {
            type: 'VehicleWeighedOnePass',
            data: {
              siteId: INCINERATOR,
              ticketNo: 'A0001',
              direction: 'inbound',
              plate: PLATE,
              load: { kind: 'waste', category: 'residual' },
              grossKg: 17_999,
              weighedInAt: '2026-03-04T09:00:00+08:00',
              businessDay: '2026-03-04',
              origin: fromCollection,
              site: incineratorSnapshot,
              tareKg: 10_020,
              tareSource: 'stored',
              netKg: 7_979,
            },
          },
        ],
        gate: [
          {
            type: 'PlateWeighedInAtGate',
            data: {
              siteId: INCINERATOR,
              ticketNo: 'A0001',
              plate: PLATE,
              weighedInAt: '2026-03-04T09:00:00+08:00',
              ticketOpen: false,
            },
          },
        ],
      });
  });

  it('records an outbound weigh-in with its destination and no acceptance check', () => {
    given({ vehicle: containerTruck })
      .when(
        weighIn({
          direction: 'outbound',
          plate: TRUCK,
          load: { kind: 'residue', residue: 'sorting_residue' },
          grossKg: 42_000,
          origin: undefined,
          destination: { siteId: INCINERATOR },
        }),
      )
      .then({
        ticket: [
          {
            type: 'VehicleWeighedIn',
            data: {
              siteId: STATION,
              ticketNo: 'A0001',
              direction: 'outbound',
              plate: TRUCK,
              load: { kind: 'residue', residue: 'sorting_residue' },
              grossKg: 42_000,
              weighedInAt: '2026-03-04T09:00:00+08:00',
              businessDay: '2026-03-04',
              destination: { siteId: INCINERATOR },
              site: stationSnapshot,
            },
          },
        ],
        gate: [
          {
            type: 'PlateWeighedInAtGate',
            data: {
              siteId: STATION,
              ticketNo: 'A0001',
              plate: TRUCK,
              weighedInAt: '2026-03-04T09:00:00+08:00',
              ticketOpen: true,
            },
          },
        ],
      });
  });

  describe('business day (Asia/Shanghai)', () => {
    it('is the local date of a weigh-in at 23:50 +08:00', () => {
      given()
        .when(weighIn({ weighedInAt: '2026-03-03T23:50:00+08:00' }))
        .then({
          ticket: [
            {
              type: 'VehicleWeighedIn',
              data: {
                ...weighedInData,
                weighedInAt: '2026-03-03T23:50:00+08:00',
                businessDay: '2026-03-03',
              },
            },
          ],
          gate: [gateOpened(true, '2026-03-03T23:50:00+08:00')],
        });
    });

    it('stays the weigh-in day when the weigh-out is after local midnight', () => {
      const lateWeighIn = event('VehicleWeighedIn', {
        ...weighedInData,
        weighedInAt: '2026-03-03T23:50:00+08:00',
        businessDay: '2026-03-03',
      });
      const { state } = given({ ticket: [lateWeighIn] });
      const decision = given({ ticket: [lateWeighIn] })
        .when(weighOut(10_100, '2026-03-04T00:12:00+08:00'))
        .then({
          ticket: [
            {
              type: 'VehicleWeighedOut',
              data: {
                siteId: STATION,
                ticketNo: 'A0001',
                tareKg: 10_100,
                tareSource: 'measured',
                weighedOutAt: '2026-03-04T00:12:00+08:00',
                netKg: 6_400,
              },
            },
          ],
          gate: [gateClosedDecided],
        });
      expect(decision.ticket.reduce(evolveTicket, state)).toStrictEqual({
        status: 'weighed',
        weighing: {
          ...weighedInData,
          weighedInAt: '2026-03-03T23:50:00+08:00',
          businessDay: '2026-03-03',
          tareKg: 10_100,
          netKg: 6_400,
          tareSource: 'measured',
          version: 1,
        },
      });
    });

    it('is the next local date for a weigh-in reported as 16:30 UTC', () => {
      given()
        .when(weighIn({ weighedInAt: '2026-03-03T16:30:00Z' }))
        .then({
          ticket: [
            {
              type: 'VehicleWeighedIn',
              data: {
                ...weighedInData,
                weighedInAt: '2026-03-03T16:30:00Z',
                businessDay: '2026-03-04',
              },
            },
          ],
          gate: [gateOpened(true, '2026-03-03T16:30:00Z')],
        });
    });
  });

  describe('refuses', () => {
    it('an unknown site', () => {
      given({ site: undefined }).when(weighIn()).thenFails('LEDGER_ERR_UNKNOWN_SITE', 'siteId');
      given({ site: undefined }).when(onePass()).thenFails('LEDGER_ERR_UNKNOWN_SITE', 'siteId');
    });

    it('an unknown vehicle', () => {
      given({ vehicle: undefined })
        .when(weighIn())
        .thenFails('LEDGER_ERR_UNKNOWN_VEHICLE', 'plate');
      given({ vehicle: undefined })
        .when(onePass())
        .thenFails('LEDGER_ERR_UNKNOWN_VEHICLE', 'plate');
    });

    it('a one-pass tare at or above the gross', () => {
      given()
        .when(onePass({ grossKg: 10_000, tareKg: 10_000 }))
        .thenFails('LEDGER_ERR_TARE_NOT_BELOW_GROSS', 'tareKg');
      given()
        .when(onePass({ grossKg: 10_000, tareKg: 10_001 }))
        .thenFails('LEDGER_ERR_TARE_NOT_BELOW_GROSS', 'tareKg');
    });

    it('a gross above the legal limit for 2 axles (18 000 kg is fine, 18 001 kg is not)', () => {
      given()
        .when(weighIn({ grossKg: 18_000 }))
        .then({
          ticket: [{ type: 'VehicleWeighedIn', data: { ...weighedInData, grossKg: 18_000 } }],
          gate: [gateOpened(true)],
        });
      given()
        .when(weighIn({ grossKg: 18_001 }))
        .thenFails('LEDGER_ERR_OVER_LEGAL_LIMIT', 'grossKg', { limitKg: 18_000 });
      given()
        .when(onePass({ grossKg: 18_001 }))
        .thenFails('LEDGER_ERR_OVER_LEGAL_LIMIT', 'grossKg', { limitKg: 18_000 });
    });

    it('a gross above 49 t for 6 axles', () => {
      given({ vehicle: containerTruck })
        .when(weighIn({ plate: TRUCK, grossKg: 49_000 }))
        .then({
          ticket: [
            { type: 'VehicleWeighedIn', data: { ...weighedInData, plate: TRUCK, grossKg: 49_000 } },
          ],
          gate: [{ ...gateOpened(true), data: { ...gateOpened(true).data, plate: TRUCK } }],
        });
      given({ vehicle: containerTruck })
        .when(weighIn({ plate: TRUCK, grossKg: 49_001 }))
        .thenFails('LEDGER_ERR_OVER_LEGAL_LIMIT', 'grossKg', { limitKg: 49_000 });
    });

    it('a category or residue the site does not accept', () => {
      given()
        .when(weighIn({ load: { kind: 'waste', category: 'construction' } }))
        .thenFails('LEDGER_ERR_NOT_ACCEPTED', 'load');
      given()
        .when(weighIn({ load: { kind: 'residue', residue: 'fly_ash' } }))
        .thenFails('LEDGER_ERR_NOT_ACCEPTED', 'load');
      given({ site: incinerator })
        .when(onePass({ siteId: INCINERATOR, load: kitchenLoad }))
        .thenFails('LEDGER_ERR_NOT_ACCEPTED', 'load');
    });

    it('an inbound load without an origin', () => {
      given()
        .when(weighIn({ origin: undefined }))
        .thenFails('LEDGER_ERR_INVALID_INPUT', 'origin');
    });

    it('an outbound load without a destination', () => {
      given()
        .when(weighIn({ direction: 'outbound', origin: undefined }))
        .thenFails('LEDGER_ERR_INVALID_INPUT', 'destination');
    });

    it('a second open ticket for the plate at the site', () => {
      given({ gate: [gateWeighedIn('A0000', '2026-03-04T07:00:00+08:00', true)] })
        .when(weighIn())
        .thenFails('LEDGER_ERR_PLATE_HAS_OPEN_TICKET', 'plate', { openTicketNo: 'A0000' });
      given({ gate: [gateWeighedIn('A0000', '2026-03-04T07:00:00+08:00', true)] })
        .when(onePass())
        .thenFails('LEDGER_ERR_PLATE_HAS_OPEN_TICKET', 'plate', { openTicketNo: 'A0000' });
    });

    it('no longer holds the plate once its other ticket is closed', () => {
      given({
        gate: [gateWeighedIn('A0000', '2026-03-04T07:00:00+08:00', true), gateClosed('A0000')],
      })
        .when(weighIn())
        .then({ ticket: [weighedIn], gate: [gateOpened(true)] });
    });

    it.each([
      ['open', [weighedIn]],
      ['weighed', [weighedIn, weighedOut]],
      ['rejected', [rejected]],
      ['voided', [weighedOnePass, voided]],
    ] as const)('a ticket number already used (%s)', (_status, ticket) => {
      given({ ticket }).when(weighIn()).thenFails('LEDGER_ERR_TICKET_NUMBER_REUSED', 'ticketNo');
      given({ ticket }).when(onePass()).thenFails('LEDGER_ERR_TICKET_NUMBER_REUSED', 'ticketNo');
      given({ ticket }).when(rejectLoad()).thenFails('LEDGER_ERR_TICKET_NUMBER_REUSED', 'ticketNo');
    });

    it('a time more than 10 minutes ahead of the clock (exactly 10 minutes is fine)', () => {
      given()
        .when(weighIn({ weighedInAt: '2026-03-04T12:10:00+08:00' }))
        .then({
          ticket: [
            {
              type: 'VehicleWeighedIn',
              data: { ...weighedInData, weighedInAt: '2026-03-04T12:10:00+08:00' },
            },
          ],
          gate: [gateOpened(true, '2026-03-04T12:10:00+08:00')],
        });
      given()
        .when(weighIn({ weighedInAt: '2026-03-04T12:10:00.001+08:00' }))
        .thenFails('LEDGER_ERR_TIME_IN_FUTURE', 'weighedInAt');
      given()
        .when(onePass({ weighedInAt: '2026-03-04T04:10:01Z' }))
        .thenFails('LEDGER_ERR_TIME_IN_FUTURE', 'weighedInAt');
    });

    it('a site whose permit does not cover the business day', () => {
      const notYet = { ...station, validFrom: '2026-03-05' };
      given({ site: notYet }).when(weighIn()).thenFails('LEDGER_ERR_SITE_NOT_VALID', 'siteId');
      const expired = { ...station, validTo: '2026-03-03' };
      given({ site: expired }).when(weighIn()).thenFails('LEDGER_ERR_SITE_NOT_VALID', 'siteId');
      // 16:30 UTC on 3 March is 4 March in Jinan: past the permit's last day.
      given({ site: expired })
        .when(weighIn({ weighedInAt: '2026-03-03T16:30:00Z' }))
        .thenFails('LEDGER_ERR_SITE_NOT_VALID', 'siteId');
    });

    it('accepts the first and last day of the permit', () => {
      const oneDay = { ...station, validFrom: '2026-03-04', validTo: '2026-03-04' };
      given({ site: oneDay })
        .when(weighIn())
        .then({ ticket: [weighedIn], gate: [gateOpened(true)] });
      given({ site: { ...station, validTo: '2026-03-03' } })
        .when(weighIn({ weighedInAt: '2026-03-03T15:59:59Z' }))
        .then({
          ticket: [
            {
              type: 'VehicleWeighedIn',
              data: {
                ...weighedInData,
                weighedInAt: '2026-03-03T15:59:59Z',
                businessDay: '2026-03-03',
              },
            },
          ],
          gate: [gateOpened(true, '2026-03-03T15:59:59Z')],
        });
    });
  });

  describe('repeat weighing', () => {
    const earlier = '2026-03-04T08:55:00+08:00';
    const finding = (secondsApart: number) => ({
      type: 'RepeatWeighingSuspected',
      data: {
        siteId: STATION,
        ticketNo: 'A0001',
        plate: PLATE,
        previousTicketNo: 'A0000',
        previousWeighedInAt: earlier,
        secondsApart,
      },
    });

    it('is suspected within 5 minutes of the plate’s last weigh-in at the site', () => {
      given({ gate: [gateWeighedIn('A0000', earlier, false)] })
        .when(weighIn({ weighedInAt: '2026-03-04T08:59:59+08:00' }))
        .then({
          ticket: [
            {
              type: 'VehicleWeighedIn',
              data: { ...weighedInData, weighedInAt: '2026-03-04T08:59:59+08:00' },
            },
            finding(299),
          ],
          gate: [gateOpened(true, '2026-03-04T08:59:59+08:00')],
        });
    });

    it('is suspected at the same instant, and after a closed two-pass ticket', () => {
      given({ gate: [gateWeighedIn('A0000', earlier, true), gateClosed('A0000')] })
        .when(onePass({ weighedInAt: earlier }))
        .then({
          ticket: [
            {
              type: 'VehicleWeighedOnePass',
              data: {
                ...weighedInData,
                weighedInAt: earlier,
                tareKg: 10_000,
                tareSource: 'stored',
                netKg: 6_500,
              },
            },
            finding(0),
          ],
          gate: [gateOpened(false, earlier)],
        });
    });

    it('is suspected 299.5 s apart: still under 5 minutes', () => {
      given({ gate: [gateWeighedIn('A0000', earlier, false)] })
        .when(weighIn({ weighedInAt: '2026-03-04T08:59:59.5+08:00' }))
        .then({
          ticket: [
            {
              type: 'VehicleWeighedIn',
              data: { ...weighedInData, weighedInAt: '2026-03-04T08:59:59.5+08:00' },
            },
            finding(299),
          ],
          gate: [gateOpened(true, '2026-03-04T08:59:59.5+08:00')],
        });
    });

    it('is not suspected at 300 s or more', () => {
      given({ gate: [gateWeighedIn('A0000', earlier, false)] })
        .when(weighIn({ weighedInAt: '2026-03-04T09:00:00+08:00' }))
        .then({ ticket: [weighedIn], gate: [gateOpened(true)] });
    });
  });
});

describe('weighing decider: weigh-out', () => {
  const out = (tareKg: number, netKg: number) => ({
    type: 'VehicleWeighedOut',
    data: {
      siteId: STATION,
      ticketNo: 'A0001',
      tareKg,
      tareSource: 'measured',
      weighedOutAt: '2026-03-04T09:20:00+08:00',
      netKg,
    },
  });
  const drift = (storedTareKg: number, measuredTareKg: number, toleranceKg: number) => ({
    type: 'TareDriftFound',
    data: {
      siteId: STATION,
      ticketNo: 'A0001',
      plate: PLATE,
      storedTareKg,
      measuredTareKg,
      driftKg: measuredTareKg - storedTareKg,
      toleranceKg,
    },
  });

  it('records the measured tare, net = gross − tare, and closes the ticket at the gate', () => {
    given({ ticket: [weighedIn] })
      .when(weighOut(10_050))
      .then({ ticket: [out(10_050, 6_450)], gate: [gateClosedDecided] });
  });

  it('finds no tare drift at exactly the tolerance (200 kg for a 10 t tare)', () => {
    given({ ticket: [weighedIn] })
      .when(weighOut(10_200))
      .then({ ticket: [out(10_200, 6_300)], gate: [gateClosedDecided] });
    given({ ticket: [weighedIn] })
      .when(weighOut(9_800))
      .then({ ticket: [out(9_800, 6_700)], gate: [gateClosedDecided] });
  });

  it('finds tare drift beyond 200 kg, either way', () => {
    given({ ticket: [weighedIn] })
      .when(weighOut(10_201))
      .then({
        ticket: [out(10_201, 6_299), drift(10_000, 10_201, 200)],
        gate: [gateClosedDecided],
      });
    given({ ticket: [weighedIn] })
      .when(weighOut(9_799))
      .then({ ticket: [out(9_799, 6_701), drift(10_000, 9_799, 200)], gate: [gateClosedDecided] });
  });

  it('uses 2 % of a heavier stored tare as the tolerance (300 kg for 15 t)', () => {
    const heavy = { ...compactor, axles: 6, storedTareKg: 15_000 } as Vehicle;
    const loaded = event('VehicleWeighedIn', { ...weighedInData, grossKg: 40_000 });
    given({ ticket: [loaded], vehicle: heavy })
      .when(weighOut(15_300))
      .then({ ticket: [out(15_300, 24_700)], gate: [gateClosedDecided] });
    given({ ticket: [loaded], vehicle: heavy })
      .when(weighOut(14_699))
      .then({
        ticket: [out(14_699, 25_301), drift(15_000, 14_699, 300)],
        gate: [gateClosedDecided],
      });
  });

  it('finds drift just past a fractional 2 % (10 025 kg stored: 200.5 kg, so 201 kg drifts)', () => {
    const vehicle = { ...compactor, storedTareKg: 10_025 } as Vehicle;
    given({ ticket: [weighedIn], vehicle })
      .when(weighOut(10_225))
      .then({ ticket: [out(10_225, 6_275)], gate: [gateClosedDecided] });
    given({ ticket: [weighedIn], vehicle })
      .when(weighOut(10_226))
      .then({
        ticket: [out(10_226, 6_274), drift(10_025, 10_226, 200)],
        gate: [gateClosedDecided],
      });
    given({ ticket: [weighedIn], vehicle })
      .when(weighOut(9_824))
      .then({ ticket: [out(9_824, 6_676), drift(10_025, 9_824, 200)], gate: [gateClosedDecided] });
  });

  it('refuses a tare at or above the gross', () => {
    given({ ticket: [weighedIn] })
      .when(weighOut(16_500))
      .thenFails('LEDGER_ERR_TARE_NOT_BELOW_GROSS', 'tareKg');
    given({ ticket: [weighedIn] })
      .when(weighOut(17_000))
      .thenFails('LEDGER_ERR_TARE_NOT_BELOW_GROSS', 'tareKg');
  });

  it.each([
    ['none', []],
    ['weighed', [weighedIn, weighedOut]],
    ['one-pass', [weighedOnePass]],
    ['rejected', [rejected]],
    ['voided', [weighedIn, voided]],
  ] as const)('refuses a weigh-out without an open weigh-in (%s)', (_status, ticket) => {
    given({ ticket }).when(weighOut(10_050)).thenFails('LEDGER_ERR_TICKET_NOT_OPEN', 'ticketNo');
  });

  it('refuses a weigh-out before the weigh-in (the same instant is fine)', () => {
    given({ ticket: [weighedIn] })
      .when(weighOut(10_050, '2026-03-04T08:59:59+08:00'))
      .thenFails('LEDGER_ERR_OUT_OF_ORDER', 'weighedOutAt');
    given({ ticket: [weighedIn] })
      .when(weighOut(10_050, '2026-03-04T00:59:59Z'))
      .thenFails('LEDGER_ERR_OUT_OF_ORDER', 'weighedOutAt');
    given({ ticket: [weighedIn] })
      .when(weighOut(10_050, '2026-03-04T01:00:00Z'))
      .then({
        ticket: [
          {
            ...out(10_050, 6_450),
            data: { ...out(10_050, 6_450).data, weighedOutAt: '2026-03-04T01:00:00Z' },
          },
        ],
        gate: [gateClosedDecided],
      });
  });

  it('refuses a weigh-out more than 10 minutes ahead of the clock', () => {
    given({ ticket: [weighedIn] })
      .when(weighOut(10_050, '2026-03-04T12:10:01+08:00'))
      .thenFails('LEDGER_ERR_TIME_IN_FUTURE', 'weighedOutAt');
  });
});

describe('weighing decider: rejection', () => {
  it('records the rejected load with its business day and no gate event', () => {
    given()
      .when(rejectLoad('2026-03-03T16:05:00Z'))
      .then({
        ticket: [
          {
            type: 'LoadRejected',
            data: {
              siteId: STATION,
              ticketNo: 'A0001',
              plate: PLATE,
              load: { kind: 'waste', category: 'construction', subtype: 'decoration' },
              reason: 'category_not_accepted',
              rejectedAt: '2026-03-03T16:05:00Z',
              businessDay: '2026-03-04',
              origin: fromCollection,
              site: stationSnapshot,
            },
          },
        ],
        gate: [],
      });
  });

  it('refuses an unknown site and a time in the future', () => {
    given({ site: undefined }).when(rejectLoad()).thenFails('LEDGER_ERR_UNKNOWN_SITE', 'siteId');
    given()
      .when(rejectLoad('2026-03-04T12:11:00+08:00'))
      .thenFails('LEDGER_ERR_TIME_IN_FUTURE', 'rejectedAt');
  });
});

describe('weighing decider: correction', () => {
  const correctedData = (overrides: Record<string, unknown>) => ({
    siteId: STATION,
    ticketNo: 'A0001',
    version: 2,
    grossKg: 16_500,
    tareKg: 10_050,
    netKg: 6_450,
    load: kitchenLoad,
    origin: fromCollection,
    reason: 'weighbridge recalibrated',
    approvedBy: 'zhang.wei',
    correctedAt: '2026-03-04T11:00:00+08:00',
    ...overrides,
  });

  it('records a new version with the latest values; fields left out keep theirs', () => {
    given({ ticket: [weighedIn, weighedOut] })
      .when(correct({ grossKg: 16_450 }))
      .then({
        ticket: [
          { type: 'TicketCorrected', data: correctedData({ grossKg: 16_450, netKg: 6_400 }) },
        ],
        gate: [],
      });
  });

  it('counts versions on from the last correction', () => {
    given({ ticket: [weighedOnePass, corrected] })
      .when(correct({ tareKg: 9_900, load: { kind: 'waste', category: 'residual' } }))
      .then({
        ticket: [
          {
            type: 'TicketCorrected',
            data: correctedData({
              version: 3,
              grossKg: 16_400,
              tareKg: 9_900,
              netKg: 6_500,
              load: { kind: 'waste', category: 'residual' },
            }),
          },
        ],
        gate: [],
      });
  });

  it('never changes the business day', () => {
    const lateWeighIn = event('VehicleWeighedOnePass', {
      ...weighedInData,
      weighedInAt: '2026-03-03T23:50:00+08:00',
      businessDay: '2026-03-03',
      tareKg: 10_000,
      tareSource: 'stored',
      netKg: 6_500,
    });
    const { state } = given({ ticket: [lateWeighIn] });
    const decision = given({ ticket: [lateWeighIn] })
      .when(correct({ grossKg: 16_000 }))
      .then({
        ticket: [
          {
            type: 'TicketCorrected',
            data: correctedData({ grossKg: 16_000, tareKg: 10_000, netKg: 6_000 }),
          },
        ],
        gate: [],
      });
    const after = decision.ticket.reduce(evolveTicket, state);
    expect(after.status === 'weighed' && after.weighing.businessDay).toBe('2026-03-03');
  });

  it('refuses a correction that breaks a weight rule or the site’s acceptance', () => {
    given({ ticket: [weighedIn, weighedOut] })
      .when(correct({ tareKg: 16_500 }))
      .thenFails('LEDGER_ERR_TARE_NOT_BELOW_GROSS', 'tareKg');
    given({ ticket: [weighedIn, weighedOut] })
      .when(correct({ grossKg: 18_001 }))
      .thenFails('LEDGER_ERR_OVER_LEGAL_LIMIT', 'grossKg', { limitKg: 18_000 });
    given({ ticket: [weighedIn, weighedOut] })
      .when(correct({ load: { kind: 'waste', category: 'hazardous' } }))
      .thenFails('LEDGER_ERR_NOT_ACCEPTED', 'load');
  });

  it.each([
    ['none', []],
    ['open', [weighedIn]],
    ['rejected', [rejected]],
  ] as const)('refuses to correct a ticket that is not weighed (%s)', (_status, ticket) => {
    given({ ticket }).when(correct()).thenFails('LEDGER_ERR_TICKET_NOT_WEIGHED', 'ticketNo');
  });

  it('refuses to correct a voided ticket', () => {
    given({ ticket: [weighedIn, weighedOut, voided] })
      .when(correct({ grossKg: 16_000 }))
      .thenFails('LEDGER_ERR_TICKET_VOIDED', 'ticketNo');
  });

  it('refuses a correction time in the future', () => {
    given({ ticket: [weighedIn, weighedOut] })
      .when(correct({ correctedAt: '2026-03-04T12:10:01+08:00' }))
      .thenFails('LEDGER_ERR_TIME_IN_FUTURE', 'correctedAt');
  });
});

describe('weighing decider: void', () => {
  const voidedDecided = {
    type: 'TicketVoided',
    data: {
      siteId: STATION,
      ticketNo: 'A0001',
      reason: 'test weighing',
      approvedBy: 'zhang.wei',
      voidedAt: '2026-03-04T11:30:00+08:00',
    },
  };

  it('voids an open ticket and frees the plate at the gate', () => {
    given({ ticket: [weighedIn] })
      .when(voidTicket())
      .then({ ticket: [voidedDecided], gate: [gateClosedDecided] });
  });

  it('voids a weighed or rejected ticket without a gate event, keeping what it held', () => {
    const { state } = given({ ticket: [weighedIn, weighedOut, corrected] });
    const decision = given({ ticket: [weighedIn, weighedOut, corrected] })
      .when(voidTicket())
      .then({ ticket: [voidedDecided], gate: [] });
    const after: TicketState = decision.ticket.reduce(evolveTicket, state);
    expect(after).toStrictEqual({
      status: 'voided',
      before: state,
      voided: voidedDecided.data,
    });
    given({ ticket: [rejected] })
      .when(voidTicket())
      .then({ ticket: [voidedDecided], gate: [] });
  });

  it('refuses to void an unknown ticket', () => {
    given().when(voidTicket()).thenFails('LEDGER_ERR_TICKET_NOT_OPEN', 'ticketNo');
  });

  it('refuses to void a ticket twice', () => {
    given({ ticket: [weighedOnePass, voided] })
      .when(voidTicket())
      .thenFails('LEDGER_ERR_TICKET_VOIDED', 'ticketNo');
  });

  it('refuses a void time in the future', () => {
    given({ ticket: [weighedIn] })
      .when(voidTicket('2026-03-04T12:10:01+08:00'))
      .thenFails('LEDGER_ERR_TIME_IN_FUTURE', 'voidedAt');
  });
});
