import fc from 'fast-check';
import { roles } from '../../../src/access/roles.js';
import { siteKinds, treatmentOperations } from '../../../src/domain/master-data/master-data.js';
import { categories, residues } from '../../../src/domain/shared/materials.js';
import { tripCommandSchemas } from '../../../src/domain/trips/commands.js';
import { weighingCommandSchemas } from '../../../src/domain/weighing/commands.js';
import {
  badDate,
  badEventId,
  badId,
  badKg,
  badPlate,
  badText,
  badTicketNo,
  badTimestamp,
  badWholeNumber,
  beforePermits,
  deepValue,
  futureTimestamp,
  notAnArray,
  notAnObject,
  notOneOf,
} from './hostile-values.js';
import { LEFT_OUT, WrittenTwice, fieldAt, withField } from './json-text.js';
import {
  validArrival,
  validCollection,
  validCorrection,
  validDeparture,
  validDispatch,
  validDistrict,
  validOnePass,
  validRejection,
  validSite,
  validVehicle,
  validVoid,
  validWeighIn,
  validWeighOut,
  validKey,
  type World,
} from './world.js';

/**
 * Valid reports and registrations with exactly one field corrupted: its value of the wrong type
 * or out of range, left out, written twice (the second time wrong), or a well-formed value that
 * breaks a rule of the domain in the fuzz world (an unknown site, a plate with an open ticket, a
 * tare not below the gross, a trip step out of order). Each corruption here makes the request
 * invalid whatever else it holds: a legitimately valid variant (an unknown district on a trip,
 * which the ledger does not check) is left out rather than let through.
 */
export interface Mutation {
  /** What was corrupted, e.g. `RecordWeighIn data.grossKg`. */
  readonly what: string;
  /** The body as a value tree for `jsonText`. */
  readonly body: unknown;
}

type Fields = Readonly<Record<string, fc.Arbitrary<unknown>>>;

const leftOut = fc.constant(LEFT_OUT);

/** Keys zod strips (or fastify refuses): noise around the corrupted field, never instead of it. */
const noiseKeys = [
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  '__proto__',
  'x-extra',
  '$where',
  '',
  'data\u200d',
  '\ud800',
] as const;
const noiseValues: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('x', 1, null, {}, [], { polluted: 'yes' }, { prototype: { polluted: 'yes' } }),
  deepValue,
);
const noise = fc.option(
  fc.record({
    at: fc.constantFrom<readonly string[]>([], ['data']),
    key: fc.constantFrom(...noiseKeys),
    value: noiseValues,
  }),
  { freq: 4 },
);

/**
 * One field of `valid` corrupted with a value from its arbitrary, maybe with noise around it
 * (not for strict schemas, which would refuse the noise instead of the corruption).
 */
