import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { Site, Vehicle } from '../../src/domain/master-data/master-data.js';
import type { Load } from '../../src/domain/shared/materials.js';
import type { Origin } from '../../src/domain/weighing/events.js';
import { complianceFacts } from '../../src/projections/compliance-facts/projection.js';
import { ProjectionRunner } from '../../src/projections/runner/runner.js';
import { openProjectionDb, type ProjectionDb } from '../projections/fixtures.js';
import { buildTestApp } from '../support/access.js';
import type { StoreHarness } from '../support/databases.js';
import {
  districtBody,
  nextEventId,
  nextId,
  nextPlate,
  nextTicketNo,
  onePass,
  post,
  record,
  TIME_ZONE,
  weighIn,
  weighOut,
  type Accepted,
} from '../api/fixtures.js';

/**
 * What the compliance tests share: the app with a fixed clock and a compliance-facts runner,
 * districts with their trucks, sites, and tickets as a weighbridge posts them. Every scenario
 * registers its own district, sites and trucks and weighs on business days of its own.
 */

/** The ledger's clock for "now": 20 March 2026, noon in Jinan. */
export const CLOCK = Date.parse('2026-03-20T12:00:00+08:00');

// ---------------------------------------------------------------------------------------------
// The app with a fixed clock and a compliance-facts runner.

export interface ComplianceApi {
  readonly app: FastifyInstance;
  readonly ledger: ProjectionDb;
  readonly runner: ProjectionRunner<(typeof complianceFacts.tables)[number]>;
  close(): Promise<void>;
}

export async function openComplianceApi(harness: StoreHarness): Promise<ComplianceApi> {
  const ledger = await openProjectionDb(harness);
  const app = await buildTestApp({
    store: ledger.store,
    db: ledger.db,
    timeZone: TIME_ZONE,
    clock: () => CLOCK,
  });
  const runner = new ProjectionRunner({
    store: ledger.store,
    db: ledger.db,
    projection: complianceFacts,
  });
  await runner.setup();
  return {
    app,
    ledger,
    runner,
    async close() {
      await app.close();
      await ledger.close();
    },
  };
}

export function withQuery(
  path: string,
  query: Record<string, string | number | undefined>,
): string {
  const params = new URLSearchParams(
    Object.entries(query).flatMap(([k, v]): [string, string][] =>
      v === undefined ? [] : [[k, String(v)]],
    ),
  );
  return `${path}?${params.toString()}`;
}

export type Query = Record<string, string | number | undefined>;

// ---------------------------------------------------------------------------------------------
// Master data: a district with its trucks, and sites in it.

/** A registered truck and the tare its one-pass tickets use (gross = tare + net). */
export interface Truck {
  readonly plate: string;
  readonly tareKg: number;
}

export interface District {
  readonly districtId: string;
  /** Where the district's collection loads come from. */
  readonly collection: Origin;
  /** 2 axles, legal gross 18 t: payload up to 8 000 kg. */
  readonly compactor: Truck;
  /** 4 axles, legal gross 31 t: payload up to 19 000 kg. */
  readonly container: Truck;
  /** 4 axles, legal gross 31 t: payload up to 18 000 kg. */
  readonly dumpTruck: Truck;
}

export async function registerTruck(
  app: FastifyInstance,
  axles: number,
  tareKg: number,
): Promise<Truck> {
  const plate = nextPlate();
  const body: Vehicle = {
    plate,
    axles,
    storedTareKg: tareKg as Vehicle['storedTareKg'],
    tareMeasuredOn: '2020-01-05',
    operator: 'Jinan Environmental Sanitation Group',
  };
  const response = await post(app, '/v1/vehicles', body);
  expect(response.statusCode).toBe(201);
  return { plate, tareKg };
}

export async function registerDistrict(app: FastifyInstance): Promise<District> {
  const districtId = nextId('compliance');
  expect((await post(app, '/v1/districts', districtBody(districtId))).statusCode).toBe(201);
  return {
    districtId,
    collection: { kind: 'collection', districtId },
    compactor: await registerTruck(app, 2, 10_000),
    container: await registerTruck(app, 4, 12_000),
    dumpTruck: await registerTruck(app, 4, 13_000),
  };
}

