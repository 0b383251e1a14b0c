import { expect } from 'vitest';
import {
  districtBody,
  incinerationPlantBody,
  transferStationBody,
  vehicleBody,
} from '../fixtures.js';

/**
 * The little ledger the fuzzer attacks: master data, tickets and trips in every state, so that a
 * report corrupted in one field reaches the domain's rules (unknown site, open ticket, tare not
 * below gross, trip out of order), not only the schema. Every id starts with `fz` so that no
 * hostile value can name one by chance.
 */
export interface World {
  readonly districtId: string;
  /** A transfer station accepting kitchen, recyclable and residual waste, no residues. */
  readonly stationId: string;
  readonly plantId: string;
  /**
   * A station whose id is a prefix of the other's: its ticket `station-FZ-OPEN` would have the
   * stream id of `fz-station`'s ticket `FZ-OPEN` (`ticket-fz-station-FZ-OPEN`).
   */
  readonly prefixSiteId: string;
  /** A registered 2-axle truck (legal gross 18 000 kg) with no open ticket anywhere. */
  readonly freePlate: string;
  /** A registered truck with `openTicket` open at the station. */
  readonly busyPlate: string;
  /** Weighed in at 15 000 kg on 3 March 2026 at 08:00 +08:00, not weighed out. */
  readonly openTicket: string;
  /** The event id of `openTicket`'s weigh-in: reusing it for anything else is a conflict. */
  readonly usedEventId: string;
  /** Weighed in at 15 000 kg and out at 10 000 kg on 2 March 2026. */
  readonly weighedTicket: string;
  readonly voidedTicket: string;
  /** Dispatched on 4 March 2026 at 06:00 +08:00, still collecting. */
  readonly collectingTrip: string;
  /** Dispatched at 06:00, arrived at the station at 08:00. */
  readonly atSiteTrip: string;
  /** Over: departed the station at 09:00. */
  readonly departedTrip: string;
}

export type Post = (url: string, body: unknown) => Promise<{ statusCode: number; body: unknown }>;

let eventCounter = 0;

/** Event ids of the world's own reports (hostile ones draw theirs at random). */
function worldEventId(): string {
  eventCounter += 1;
  return `f2000000-0000-4000-8000-${eventCounter.toString(16).padStart(12, '0')}`;
}

export async function setUpWorld(post: Post): Promise<World> {
  const world: World = {
    districtId: 'fz-district',
    stationId: 'fz-station',
    plantId: 'fz-plant',
    prefixSiteId: 'fz',
    freePlate: '鲁F00001',
    busyPlate: '鲁F00002',
    openTicket: 'FZ-OPEN',
    usedEventId: worldEventId(),
    weighedTicket: 'FZ-WEIGHED',
    voidedTicket: 'FZ-VOIDED',
    collectingTrip: 'fz-trip-collecting',
    atSiteTrip: 'fz-trip-at-site',
    departedTrip: 'fz-trip-departed',
  };
  const expectWritten = async (url: string, body: unknown): Promise<void> => {
    const response = await post(url, body);
    expect({ url, response }).toMatchObject({ response: { statusCode: 201 } });
  };
  const site = world.stationId;
  const weighing = (type: string, data: Record<string, unknown>, eventId = worldEventId()) =>
    expectWritten('/v1/weighings', { eventId, type, data });
  const trip = (type: string, data: Record<string, unknown>) =>
    expectWritten('/v1/trips', { eventId: worldEventId(), type, data });
  const firstPass = (ticketNo: string, plate: string, weighedInAt: string) => ({
    siteId: site,
    ticketNo,
    plate,
    load: { kind: 'waste', category: 'residual' },
    grossKg: 15_000,
    weighedInAt,
    origin: { kind: 'collection', districtId: world.districtId },
  });

  await expectWritten('/v1/districts', districtBody(world.districtId));
  await expectWritten('/v1/sites', transferStationBody(world.stationId, world.districtId));
  await expectWritten('/v1/sites', incinerationPlantBody(world.plantId, world.districtId));
  await expectWritten('/v1/sites', transferStationBody(world.prefixSiteId, world.districtId));
  await expectWritten('/v1/vehicles', vehicleBody(world.freePlate));
  await expectWritten('/v1/vehicles', vehicleBody(world.busyPlate));

  await weighing(
    'RecordWeighIn',
    firstPass(world.openTicket, world.busyPlate, '2026-03-03T08:00:00+08:00'),
    world.usedEventId,
  );
  await weighing(
    'RecordWeighIn',
    firstPass(world.weighedTicket, world.freePlate, '2026-03-02T08:00:00+08:00'),
  );
  await weighing('RecordWeighOut', {
    siteId: site,
    ticketNo: world.weighedTicket,
    tareKg: 10_000,
    weighedOutAt: '2026-03-02T08:30:00+08:00',
  });
  await weighing(
    'RecordWeighIn',
    firstPass(world.voidedTicket, world.freePlate, '2026-03-02T09:00:00+08:00'),
  );
  await weighing('VoidTicket', {
    siteId: site,
    ticketNo: world.voidedTicket,
    reason: 'printed twice',
    approvedBy: 'Wang Lei',
    voidedAt: '2026-03-02T09:05:00+08:00',
  });

  for (const tripId of [world.collectingTrip, world.atSiteTrip, world.departedTrip]) {
    await trip('DispatchTrip', {
      tripId,
      plate: world.freePlate,
      districtId: world.districtId,
      category: 'residual',
      dispatchedAt: '2026-03-04T06:00:00+08:00',
    });
  }
  for (const tripId of [world.atSiteTrip, world.departedTrip]) {
    await trip('RecordArrival', { tripId, siteId: site, arrivedAt: '2026-03-04T08:00:00+08:00' });
  }
  await trip('RecordDeparture', {
    tripId: world.departedTrip,
    siteId: site,
    departedAt: '2026-03-04T09:00:00+08:00',
  });
  return world;
}

