import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { District, Site, Vehicle } from '../../src/domain/master-data/master-data.js';
import type { Load } from '../../src/domain/shared/materials.js';
import type { Destination, Origin } from '../../src/domain/weighing/events.js';
import { dailyTonnage } from '../../src/projections/daily-tonnage/projection.js';
import { tonnageResponseSchema } from '../../src/api/tonnage/tonnage-routes.js';
import { ProjectionRunner } from '../../src/projections/runner/runner.js';
import { openProjectionDb, type ProjectionDb } from '../projections/fixtures.js';
import { authorization, buildTestApp } from '../support/access.js';
import type { StoreHarness } from '../support/databases.js';

export const TIME_ZONE = 'Asia/Shanghai';
export const PROBLEM_BASE = 'https://waste-ledger.example/problems/';

/** The API over a fresh log with the projections' schema, and a daily-tonnage runner set up. */
export interface Api {
  readonly app: FastifyInstance;
  readonly ledger: ProjectionDb;
  /** Not running: a test calls `catchUp()` or runs it in the background itself. */
  readonly runner: ProjectionRunner<string>;
  close(): Promise<void>;
}

export async function openApi(harness: StoreHarness): Promise<Api> {
  const ledger = await openProjectionDb(harness);
  const app = await buildTestApp({ store: ledger.store, db: ledger.db, timeZone: TIME_ZONE });
  const runner = new ProjectionRunner<string>({
    store: ledger.store,
    db: ledger.db,
    projection: dailyTonnage,
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

// ---------------------------------------------------------------------------------------------
// Ids: tests share one log per describe, so each takes its own districts, sites, plates, tickets.

let sequence = 0;

export function nextId(prefix: string): string {
  sequence += 1;
  return `${prefix}-${sequence}`;
}

/** Deterministic UUIDs (v4 layout), unique within the test file. */
export function nextEventId(): string {
  sequence += 1;
  return `5e000000-0000-4000-8000-${sequence.toString(16).padStart(12, '0')}`;
}

/** A Shandong plate, unique within the test file. */
export function nextPlate(): string {
  sequence += 1;
  return `鲁A${String(sequence).padStart(5, '0')}`;
}

export function nextTicketNo(): string {
  sequence += 1;
  return `T${String(sequence).padStart(6, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Requests.

export interface Json {
  readonly statusCode: number;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

/** Requests are sent with the app's test admin key unless `headers` says otherwise. */
export async function post(
  app: FastifyInstance,
  url: string,
  payload: unknown,
  headers: Record<string, string> = authorization(app),
): Promise<Json> {
  const response = await app.inject({ method: 'POST', url, payload: payload as object, headers });
  return {
    statusCode: response.statusCode,
    contentType: response.headers['content-type'] as string | undefined,
    body: response.json(),
  };
}

export async function get(
  app: FastifyInstance,
  url: string,
  headers: Record<string, string> = authorization(app),
): Promise<Json> {
  const response = await app.inject({ method: 'GET', url, headers });
  return {
    statusCode: response.statusCode,
    contentType: response.headers['content-type'] as string | undefined,
    body: response.json(),
  };
}

export async function headPosition(app: FastifyInstance): Promise<number> {
  const health = await get(app, '/health');
  expect(health.statusCode).toBe(200);
  return (health.body as { headPosition: number }).headPosition;
}

/** The problem+json a ledger error answers with, whole. */
export function problemBody(
  code: string,
  title: string,
  status: number,
  detail: string,
  extensions: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    type: `${PROBLEM_BASE}${code.toLowerCase().replaceAll('_', '-')}`,
    title,
    status,
    detail,
    code,
    ...extensions,
  };
}

/** Asserts a refusal: status, problem+json content type, the whole body, and nothing written. */
export async function expectRefused(
  app: FastifyInstance,
  request: () => Promise<Json>,
  expected: Record<string, unknown>,
): Promise<void> {
  const before = await headPosition(app);
  const response = await request();
  expect(response.body).toEqual(expected);
  expect(response.statusCode).toBe(expected.status);
  expect(response.contentType).toMatch(/^application\/problem\+json/);
  expect(await headPosition(app)).toBe(before);
}

// ---------------------------------------------------------------------------------------------
// Master data.

export function districtBody(districtId: string): District {
  return { districtId, name: `Lixia ${districtId}`, jurisdiction: 'jinan' };
}

export function transferStationBody(siteId: string, districtId: string): Site {
  return {
    siteId,
    name: `Transfer station ${siteId}`,
    kind: 'transfer_station',
    districtId,
    accepts: { categories: ['kitchen', 'recyclable', 'residual'], residues: [] },
    capacityKgPerDay: 450_000,
    permitNumber: `JN-TS-${siteId}`,
    validFrom: '2020-01-01',
  };
}

export function incinerationPlantBody(siteId: string, districtId: string): Site {
  return {
    siteId,
    name: `Incineration plant ${siteId}`,
    kind: 'treatment_facility',
    operation: 'incineration_energy_recovery',
    districtId,
    accepts: { categories: ['residual', 'kitchen'], residues: ['sorting_residue'] },
    capacityKgPerDay: 2_000_000,
    validFrom: '2020-01-01',
  };
}

/** A 2-axle compactor: legal gross 18 t, stored tare 10 t (tare drift tolerance 200 kg). */
export function vehicleBody(plate: string): Vehicle {
  return {
    plate,
    axles: 2,
    storedTareKg: 10_000 as Vehicle['storedTareKg'],
    tareMeasuredOn: '2026-01-05',
    dedicatedCategory: 'residual',
    operator: 'Jinan Environmental Sanitation Group',
  };
}

export const STORED_TARE_KG = 10_000;

// ---------------------------------------------------------------------------------------------
// Weighing reports, as a weighbridge posts them.

export interface FirstPass {
  readonly siteId: string;
  readonly ticketNo: string;
  readonly plate: string;
  readonly grossKg: unknown;
  readonly weighedInAt: string;
  readonly load?: Load;
  readonly origin?: Origin;
  readonly direction?: 'inbound' | 'outbound';
  readonly destination?: Destination;
}

export interface Report {
  readonly eventId: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
}

export function weighIn(data: FirstPass, eventId = nextEventId()): Report {
  return {
    eventId,
    type: 'RecordWeighIn',
    data: { load: { kind: 'waste', category: 'residual' }, ...data },
  };
}

export function weighOut(
  data: { siteId: string; ticketNo: string; tareKg: unknown; weighedOutAt: string },
  eventId = nextEventId(),
): Report {
  return { eventId, type: 'RecordWeighOut', data };
}

export function onePass(
  data: FirstPass & { tareKg: unknown; tareSource?: 'stored' | 'preset' },
  eventId = nextEventId(),
): Report {
  return {
    eventId,
    type: 'RecordOnePassWeighing',
    data: { load: { kind: 'waste', category: 'residual' }, tareSource: 'stored', ...data },
  };
}

export function correct(
  data: {
    siteId: string;
    ticketNo: string;
    grossKg?: number;
    tareKg?: number;
    load?: Load;
    correctedAt: string;
  },
  eventId = nextEventId(),
): Report {
  return {
    eventId,
    type: 'CorrectTicket',
    data: { reason: 'weighbridge recalibrated', approvedBy: 'Wang Lei', ...data },
  };
}

export function voidTicket(
  data: { siteId: string; ticketNo: string; voidedAt: string },
  eventId = nextEventId(),
): Report {
  return {
    eventId,
    type: 'VoidTicket',
    data: { reason: 'duplicate ticket printed', approvedBy: 'Wang Lei', ...data },
  };
}

/** What 201/200 answer for a recorded or retried report. */
export interface Accepted {
  readonly status: 'recorded' | 'duplicate';
  readonly eventId: string;
  readonly streamId: string;
  readonly revision: number;
  readonly position: number;
  readonly findings: readonly string[];
}

export async function record(app: FastifyInstance, report: Report): Promise<Accepted> {
  const response = await post(app, '/v1/weighings', report);
  expect(response.body).toMatchObject({ status: 'recorded' });
  expect(response.statusCode).toBe(201);
  return response.body as Accepted;
}

// ---------------------------------------------------------------------------------------------
// A district with a transfer station, an incineration plant and a vehicle, all its own.

export interface Scenario {
  readonly districtId: string;
  readonly stationId: string;
  readonly plantId: string;
  readonly plate: string;
  /** Where the scenario's collection loads come from. */
  readonly collection: Origin;
}

export async function registerScenario(app: FastifyInstance): Promise<Scenario> {
  const districtId = nextId('lixia');
  const stationId = nextId('ts');
  const plantId = nextId('inc');
  const plate = nextPlate();
  for (const [url, body] of [
    ['/v1/districts', districtBody(districtId)],
    ['/v1/sites', transferStationBody(stationId, districtId)],
    ['/v1/sites', incinerationPlantBody(plantId, districtId)],
    ['/v1/vehicles', vehicleBody(plate)],
  ] as const) {
    const response = await post(app, url, body);
    expect(response.statusCode).toBe(201);
  }
  return {
    districtId,
    stationId,
    plantId,
    plate,
    collection: { kind: 'collection', districtId },
  };
}

export async function registerVehicle(app: FastifyInstance): Promise<string> {
  const plate = nextPlate();
  const response = await post(app, '/v1/vehicles', vehicleBody(plate));
  expect(response.statusCode).toBe(201);
  return plate;
}

// ---------------------------------------------------------------------------------------------
// Tonnage.

export interface TonnageRow {
  readonly day?: string;
  readonly district?: string;
  readonly site?: string;
  readonly material?: string;
  readonly flow?: string;
  readonly operation?: string;
  readonly netKg: number;
  readonly tonnes: string;
  readonly tickets: number;
}

export interface Tonnage {
  readonly rows: TonnageRow[];
  readonly totalKg: number;
  readonly totalTonnes: string;
  readonly checkpoint: number;
}

export function tonnageUrl(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams(
    Object.entries(query).flatMap(([k, v]): [string, string][] =>
      v === undefined ? [] : [[k, String(v)]],
    ),
  );
  return `/v1/tonnage?${params.toString()}`;
}

/** Queries tonnage after the runner has caught up with the log. */
export async function tonnage(api: Api, query: Record<string, string | number>): Promise<Tonnage> {
  await api.runner.catchUp();
  const response = await get(api.app, tonnageUrl(query));
  expect(response.statusCode).toBe(200);
  // Written without zod on the way out: it must still be exactly what OpenAPI documents.
  expect(tonnageResponseSchema.parse(response.body)).toEqual(response.body);
  return response.body as Tonnage;
}