export type Operation = NonNullable<Site['operation']>;
export type Accepts = Site['accepts'];

export const HOUSEHOLD_ACCEPTS: Accepts = {
  categories: ['kitchen', 'recyclable', 'residual'],
  residues: [],
};

/** What a site is, and its permit: licensed since 2020 unless told otherwise. */
export interface SiteSpec {
  readonly operation?: Operation;
  readonly accepts: Accepts;
  /** null: no permit number at all. */
  readonly permitNumber?: string | null;
  readonly validFrom?: string;
  readonly validTo?: string;
  /** Rated capacity, kg per day: 1 000 000 unless told otherwise; null: none on record. */
  readonly capacityKgPerDay?: number | null;
}

export async function registerSite(
  app: FastifyInstance,
  d: District,
  spec: SiteSpec,
): Promise<string> {
  const siteId = nextId(spec.operation === undefined ? 'ts' : spec.operation.slice(0, 8));
  const body: Site = {
    siteId,
    name: `${spec.operation ?? 'transfer station'} ${siteId}`,
    kind: spec.operation === undefined ? 'transfer_station' : 'treatment_facility',
    ...(spec.operation === undefined ? {} : { operation: spec.operation }),
    districtId: d.districtId,
    accepts: spec.accepts,
    ...(spec.capacityKgPerDay === null
      ? {}
      : { capacityKgPerDay: spec.capacityKgPerDay ?? 1_000_000 }),
    ...(spec.permitNumber === null ? {} : { permitNumber: spec.permitNumber ?? `JN-${siteId}` }),
    validFrom: spec.validFrom ?? '2020-01-01',
    ...(spec.validTo === undefined ? {} : { validTo: spec.validTo }),
  };
  const response = await post(app, '/v1/sites', body);
  expect(response.statusCode).toBe(201);
  return siteId;
}

export const transferStation = (app: FastifyInstance, d: District) =>
  registerSite(app, d, { accepts: HOUSEHOLD_ACCEPTS });

// ---------------------------------------------------------------------------------------------
// Loads.

export const residual: Load = { kind: 'waste', category: 'residual' };
export const kitchen: Load = { kind: 'waste', category: 'kitchen', subtype: 'household' };
export const paper: Load = { kind: 'waste', category: 'recyclable', subtype: 'paper' };
export const plastic: Load = { kind: 'waste', category: 'recyclable', subtype: 'plastic' };
export const batteries: Load = { kind: 'waste', category: 'hazardous', subtype: 'batteries' };
export const construction = (subtype: string): Load => ({
  kind: 'waste',
  category: 'construction',
  subtype,
});
export const residue = (kind: 'sorting_residue' | 'digestate_residue' | 'bottom_ash' | 'fly_ash') =>
  ({ kind: 'residue', residue: kind }) as const satisfies Load;

/** `2026-01-05T08:00:00+08:00`: a local time in Jinan on a business day. */
export const at = (day: string, time: string) => `${day}T${time}:00+08:00`;

// ---------------------------------------------------------------------------------------------
// Tickets, as a weighbridge posts them. Each returns the ticket number and where it was recorded.

export interface Ticket extends Accepted {
  readonly siteId: string;
  readonly ticketNo: string;
}

export async function recordTicket(
  app: FastifyInstance,
  siteId: string,
  ticketNo: string,
  report: Parameters<typeof record>[1],
): Promise<Ticket> {
  return { ...(await record(app, report)), siteId, ticketNo };
}

/** One collection load: [site, load, net kg, weighed at, truck (default: the compactor)]. */
export type Collection = readonly [
  siteId: string,
  load: Load,
  netKg: number,
  at: string,
  truck?: Truck,
];

/** A collection load received at a site, one pass: gross = the truck's stored tare + net. */
export function collect(app: FastifyInstance, d: District, load: Collection): Promise<Ticket> {
  const [siteId, what, netKg, weighedInAt, truck = d.compactor] = load;
  const ticketNo = nextTicketNo();
  return recordTicket(
    app,
    siteId,
    ticketNo,
    onePass({
      siteId,
      ticketNo,
      plate: truck.plate,
      grossKg: truck.tareKg + netKg,
      tareKg: truck.tareKg,
      weighedInAt,
      load: what,
      origin: d.collection,
    }),
  );
}

