import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vehicle } from '../../src/domain/master-data/master-data.js';
import { findings } from '../../src/projections/findings/projection.js';
import { complianceFacts } from '../../src/projections/compliance-facts/projection.js';
import { ProjectionRunner } from '../../src/projections/runner/runner.js';
import {
  correct,
  districtBody,
  get,
  headPosition,
  incinerationPlantBody,
  nextEventId,
  nextId,
  nextPlate,
  onePass,
  post,
  problemBody,
  record,
  TIME_ZONE,
  transferStationBody,
  vehicleBody,
  voidTicket,
  weighIn,
  weighOut,
  type Json,
  type Report,
} from '../api/fixtures.js';
import { openProjectionDb, type ProjectionDb } from '../projections/fixtures.js';
import { buildTestApp } from '../support/access.js';
import {
  pgliteHarness,
  postgresAvailable,
  postgresHarness,
  type StoreHarness,
} from '../support/databases.js';

const postgres = await postgresAvailable();

const INVALID_INPUT = 'The input is not valid';

/** The API over a fresh log, with the findings projection set up (not running). */
interface FindingsApi {
  readonly app: FastifyInstance;
  readonly ledger: ProjectionDb;
  readonly runner: ProjectionRunner<string>;
  close(): Promise<void>;
}

async function openFindingsApi(harness: StoreHarness): Promise<FindingsApi> {
  const ledger = await openProjectionDb(harness);
  const app = await buildTestApp({ store: ledger.store, db: ledger.db, timeZone: TIME_ZONE });
  const runner = new ProjectionRunner<string>({
    store: ledger.store,
    db: ledger.db,
    projection: findings,
  });
  await runner.setup();
  // The route also answers the kinds judged on the compliance facts: their tables must exist
  // (empty here: those kinds have their own tests in tests/compliance).
  await new ProjectionRunner<string>({
    store: ledger.store,
    db: ledger.db,
    projection: complianceFacts,
  }).setup();
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

/** A district with its own transfer station and incineration plant. */
interface Sites {
  readonly districtId: string;
  readonly stationId: string;
  readonly plantId: string;
}

async function registered(app: FastifyInstance, url: string, body: unknown): Promise<void> {
  const response = await post(app, url, body);
  expect(response.statusCode).toBe(201);
}

async function registerSites(app: FastifyInstance, label = 'ts'): Promise<Sites> {
  const districtId = nextId('lixia');
  const stationId = nextId(label);
  const plantId = nextId('inc');
  await registered(app, '/v1/districts', districtBody(districtId));
  await registered(app, '/v1/sites', transferStationBody(stationId, districtId));
  await registered(app, '/v1/sites', incinerationPlantBody(plantId, districtId));
  return { districtId, stationId, plantId };
}

/** A 2-axle compactor with a stored tare of 10 000 kg (tare drift tolerance 200 kg). */
async function registerCompactor(app: FastifyInstance): Promise<string> {
  const plate = nextPlate();
  await registered(app, '/v1/vehicles', vehicleBody(plate));
  return plate;
}

const CONTAINER_TARE_KG = 12_000;

/** A 4-axle transfer-container truck (legal gross 31 t), stored tare 12 000 kg. */
async function registerContainerTruck(app: FastifyInstance): Promise<string> {
  const plate = nextPlate();
  const truck: Vehicle = {
    plate,
    axles: 4,
    storedTareKg: CONTAINER_TARE_KG as Vehicle['storedTareKg'],
    tareMeasuredOn: '2026-01-05',
    operator: 'Jinan Transfer Logistics',
  };
  await registered(app, '/v1/vehicles', truck);
  return plate;
}

/** A one-pass collection load of 6 000 kg net (gross 16 000, stored tare 10 000). */
function collectionLoad(
  sites: Sites,
  plate: string,
  ticketNo: string,
  weighedInAt: string,
  siteId = sites.stationId,
): Report {
  return onePass({
    siteId,
    ticketNo,
    plate,
    grossKg: 16_000,
    tareKg: 10_000,
    weighedInAt,
    origin: { kind: 'collection', districtId: sites.districtId },
  });
}

/** The station's outbound ticket to the plant: a container of `netKg`. */
function dispatch(
  sites: Sites,
  plate: string,
  ticketNo: string,
  netKg: number,
  weighedInAt: string,
): Report {
  return onePass({
    siteId: sites.stationId,
    ticketNo,
    plate,
    grossKg: CONTAINER_TARE_KG + netKg,
    tareKg: CONTAINER_TARE_KG,
    weighedInAt,
    direction: 'outbound',
    destination: { siteId: sites.plantId },
  });
}

/** The plant's inbound ticket for the station's outbound ticket `outboundTicketNo`. */
function receipt(
  sites: Sites,
  plate: string,
  ticketNo: string,
  outboundTicketNo: string,
  netKg: number,
  weighedInAt: string,
): Report {
  return onePass({
    siteId: sites.plantId,
    ticketNo,
    plate,
    grossKg: CONTAINER_TARE_KG + netKg,
    tareKg: CONTAINER_TARE_KG,
    weighedInAt,
    origin: { kind: 'transfer', fromSiteId: sites.stationId, outboundTicketNo },
  });
}

function rejectLoad(
  sites: Sites,
  plate: string,
  ticketNo: string,
  rejectedAt: string,
  eventId = nextEventId(),
): Report {
  return {
    eventId,
    type: 'RejectLoad',
    data: {
      siteId: sites.stationId,
      ticketNo,
      plate,
      load: { kind: 'waste', category: 'hazardous', subtype: 'batteries' },
      reason: 'category_not_accepted',
      note: 'batteries in a residual-waste compactor',
      rejectedAt,
      origin: { kind: 'collection', districtId: sites.districtId },
    },
  };
}

interface Finding {
  readonly kind: string;
  readonly siteId: string;
  readonly day: string;
  readonly ticketNo?: string;
  readonly details: Record<string, unknown>;
}

function findingsUrl(query: Record<string, string | number>): string {
  const params = new URLSearchParams(
    Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]),
  );
  return `/v1/findings?${params.toString()}`;
}