function corrupted(
  valid: Record<string, unknown>,
  label: string,
  fields: Fields,
  options: { strict?: boolean } = {},
) {
  return fc.oneof(
    ...Object.entries(fields).map(([field, bad]) => {
      const path = field.split('.');
      const original = fieldAt(valid, path);
      return fc.tuple(bad, fc.nat({ max: 7 }), noise).map(([value, roll, extra]): Mutation => {
        const twice =
          roll === 0 && value !== LEFT_OUT && original !== undefined
            ? new WrittenTwice(original, value)
            : value;
        let body = withField(valid, path, twice);
        if (extra !== null && options.strict !== true) {
          // Around a corrupted `data`, the noise goes beside it, not into it.
          const at = field === 'data' ? [] : extra.at;
          body = withField(body, [...at, extra.key], extra.value);
        }
        return { what: `${label} ${field}`, body };
      });
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Parts of reports.

const weighingTypes = Object.keys(weighingCommandSchemas);
const tripTypes = Object.keys(tripCommandSchemas);

function envelope(world: World, types: readonly string[]): Fields {
  return {
    eventId: fc.oneof(badEventId, leftOut, fc.constant(world.usedEventId)),
    type: fc.oneof(notOneOf(types), leftOut),
    data: fc.oneof(notAnObject, leftOut, deepValue),
  };
}

const badCategory = notOneOf(categories);

/** A load no schema accepts. */
const badLoad: fc.Arbitrary<unknown> = fc.oneof(
  notAnObject,
  fc.constantFrom(
    {},
    { kind: 'waste' },
    { kind: 'waste', category: 'residual', subtype: 'paper' },
    { kind: 'waste', category: 'kitchen', subtype: '' },
    { kind: 'waste', category: 'kitchen', subtype: 7 },
    { kind: 'residue' },
    { kind: 'residue', residue: 'kitchen' },
    { category: 'residual' },
  ),
  badCategory.map((category) => ({ kind: 'waste', category })),
  notOneOf(residues).map((residue) => ({ kind: 'residue', residue })),
  notOneOf(['waste', 'residue']).map((kind) => ({ kind, category: 'residual' })),
  notOneOf(['household', 'restaurant', 'other']).map((subtype) => ({
    kind: 'waste',
    category: 'kitchen',
    subtype,
  })),
);

/** Well-formed loads the fuzz world's transfer station does not accept. */
const loadNotAccepted = fc.constantFrom(
  { kind: 'waste', category: 'hazardous' },
  { kind: 'waste', category: 'hazardous', subtype: 'batteries' },
  { kind: 'waste', category: 'construction', subtype: 'excavated_soil' },
  { kind: 'residue', residue: 'fly_ash' },
);

function badOrigin(world: World): fc.Arbitrary<unknown> {
  return fc.oneof(
    notAnObject,
    fc.constantFrom(
      {},
      { kind: 'collection' },
      { kind: 'transfer', fromSiteId: world.plantId },
      { kind: 'transfer', outboundTicketNo: 'A0001' },
      { districtId: world.districtId },
    ),
    badId.map((districtId) => ({ kind: 'collection', districtId })),
    badId.map((tripId) => ({ kind: 'collection', districtId: world.districtId, tripId })),
    badId.map((fromSiteId) => ({ kind: 'transfer', fromSiteId, outboundTicketNo: 'A0001' })),
    badTicketNo.map((outboundTicketNo) => ({
      kind: 'transfer',
      fromSiteId: world.plantId,
      outboundTicketNo,
    })),
    notOneOf(['collection', 'transfer']).map((kind) => ({ kind, districtId: world.districtId })),
  );
}

const badDestination: fc.Arbitrary<unknown> = fc.oneof(
  notAnObject,
  fc.constant({}),
  badId.map((siteId) => ({ siteId })),
);

/** A date-time no report may carry: malformed, or more than 10 minutes ahead of the clock. */
const badOrFutureTime = fc.oneof(badTimestamp, leftOut, futureTimestamp);

/**
 * The report's data moved to the station whose id is a prefix of the ticket's site, with the
 * rest of the site id put in front of the ticket number: the same stream id, another ticket.
 */
function aliased(world: World, valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const data = valid.data as { siteId: string; ticketNo: string };
  const rest = data.siteId.slice(world.prefixSiteId.length + 1);
  return fc.constant({ ...data, siteId: world.prefixSiteId, ticketNo: `${rest}-${data.ticketNo}` });
}

// ---------------------------------------------------------------------------------------------
// Weighing reports (POST /v1/weighings).

export function weighingMutation(world: World): fc.Arbitrary<Mutation> {
  const wellFormedUnknownSite = fc.constant('fz-no-such-site');
  const otherTickets = fc.constantFrom(world.openTicket, world.weighedTicket, world.voidedTicket);
  const firstPass: Fields = {
    ...envelope(world, weighingTypes),
    'data.siteId': fc.oneof(badId, leftOut, wellFormedUnknownSite),
    'data.ticketNo': fc.oneof(badTicketNo, leftOut, otherTickets),
    'data.direction': fc.oneof(notOneOf(['inbound', 'outbound']), fc.constant('outbound')),
    // An unregistered plate, or one with a ticket open at the station.
    'data.plate': fc.oneof(badPlate, leftOut, fc.constantFrom('鲁Z99999', world.busyPlate)),
    'data.load': fc.oneof(badLoad, leftOut, loadNotAccepted),
    // Above the legal 18 000 kg of a 2-axle truck.
    'data.grossKg': fc.oneof(badKg, leftOut, fc.integer({ min: 18_001, max: 100_000 })),
    'data.weighedInAt': fc.oneof(badOrFutureTime, beforePermits),
    // An inbound ticket says where its load came from.
    'data.origin': fc.oneof(badOrigin(world), leftOut),
    'data.destination': badDestination,
    'data.device': badText(0, 100),
  };
  const weighedBefore = fc.constantFrom(
    '2026-03-03T07:59:59+08:00',
    '2026-03-02T23:59:59Z',
    '2026-03-03T07:59:59.999999+08:00',
  );
  return fc.oneof(
    { arbitrary: corrupted(validWeighIn(world), 'RecordWeighIn', firstPass), weight: 4 },
    {
      arbitrary: corrupted(validOnePass(world), 'RecordOnePassWeighing', {
        ...firstPass,
        // Not below the gross of 15 000 kg.
        'data.tareKg': fc.oneof(badKg, leftOut, fc.integer({ min: 15_000, max: 100_000 })),
        'data.tareSource': fc.oneof(notOneOf(['stored', 'preset']), leftOut),
      }),
      weight: 2,
    },
    {
      arbitrary: corrupted(validWeighOut(world), 'RecordWeighOut', {
        ...envelope(world, weighingTypes),
        data: fc.oneof(notAnObject, leftOut, deepValue, aliased(world, validWeighOut(world))),
        'data.siteId': fc.oneof(badId, leftOut, fc.constantFrom('fz-no-such-site', world.plantId)),
        'data.ticketNo': fc.oneof(
          badTicketNo,
          leftOut,
          fc.constantFrom('FZ-NONE', world.weighedTicket, world.voidedTicket),
        ),
        'data.tareKg': fc.oneof(badKg, leftOut, fc.integer({ min: 15_000, max: 100_000 })),
        'data.weighedOutAt': fc.oneof(badOrFutureTime, weighedBefore, beforePermits),
      }),
      weight: 3,
    },
    {
      arbitrary: corrupted(validRejection(world), 'RejectLoad', {
        ...envelope(world, weighingTypes),
        'data.siteId': fc.oneof(badId, leftOut, wellFormedUnknownSite),
        'data.ticketNo': fc.oneof(badTicketNo, leftOut, otherTickets),
        'data.plate': fc.oneof(badPlate, leftOut),
        'data.load': fc.oneof(badLoad, leftOut),
        'data.reason': fc.oneof(
          notOneOf([
            'category_not_accepted',
            'mixed_load',
            'over_legal_limit',
            'contaminated',
            'other',
          ]),
          leftOut,
        ),
        'data.note': badText(0, 500),
        'data.rejectedAt': badOrFutureTime,
        'data.origin': badOrigin(world),
      }),
      weight: 2,
    },
    {
      arbitrary: corrupted(validCorrection(world), 'CorrectTicket', {
        ...envelope(world, weighingTypes),
        data: fc.oneof(notAnObject, leftOut, deepValue, aliased(world, validCorrection(world))),
        'data.siteId': fc.oneof(badId, leftOut, wellFormedUnknownSite),
        'data.ticketNo': fc.oneof(
          badTicketNo,
          leftOut,
          fc.constantFrom('FZ-NONE', world.openTicket, world.voidedTicket),
        ),
        // Above the legal limit, or not above the stored tare of 10 000 kg.
        'data.grossKg': fc.oneof(
          badKg,
          fc.integer({ min: 18_001, max: 100_000 }),
          fc.integer({ min: 1, max: 10_000 }),
        ),
        // Not below the corrected gross of 15 500 kg.
        'data.tareKg': fc.oneof(badKg, fc.integer({ min: 15_500, max: 100_000 })),
        'data.load': fc.oneof(badLoad, loadNotAccepted),
        'data.origin': badOrigin(world),
        'data.destination': badDestination,
        'data.reason': fc.oneof(badText(1, 500), leftOut),
        'data.approvedBy': fc.oneof(badText(1, 100), leftOut),
        'data.correctedAt': badOrFutureTime,
      }),
      weight: 2,
    },
    {
      arbitrary: corrupted(validVoid(world), 'VoidTicket', {
        ...envelope(world, weighingTypes),
        data: fc.oneof(notAnObject, leftOut, deepValue, aliased(world, validVoid(world))),
        'data.siteId': fc.oneof(badId, leftOut, wellFormedUnknownSite),
        'data.ticketNo': fc.oneof(
          badTicketNo,
          leftOut,
          fc.constantFrom('FZ-NONE', world.voidedTicket),
        ),
        'data.reason': fc.oneof(badText(1, 500), leftOut),
        'data.approvedBy': fc.oneof(badText(1, 100), leftOut),
        'data.voidedAt': badOrFutureTime,
      }),
      weight: 1,
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Trip reports (POST /v1/trips). The ledger does not look trips' plates, districts or sites up,
// so only malformed ones are corruptions; steps out of order are the domain's refusals.

export function tripMutation(world: World): fc.Arbitrary<Mutation> {
  const neverDispatched = 'fz-trip-none';
  const beforeDispatch = fc.oneof(
    fc.constantFrom('2026-03-04T05:59:59+08:00', '2026-03-03T21:59:59Z'),
    beforePermits,
  );
  return fc.oneof(
    corrupted(validDispatch(world), 'DispatchTrip', {
      ...envelope(world, tripTypes),
      'data.tripId': fc.oneof(
        badId,
        leftOut,
        fc.constantFrom(world.collectingTrip, world.atSiteTrip, world.departedTrip),
      ),
      'data.plate': fc.oneof(badPlate, leftOut),
      'data.districtId': fc.oneof(badId, leftOut),
      'data.category': fc.oneof(badCategory, leftOut),
      'data.dispatchedAt': badOrFutureTime,
    }),
    corrupted(validCollection(world), 'RecordCollection', {
      ...envelope(world, tripTypes),
      'data.tripId': fc.oneof(
        badId,
        leftOut,
        fc.constantFrom(neverDispatched, world.atSiteTrip, world.departedTrip),
      ),
      'data.collectionPointId': fc.oneof(badId, leftOut),
      'data.category': fc.oneof(badCategory, leftOut),
      'data.bins': fc.oneof(badWholeNumber(0), leftOut),
      'data.kg': badKg,
      'data.collectedAt': fc.oneof(badOrFutureTime, beforeDispatch),
    }),
    corrupted(validArrival(world), 'RecordArrival', {
      ...envelope(world, tripTypes),
      'data.tripId': fc.oneof(
        badId,
        leftOut,
        fc.constantFrom(neverDispatched, world.atSiteTrip, world.departedTrip),
      ),
      'data.siteId': fc.oneof(badId, leftOut),
      'data.arrivedAt': fc.oneof(badOrFutureTime, beforeDispatch),
      'data.ticketNo': badTicketNo,
    }),
    corrupted(validDeparture(world), 'RecordDeparture', {
      ...envelope(world, tripTypes),
      'data.tripId': fc.oneof(
        badId,
        leftOut,
        fc.constantFrom(neverDispatched, world.collectingTrip, world.departedTrip),
      ),
      // Not the site the trip arrived at.
      'data.siteId': fc.oneof(badId, leftOut, fc.constant(world.plantId)),
      'data.departedAt': fc.oneof(
        badOrFutureTime,
        fc.constant('2026-03-04T07:59:59+08:00'),
        beforePermits,
      ),
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Master data (POST /v1/districts, /v1/sites, /v1/vehicles). An id already registered with
// other content is a 409; the same content again would be a 200 no-op, so never sent.

export function districtMutation(world: World): fc.Arbitrary<Mutation> {
  return corrupted(validDistrict(), 'district', {
    districtId: fc.oneof(badId, leftOut, fc.constant(world.districtId)),
    name: fc.oneof(badText(1, 100), leftOut),
    jurisdiction: fc.oneof(badId, leftOut),
  });
}

export function siteMutation(world: World): fc.Arbitrary<Mutation> {
  return corrupted(validSite(world), 'site', {
    siteId: fc.oneof(badId, leftOut, fc.constantFrom(world.stationId, world.plantId)),
    name: fc.oneof(badText(1, 200), leftOut),
    // A treatment facility names its operation; the valid site has none.
    kind: fc.oneof(notOneOf(siteKinds), leftOut, fc.constant('treatment_facility')),
    operation: fc.oneof(notOneOf(treatmentOperations), fc.constant('incineration_energy_recovery')),
    districtId: fc.oneof(badId, leftOut),
    accepts: fc.oneof(
      notAnObject,
      leftOut,
      fc.constantFrom(
        { categories: ['kitchen', 'kitchen', 'kitchen', 'kitchen', 'kitchen', 'kitchen'] },
        { categories: 'kitchen' },
        { categories: [null] },
        { residues: ['fly_ash', 'fly_ash', 'fly_ash', 'fly_ash', 'fly_ash'] },
        { categories: ['kitchen'], residues: 'fly_ash' },
      ),
      badCategory.map((category) => ({ categories: [category] })),
      notOneOf(residues).map((residue) => ({ residues: [residue] })),
    ),
    capacityKgPerDay: badWholeNumber(1, 100_000_000),
    permitNumber: badText(1, 100),
    validFrom: fc.oneof(badDate, leftOut),
    // Before validFrom (2020-01-01).
    validTo: fc.oneof(badDate, fc.constantFrom('2019-12-31', '0001-01-01')),
  });
}

export function vehicleMutation(world: World): fc.Arbitrary<Mutation> {
  return corrupted(validVehicle(), 'vehicle', {
    plate: fc.oneof(badPlate, leftOut, fc.constant(world.freePlate)),
    axles: fc.oneof(badWholeNumber(2, 12), leftOut),
    storedTareKg: fc.oneof(badKg, leftOut),
    tareMeasuredOn: fc.oneof(badDate, leftOut),
    dedicatedCategory: badCategory,
    operator: fc.oneof(badText(1, 200), leftOut),
  });
}

// ---------------------------------------------------------------------------------------------
// API keys (POST /v1/keys).

export function keyMutation(world: World): fc.Arbitrary<Mutation> {
  return corrupted(
    validKey(world),
    'key',
    {
      role: fc.oneof(notOneOf(roles), leftOut, fc.constant('station')),
      // Only station keys have sites.
      sites: fc.oneof(
        notAnArray,
        fc.constant([world.stationId]),
        badId.map((id) => [id]),
      ),
      districts: fc.oneof(
        notAnArray,
        badId.map((id) => [id]),
      ),
      label: badText(0, 200),
    },
    { strict: true },
  );
}