/** Collection loads, one after the other. */
export async function collectEach(
  app: FastifyInstance,
  d: District,
  loads: readonly Collection[],
): Promise<void> {
  for (const load of loads) await collect(app, d, load);
}

/** A collection load weighed in two passes: gross on the way in, tare measured on the way out. */
export async function collectTwoPass(
  app: FastifyInstance,
  d: District,
  t: { siteId: string; load: Load; grossKg: number; tareKg: number; inAt: string; outAt: string },
): Promise<Ticket> {
  const ticketNo = nextTicketNo();
  await record(
    app,
    weighIn({
      siteId: t.siteId,
      ticketNo,
      plate: d.compactor.plate,
      grossKg: t.grossKg,
      weighedInAt: t.inAt,
      load: t.load,
      origin: d.collection,
    }),
  );
  return recordTicket(
    app,
    t.siteId,
    ticketNo,
    weighOut({ siteId: t.siteId, ticketNo, tareKg: t.tareKg, weighedOutAt: t.outAt }),
  );
}

/** An outbound ticket: a load (a transfer, or a residue) dispatched from `siteId` to `toSiteId`. */
export function dispatch(
  app: FastifyInstance,
  d: District,
  t: { siteId: string; toSiteId: string; load: Load; netKg: number; at: string },
): Promise<Ticket> {
  const ticketNo = nextTicketNo();
  return recordTicket(
    app,
    t.siteId,
    ticketNo,
    onePass({
      siteId: t.siteId,
      ticketNo,
      plate: d.container.plate,
      direction: 'outbound',
      destination: { siteId: t.toSiteId },
      grossKg: d.container.tareKg + t.netKg,
      tareKg: d.container.tareKg,
      weighedInAt: t.at,
      load: t.load,
    }),
  );
}

/** The receiving site's inbound ticket for a dispatched load (origin: a transfer, not collection). */
export function receive(
  app: FastifyInstance,
  d: District,
  t: { siteId: string; from: Ticket; load: Load; netKg: number; at: string },
): Promise<Ticket> {
  const ticketNo = nextTicketNo();
  return recordTicket(
    app,
    t.siteId,
    ticketNo,
    onePass({
      siteId: t.siteId,
      ticketNo,
      plate: d.container.plate,
      grossKg: d.container.tareKg + t.netKg,
      tareKg: d.container.tareKg,
      weighedInAt: t.at,
      load: t.load,
      origin: { kind: 'transfer', fromSiteId: t.from.siteId, outboundTicketNo: t.from.ticketNo },
    }),
  );
}

/**
 * A load hauled between two sites: the sender's outbound ticket, then the receiver's inbound
 * ticket pointing back at it. [from, to, load, kg sent, kg received, sent at, received at]
 */
export type Haul = readonly [
  fromSiteId: string,
  toSiteId: string,
  load: Load,
  sentKg: number,
  receivedKg: number,
  sentAt: string,
  receivedAt: string,
];

export async function haulEach(
  app: FastifyInstance,
  d: District,
  hauls: readonly Haul[],
): Promise<void> {
  for (const [siteId, toSiteId, load, sentKg, receivedKg, sentAt, receivedAt] of hauls) {
    const from = await dispatch(app, d, { siteId, toSiteId, load, netKg: sentKg, at: sentAt });
    await receive(app, d, { siteId: toSiteId, from, load, netKg: receivedKg, at: receivedAt });
  }
}

/** A load refused at the gate: no weights, it counts nowhere. */
export function reject(
  app: FastifyInstance,
  d: District,
  t: { siteId: string; load: Load; at: string },
): Promise<Ticket> {
  const ticketNo = nextTicketNo();
  return recordTicket(app, t.siteId, ticketNo, {
    eventId: nextEventId(),
    type: 'RejectLoad',
    data: {
      siteId: t.siteId,
      ticketNo,
      plate: d.compactor.plate,
      load: t.load,
      reason: 'contaminated',
      note: 'hazardous batteries mixed into the kitchen waste',
      rejectedAt: t.at,
      origin: d.collection,
    },
  });
}

export const INCINERATION = 'incineration_energy_recovery';