function gap(
  siteId: string,
  day: string,
  ticketNo: string,
  details: { prefix: string; missingFrom: number; missingTo: number },
): Finding {
  return {
    kind: 'ticket_gap',
    siteId,
    day,
    ticketNo,
    details: { ...details, missing: details.missingTo - details.missingFrom + 1 },
  };
}

/**
 * Every test shares one log and one read model: each registers its own sites and vehicles, and
 * writes on business days of its own, so a query over its days (or its sites) sees only its own
 * findings. Days are at least three apart: gaps are looked for a day either side.
 */
describe.each([
  { harness: pgliteHarness, skip: false },
  { harness: postgresHarness, skip: !postgres },
])('findings API on $harness.name', ({ harness, skip }) => {
  let api: FindingsApi;

  beforeAll(async () => {
    if (!skip) api = await openFindingsApi(harness);
  });
  afterAll(async () => {
    if (!skip) await api.close();
  });

  /** Catches the projection up with the log, then queries: 200 with the whole body. */
  async function findingsAfterCatchUp(query: Record<string, string | number>): Promise<Json> {
    await api.runner.catchUp();
    return get(api.app, findingsUrl(query));
  }

  async function expectFindings(
    query: Record<string, string | number>,
    expected: readonly Finding[],
  ): Promise<void> {
    const response = await findingsAfterCatchUp(query);
    const checkpoint = await headPosition(api.app);
    expect(response).toEqual({
      statusCode: 200,
      contentType: 'application/json; charset=utf-8',
      body: { findings: expected, checkpoint },
    });
  }

  async function recordAll(...reports: readonly Report[]): Promise<void> {
    for (const report of reports) await record(api.app, report);
  }

  describe.skipIf(skip)('ticket-number gaps', () => {
    it('finds A0003–A0004 missing between A0002 and A0005, on the day of A0002', async () => {
      const day = '2026-05-04';
      const sites = await registerSites(api.app);
      const plate = await registerCompactor(api.app);
      await recordAll(
        collectionLoad(sites, plate, 'A0001', `${day}T07:00:00+08:00`),
        collectionLoad(sites, plate, 'A0002', `${day}T07:20:00+08:00`),
        collectionLoad(sites, plate, 'A0005', `${day}T07:40:00+08:00`),
      );

      await expectFindings({ from: day, to: day, siteId: sites.stationId }, [
        {
          kind: 'ticket_gap',
          siteId: sites.stationId,
          day,
          ticketNo: 'A0002',
          details: { prefix: 'A', missingFrom: 3, missingTo: 4, missing: 2 },
        },
      ]);
    });

    it('narrows the gap as the missing tickets arrive late, and clears it when all have', async () => {
      const day = '2026-05-08';
      const sites = await registerSites(api.app);
      const plate = await registerCompactor(api.app);
      await recordAll(
        collectionLoad(sites, plate, 'A0001', `${day}T07:00:00+08:00`),
        collectionLoad(sites, plate, 'A0002', `${day}T07:20:00+08:00`),
        collectionLoad(sites, plate, 'A0005', `${day}T08:20:00+08:00`),
      );
      const query = { from: day, to: day, siteId: sites.stationId };
      await expectFindings(query, [
        gap(sites.stationId, day, 'A0002', { prefix: 'A', missingFrom: 3, missingTo: 4 }),
      ]);

      // The weighbridge's link was down: A0003 arrives late, weighed in between.
      await recordAll(collectionLoad(sites, plate, 'A0003', `${day}T07:40:00+08:00`));
      await expectFindings(query, [
        gap(sites.stationId, day, 'A0003', { prefix: 'A', missingFrom: 4, missingTo: 4 }),
      ]);

      await recordAll(collectionLoad(sites, plate, 'A0004', `${day}T08:00:00+08:00`));
      await expectFindings(query, []);
    });

    it('keeps prefixes apart: A0001, A0002, B0004, B0005 have no gap', async () => {
      const day = '2026-05-12';
      const sites = await registerSites(api.app);
      const plate = await registerCompactor(api.app);
      await recordAll(
        collectionLoad(sites, plate, 'A0001', `${day}T07:00:00+08:00`),
        collectionLoad(sites, plate, 'A0002', `${day}T07:20:00+08:00`),
        collectionLoad(sites, plate, 'B0004', `${day}T07:40:00+08:00`),
        collectionLoad(sites, plate, 'B0005', `${day}T08:00:00+08:00`),
      );

      await expectFindings({ from: day, to: day, siteId: sites.stationId }, []);
    });

    it('lets a rejected load and a voided ticket use up their numbers', async () => {
      const day = '2026-05-16';
      const sites = await registerSites(api.app);
      const plate = await registerCompactor(api.app);
      await recordAll(
        collectionLoad(sites, plate, 'A0001', `${day}T07:00:00+08:00`),
        rejectLoad(sites, plate, 'A0002', `${day}T07:20:00+08:00`),
        collectionLoad(sites, plate, 'A0003', `${day}T07:40:00+08:00`),
        collectionLoad(sites, plate, 'A0004', `${day}T08:00:00+08:00`),
        voidTicket({
          siteId: sites.stationId,
          ticketNo: 'A0004',
          voidedAt: `${day}T09:00:00+08:00`,
        }),
        collectionLoad(sites, plate, 'A0005', `${day}T08:20:00+08:00`),
      );

      await expectFindings({ from: day, to: day, siteId: sites.stationId }, []);
    });

    it('reports a gap across midnight on the day of the ticket before it', async () => {
      const day = '2026-05-20';
      const next = '2026-05-21';
      const sites = await registerSites(api.app);
      const plate = await registerCompactor(api.app);
      await recordAll(
        collectionLoad(sites, plate, 'N0041', `${day}T23:30:00+08:00`),
        // 16:10 UTC is 00:10 the next day in Shanghai.
        collectionLoad(sites, plate, 'N0043', `${day}T16:10:00Z`),
      );
      const expected = gap(sites.stationId, day, 'N0041', {
        prefix: 'N',
        missingFrom: 42,
        missingTo: 42,
      });

      await expectFindings({ from: day, to: day, siteId: sites.stationId }, [expected]);
      await expectFindings({ from: day, to: next, siteId: sites.stationId }, [expected]);
      await expectFindings({ from: next, to: next, siteId: sites.stationId }, []);
    });
  });

  describe.skipIf(skip)('short transfers', () => {
    /** A station, a plant and a container truck of the test's own. */
    async function transferScenario(): Promise<{ sites: Sites; truck: string }> {
      const sites = await registerSites(api.app);
      const truck = await registerContainerTruck(api.app);
      return { sites, truck };
    }

    function shortTransfer(
      sites: Sites,
      day: string,
      link: { outbound: string; inbound: string; dispatchedKg: number; receivedKg: number },
    ): Finding {
      return {
        kind: 'short_transfer',
        siteId: sites.stationId,
        day,
        ticketNo: link.outbound,
        details: {
          receivingSiteId: sites.plantId,
          inboundTicketNo: link.inbound,
          dispatchedKg: link.dispatchedKg,
          receivedKg: link.receivedKg,
          shortKg: link.dispatchedKg - link.receivedKg,
        },
      };
    }

    it('finds a plant receiving 8 900 kg of 10 000 dispatched (below 90 %)', async () => {
      const day = '2026-06-01';
      const { sites, truck } = await transferScenario();
      await recordAll(
        dispatch(sites, truck, 'OUT-0001', 10_000, `${day}T09:00:00+08:00`),
        receipt(sites, truck, 'IN-0001', 'OUT-0001', 8_900, `${day}T09:50:00+08:00`),
      );

      await expectFindings({ from: day, to: day, kind: 'short_transfer' }, [
        {
          kind: 'short_transfer',
          siteId: sites.stationId,
          day,
          ticketNo: 'OUT-0001',
          details: {
            receivingSiteId: sites.plantId,
            inboundTicketNo: 'IN-0001',
            dispatchedKg: 10_000,
            receivedKg: 8_900,
            shortKg: 1_100,
          },
        },
      ]);
    });

    it('finds nothing at exactly 90 % (9 000 of 10 000 kg)', async () => {
      const day = '2026-06-05';
      const { sites, truck } = await transferScenario();
      await recordAll(
        dispatch(sites, truck, 'OUT-0001', 10_000, `${day}T09:00:00+08:00`),
        receipt(sites, truck, 'IN-0001', 'OUT-0001', 9_000, `${day}T09:50:00+08:00`),
      );

      await expectFindings({ from: day, to: day, kind: 'short_transfer' }, []);
    });

    it('finds it when the outbound ticket is uploaded after the inbound one', async () => {
      const day = '2026-06-09';
      const { sites, truck } = await transferScenario();
      await recordAll(receipt(sites, truck, 'IN-0001', 'OUT-0001', 8_999, `${day}T09:50:00+08:00`));
      await expectFindings({ from: day, to: day, kind: 'short_transfer' }, []);

      await recordAll(dispatch(sites, truck, 'OUT-0001', 10_000, `${day}T09:00:00+08:00`));
      await expectFindings({ from: day, to: day, kind: 'short_transfer' }, [
        shortTransfer(sites, day, {
          outbound: 'OUT-0001',
          inbound: 'IN-0001',
          dispatchedKg: 10_000,
          receivedKg: 8_999,
        }),
      ]);
    });

    it('clears the finding when the inbound net is corrected up to 9 500 kg', async () => {
      const day = '2026-06-13';
      const { sites, truck } = await transferScenario();
      await recordAll(
        dispatch(sites, truck, 'OUT-0001', 10_000, `${day}T09:00:00+08:00`),
        receipt(sites, truck, 'IN-0001', 'OUT-0001', 8_900, `${day}T09:50:00+08:00`),
      );
      const query = { from: day, to: day, kind: 'short_transfer' };
      await expectFindings(query, [
        shortTransfer(sites, day, {
          outbound: 'OUT-0001',
          inbound: 'IN-0001',
          dispatchedKg: 10_000,
          receivedKg: 8_900,
        }),
      ]);

      await recordAll(
        correct({
          siteId: sites.plantId,
          ticketNo: 'IN-0001',
          grossKg: CONTAINER_TARE_KG + 9_500,
          correctedAt: `${day}T11:00:00+08:00`,
        }),
      );
      await expectFindings(query, []);
    });

    it('clears the finding when the inbound ticket is voided', async () => {
      const day = '2026-06-17';
      const { sites, truck } = await transferScenario();
      await recordAll(
        dispatch(sites, truck, 'OUT-0001', 10_000, `${day}T09:00:00+08:00`),
        receipt(sites, truck, 'IN-0001', 'OUT-0001', 8_900, `${day}T09:50:00+08:00`),
      );
      const query = { from: day, to: day, kind: 'short_transfer' };
      await expectFindings(query, [
        shortTransfer(sites, day, {
          outbound: 'OUT-0001',
          inbound: 'IN-0001',
          dispatchedKg: 10_000,
          receivedKg: 8_900,
        }),
      ]);

      await recordAll(
        voidTicket({
          siteId: sites.plantId,
          ticketNo: 'IN-0001',
          voidedAt: `${day}T11:00:00+08:00`,
        }),
      );
      await expectFindings(query, []);
    });

    it('follows a correction of the inbound origin to another outbound ticket', async () => {
      const day = '2026-06-21';
      const { sites, truck } = await transferScenario();
      await recordAll(
        dispatch(sites, truck, 'OUT-0001', 10_000, `${day}T09:00:00+08:00`),
        dispatch(sites, truck, 'OUT-0002', 12_000, `${day}T09:30:00+08:00`),
        // The plant's clerk typed the wrong outbound ticket: 8 900 of 10 000 looks short.
        receipt(sites, truck, 'IN-0001', 'OUT-0001', 8_900, `${day}T10:20:00+08:00`),
      );
      const query = { from: day, to: day, kind: 'short_transfer' };
      await expectFindings(query, [
        shortTransfer(sites, day, {
          outbound: 'OUT-0001',
          inbound: 'IN-0001',
          dispatchedKg: 10_000,
          receivedKg: 8_900,
        }),
      ]);

      // It was OUT-0002's container: 8 900 of 12 000 is short, OUT-0001 has no receipt yet.
      await recordAll({
        eventId: nextEventId(),
        type: 'CorrectTicket',
        data: {
          siteId: sites.plantId,
          ticketNo: 'IN-0001',
          origin: { kind: 'transfer', fromSiteId: sites.stationId, outboundTicketNo: 'OUT-0002' },
          reason: 'wrong outbound ticket number typed',
          approvedBy: 'Wang Lei',
          correctedAt: `${day}T11:00:00+08:00`,
        },
      });
      await expectFindings(query, [
        shortTransfer(sites, day, {
          outbound: 'OUT-0002',
          inbound: 'IN-0001',
          dispatchedKg: 12_000,
          receivedKg: 8_900,
        }),
      ]);
    });
    it('drops the link when a correction says the load came from collection after all', async () => {
      const day = '2026-06-25';
      const { sites, truck } = await transferScenario();
      await recordAll(
        dispatch(sites, truck, 'OUT-0001', 10_000, `${day}T09:00:00+08:00`),
        receipt(sites, truck, 'IN-0001', 'OUT-0001', 8_900, `${day}T09:50:00+08:00`),
      );
      const query = { from: day, to: day, kind: 'short_transfer' };
      await expectFindings(query, [
        shortTransfer(sites, day, {
          outbound: 'OUT-0001',
          inbound: 'IN-0001',
          dispatchedKg: 10_000,
          receivedKg: 8_900,
        }),
      ]);

      await recordAll({
        eventId: nextEventId(),
        type: 'CorrectTicket',
        data: {
          siteId: sites.plantId,
          ticketNo: 'IN-0001',
          origin: { kind: 'collection', districtId: sites.districtId },
          reason: 'a collection trip, not the transfer container',
          approvedBy: 'Wang Lei',
          correctedAt: `${day}T11:00:00+08:00`,
        },
      });
      await expectFindings(query, []);
    });
  });

  describe.skipIf(skip)('findings recorded with a weighing', () => {
    it('reports tare drift on the business day of the weigh-in, not of the weigh-out', async () => {
      const day = '2026-07-01';
      const sites = await registerSites(api.app);
      const plate = await registerCompactor(api.app);
      await recordAll(
        // 15:50 UTC is 23:50 in Shanghai; the weigh-out is after midnight, on 2 July.
        weighIn({
          siteId: sites.stationId,
          ticketNo: 'A0001',
          plate,
          grossKg: 16_000,
          weighedInAt: `${day}T15:50:00Z`,
          origin: { kind: 'collection', districtId: sites.districtId },
        }),
      );
      const out = await post(
        api.app,
        '/v1/weighings',
        weighOut({
          siteId: sites.stationId,
          ticketNo: 'A0001',
          tareKg: 10_450,
          weighedOutAt: '2026-07-02T00:20:00+08:00',
        }),
      );
      expect(out.statusCode).toBe(201);
      expect(out.body).toMatchObject({ findings: ['TareDriftFound'] });

      const expected: Finding = {
        kind: 'tare_drift',
        siteId: sites.stationId,
        day,
        ticketNo: 'A0001',
        details: {
          siteId: sites.stationId,
          ticketNo: 'A0001',
          plate,
          storedTareKg: 10_000,
          measuredTareKg: 10_450,
          driftKg: 450,
          toleranceKg: 200,
        },
      };
      await expectFindings({ from: day, to: day }, [expected]);
      await expectFindings({ from: '2026-07-02', to: '2026-07-02' }, []);
    });

    it('reports a repeat weighing of one plate at one site within five minutes', async () => {
      const day = '2026-07-05';
      const sites = await registerSites(api.app);
      const plate = await registerCompactor(api.app);
      await recordAll(collectionLoad(sites, plate, 'A0001', `${day}T10:00:00+08:00`));
      const again = await post(
        api.app,
        '/v1/weighings',
        collectionLoad(sites, plate, 'A0002', `${day}T10:03:00+08:00`),
      );
      expect(again.statusCode).toBe(201);
      expect(again.body).toMatchObject({ findings: ['RepeatWeighingSuspected'] });

      await expectFindings({ from: day, to: day }, [
        {
          kind: 'repeat_weighing',
          siteId: sites.stationId,
          day,
          ticketNo: 'A0002',
          details: {
            siteId: sites.stationId,
            ticketNo: 'A0002',
            plate,
            previousTicketNo: 'A0001',
            previousWeighedInAt: `${day}T10:00:00+08:00`,
            secondsApart: 180,
          },
        },
      ]);
    });
  });

  describe.skipIf(skip)('filters', () => {
    const day = '2026-07-13';
    let a: Sites;
    let b: Sites;
    let plate: string;
    let tareDrift: Finding;
    let repeat: Finding;
    let gapA: Finding;
    let gapB: Finding;

    beforeAll(async () => {
      if (skip) return;
      // `ts-a-…` sorts before `ts-b-…`: gaps are listed by site within a day.
      a = await registerSites(api.app, 'ts-a');
      b = await registerSites(api.app, 'ts-b');
      plate = await registerCompactor(api.app);
      await recordAll(
        collectionLoad(a, plate, 'A0001', `${day}T07:00:00+08:00`),
        // Three minutes later, the same plate again: a repeat weighing.
        collectionLoad(a, plate, 'A0002', `${day}T07:03:00+08:00`),
        weighIn({
          siteId: a.stationId,
          ticketNo: 'A0004',
          plate,
          grossKg: 16_000,
          weighedInAt: `${day}T08:00:00+08:00`,
          origin: { kind: 'collection', districtId: a.districtId },
        }),
        weighOut({
          siteId: a.stationId,
          ticketNo: 'A0004',
          tareKg: 9_700,
          weighedOutAt: `${day}T08:20:00+08:00`,
        }),
        collectionLoad(b, plate, 'B0010', `${day}T09:00:00+08:00`),
        collectionLoad(b, plate, 'B0013', `${day}T09:30:00+08:00`),
      );
      repeat = {
        kind: 'repeat_weighing',
        siteId: a.stationId,
        day,
        ticketNo: 'A0002',
        details: {
          siteId: a.stationId,
          ticketNo: 'A0002',
          plate,
          previousTicketNo: 'A0001',
          previousWeighedInAt: `${day}T07:00:00+08:00`,
          secondsApart: 180,
        },
      };
      tareDrift = {
        kind: 'tare_drift',
        siteId: a.stationId,
        day,
        ticketNo: 'A0004',
        details: {
          siteId: a.stationId,
          ticketNo: 'A0004',
          plate,
          storedTareKg: 10_000,
          measuredTareKg: 9_700,
          driftKg: -300,
          toleranceKg: 200,
        },
      };
      gapA = gap(a.stationId, day, 'A0002', { prefix: 'A', missingFrom: 3, missingTo: 3 });
      gapB = gap(b.stationId, day, 'B0010', { prefix: 'B', missingFrom: 11, missingTo: 12 });
    });

    it('lists every kind on the days asked, recorded findings first, then gaps by site', async () => {
      await expectFindings({ from: day, to: day }, [repeat, tareDrift, gapA, gapB]);
      await expectFindings({ from: '2026-07-11', to: '2026-07-15' }, [
        repeat,
        tareDrift,
        gapA,
        gapB,
      ]);
    });

    it('filters by kind, one or several, comma-separated', async () => {
      await expectFindings({ from: day, to: day, kind: 'ticket_gap' }, [gapA, gapB]);
      await expectFindings({ from: day, to: day, kind: 'tare_drift, repeat_weighing' }, [
        repeat,
        tareDrift,
      ]);
      await expectFindings({ from: day, to: day, kind: 'short_transfer' }, []);
    });

    it('filters by site', async () => {
      await expectFindings({ from: day, to: day, siteId: a.stationId }, [repeat, tareDrift, gapA]);
      await expectFindings({ from: day, to: day, siteId: b.stationId }, [gapB]);
      await expectFindings({ from: day, to: day, siteId: b.stationId, kind: 'tare_drift' }, []);
      await expectFindings({ from: day, to: day, siteId: 'ts-nowhere' }, []);
    });

    it('keeps to the date range', async () => {
      await expectFindings({ from: '2026-07-14', to: '2026-07-16' }, []);
      await expectFindings({ from: '2026-07-10', to: '2026-07-12' }, []);
    });

    it('answers an unknown kind with a 400 problem naming the field', async () => {
      const url = findingsUrl({ from: day, to: day, kind: 'ticket_gap,fraud' });
      const message =
        'Invalid option: expected one of "tare_drift"|"repeat_weighing"|"ticket_gap"|"short_transfer"|"over_capacity"|"raw_landfill"|"hazardous_not_forwarded"';
      expect(await get(api.app, url)).toEqual({
        statusCode: 400,
        contentType: 'application/problem+json; charset=utf-8',
        body: problemBody(
          'LEDGER_ERR_INVALID_INPUT',
          INVALID_INPUT,
          400,
          `querystring.kind[1]: ${message}`,
          { field: 'kind[1]', errors: [{ field: 'kind[1]', message }], instance: url },
        ),
      });
    });

    it('answers from after to with a 400 problem naming `to`', async () => {
      const url = findingsUrl({ from: '2026-07-14', to: '2026-07-13' });
      const response = await get(api.app, url);
      expect(response).toEqual({
        statusCode: 400,
        contentType: 'application/problem+json; charset=utf-8',
        body: problemBody(
          'LEDGER_ERR_INVALID_INPUT',
          INVALID_INPUT,
          400,
          'querystring.to: must not be before from',
          {
            field: 'to',
            errors: [{ field: 'to', message: 'must not be before from' }],
            instance: url,
          },
        ),
      });
    });

    it('answers a missing or impossible date with a 400 problem naming it', async () => {
      const missing = findingsUrl({ to: day });
      const message = 'Invalid input: expected string, received undefined';
      expect(await get(api.app, missing)).toEqual({
        statusCode: 400,
        contentType: 'application/problem+json; charset=utf-8',
        body: problemBody(
          'LEDGER_ERR_INVALID_INPUT',
          INVALID_INPUT,
          400,
          `querystring.from: ${message}`,
          { field: 'from', errors: [{ field: 'from', message }], instance: missing },
        ),
      });

      const impossible = findingsUrl({ from: '2026-02-30', to: day });
      const feb30 = await get(api.app, impossible);
      expect(feb30).toEqual({
        statusCode: 400,
        contentType: 'application/problem+json; charset=utf-8',
        body: problemBody(
          'LEDGER_ERR_INVALID_INPUT',
          INVALID_INPUT,
          400,
          'querystring.from: is not a real date',
          {
            field: 'from',
            errors: [{ field: 'from', message: 'is not a real date' }],
            instance: impossible,
          },
        ),
      });
    });

    it('answers 503 when the projection has not reached minPosition in time', async () => {
      await api.runner.catchUp();
      const checkpoint = await headPosition(api.app);
      const url = findingsUrl({ from: day, to: day, minPosition: checkpoint + 1, waitMs: 0 });
      const response = await get(api.app, url);
      expect(response).toEqual({
        statusCode: 503,
        contentType: 'application/problem+json; charset=utf-8',
        body: problemBody(
          'LEDGER_ERR_NOT_CAUGHT_UP',
          'The projection has not reached the requested position yet',
          503,
          `Findings reflect the log up to ${checkpoint}, not yet ${checkpoint + 1}`,
          { checkpoint, minPosition: checkpoint + 1, instance: url },
        ),
      });
    });
  });

  describe.skipIf(skip)('read-your-writes', () => {
    it('waits for a runner in the background to reach minPosition', async () => {
      const day = '2026-07-21';
      const sites = await registerSites(api.app);
      const plate = await registerCompactor(api.app);
      await recordAll(
        collectionLoad(sites, plate, 'A0001', `${day}T07:00:00+08:00`),
        collectionLoad(sites, plate, 'A0003', `${day}T07:20:00+08:00`),
      );
      const head = await headPosition(api.app);
      const background = new AbortController();
      const running = api.runner.run(background.signal, 10);
      try {
        const response = await get(
          api.app,
          findingsUrl({ from: day, to: day, siteId: sites.stationId, minPosition: head }),
        );
        expect(response.statusCode).toBe(200);
        const body = response.body as { checkpoint: number };
        expect(body.checkpoint).toBeGreaterThanOrEqual(head);
        expect(body).toEqual({
          findings: [
            gap(sites.stationId, day, 'A0001', { prefix: 'A', missingFrom: 2, missingTo: 2 }),
          ],
          checkpoint: body.checkpoint,
        });
      } finally {
        background.abort();
        await running;
      }
    });
  });
});