// ---------------------------------------------------------------------------------------------
// Valid reports and registrations, never sent as they are: the fuzzer corrupts one field of each.

/** An event id no report of the world uses. */
export const FRESH_EVENT_ID = '0f000000-0000-4000-8000-000000000001';

export function validWeighIn(world: World): Record<string, unknown> {
  return {
    eventId: FRESH_EVENT_ID,
    type: 'RecordWeighIn',
    data: {
      siteId: world.stationId,
      ticketNo: 'FZ-NEW',
      direction: 'inbound',
      plate: world.freePlate,
      load: { kind: 'waste', category: 'residual' },
      grossKg: 15_000,
      weighedInAt: '2026-03-05T08:00:00+08:00',
      origin: { kind: 'collection', districtId: world.districtId },
      device: 'bridge-1',
    },
  };
}

export function validOnePass(world: World): Record<string, unknown> {
  const weighIn = validWeighIn(world);
  return {
    ...weighIn,
    type: 'RecordOnePassWeighing',
    data: { ...(weighIn.data as object), tareKg: 10_000, tareSource: 'stored' },
  };
}

export function validWeighOut(world: World): Record<string, unknown> {
  return {
    eventId: FRESH_EVENT_ID,
    type: 'RecordWeighOut',
    data: {
      siteId: world.stationId,
      ticketNo: world.openTicket,
      tareKg: 10_000,
      weighedOutAt: '2026-03-03T08:30:00+08:00',
    },
  };
}

export function validRejection(world: World): Record<string, unknown> {
  return {
    eventId: FRESH_EVENT_ID,
    type: 'RejectLoad',
    data: {
      siteId: world.stationId,
      ticketNo: 'FZ-REJECTED',
      plate: world.freePlate,
      load: { kind: 'waste', category: 'residual' },
      reason: 'contaminated',
      note: 'batteries in the load',
      rejectedAt: '2026-03-05T08:00:00+08:00',
      origin: { kind: 'collection', districtId: world.districtId },
    },
  };
}

export function validCorrection(world: World): Record<string, unknown> {
  return {
    eventId: FRESH_EVENT_ID,
    type: 'CorrectTicket',
    data: {
      siteId: world.stationId,
      ticketNo: world.weighedTicket,
      grossKg: 15_500,
      load: { kind: 'waste', category: 'residual' },
      reason: 'weighbridge recalibrated',
      approvedBy: 'Wang Lei',
      correctedAt: '2026-03-06T10:00:00+08:00',
    },
  };
}

export function validVoid(world: World): Record<string, unknown> {
  return {
    eventId: FRESH_EVENT_ID,
    type: 'VoidTicket',
    data: {
      siteId: world.stationId,
      ticketNo: world.weighedTicket,
      reason: 'printed twice',
      approvedBy: 'Wang Lei',
      voidedAt: '2026-03-06T10:00:00+08:00',
    },
  };
}

export function validDispatch(world: World): Record<string, unknown> {
  return {
    eventId: FRESH_EVENT_ID,
    type: 'DispatchTrip',
    data: {
      tripId: 'fz-trip-new',
      plate: world.freePlate,
      districtId: world.districtId,
      category: 'residual',
      dispatchedAt: '2026-03-04T06:00:00+08:00',
    },
  };
}

export function validCollection(world: World): Record<string, unknown> {
  return {
    eventId: FRESH_EVENT_ID,
    type: 'RecordCollection',
    data: {
      tripId: world.collectingTrip,
      collectionPointId: 'fz-point-1',
      category: 'residual',
      bins: 3,
      kg: 120,
      collectedAt: '2026-03-04T07:00:00+08:00',
    },
  };
}

export function validArrival(world: World): Record<string, unknown> {
  return {
    eventId: FRESH_EVENT_ID,
    type: 'RecordArrival',
    data: {
      tripId: world.collectingTrip,
      siteId: world.stationId,
      arrivedAt: '2026-03-04T08:00:00+08:00',
      ticketNo: 'A0001',
    },
  };
}

export function validDeparture(world: World): Record<string, unknown> {
  return {
    eventId: FRESH_EVENT_ID,
    type: 'RecordDeparture',
    data: {
      tripId: world.atSiteTrip,
      siteId: world.stationId,
      departedAt: '2026-03-04T09:00:00+08:00',
    },
  };
}

export function validDistrict(): Record<string, unknown> {
  return { districtId: 'fz-new-district', name: '历下区', jurisdiction: 'jinan' };
}

export function validSite(world: World): Record<string, unknown> {
  return {
    siteId: 'fz-new-site',
    name: '历下转运站',
    kind: 'transfer_station',
    districtId: world.districtId,
    accepts: { categories: ['kitchen', 'residual'], residues: [] },
    capacityKgPerDay: 300_000,
    permitNumber: 'JN-TS-9',
    validFrom: '2020-01-01',
    validTo: '2030-12-31',
  };
}

export function validVehicle(): Record<string, unknown> {
  return {
    plate: '鲁F09999',
    axles: 2,
    storedTareKg: 9_800,
    tareMeasuredOn: '2026-01-05',
    dedicatedCategory: 'kitchen',
    operator: '济南环卫',
  };
}

/** A valid request to create an API key (POST /v1/keys). */
export function validKey(world: World): Record<string, unknown> {
  return { role: 'regulator', districts: [world.districtId], label: 'fuzz regulator' };
}
