import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeEventStoreDbHarness } from '../support/eventstoredb.js';
import { batchResponseSchema } from '../../src/api/reports/report-routes.js';
import { readLog } from '../projections/fixtures.js';
import { pgliteHarness, postgresAvailable, postgresHarness } from '../support/databases.js';
import {
  correct,
  districtBody,
  expectRefused,
  get,
  headPosition,
  incinerationPlantBody,
  nextId,
  nextPlate,
  nextTicketNo,
  onePass,
  openApi,
  post,
  problemBody,
  record,
  registerScenario,
  registerVehicle,
  tonnage,
  transferStationBody,
  vehicleBody,
  voidTicket,
  weighIn,
  weighOut,
  type Api,
  type Scenario,
} from './fixtures.js';

const postgres = await postgresAvailable();

const INVALID_INPUT = 'The input is not valid';

describe.each([
  { harness: pgliteHarness, skip: false },
  { harness: postgresHarness, skip: !postgres },
  // The log in EventStoreDB (its protocol fake), read models in PostgreSQL or PGlite.
  { harness: fakeEventStoreDbHarness, skip: false },
])('weighing API on $harness.name', ({ harness, skip }) => {
  let api: Api;

  beforeAll(async () => {
    if (!skip) api = await openApi(harness);
  });
  afterAll(async () => {
    if (!skip) await api.close();
  });

  describe.skipIf(skip)('master data', () => {
    it('registers a district, sites and a vehicle once; the same body again is a 200 no-op', async () => {
      const districtId = nextId('licheng');
      const stationId = nextId('ts-licheng');
      const plantId = nextId('inc-licheng');
      const plate = nextPlate();
      const bodies = [
        ['/v1/districts', districtBody(districtId), `district-${districtId}`],
        ['/v1/sites', transferStationBody(stationId, districtId), `site-${stationId}`],
        ['/v1/sites', incinerationPlantBody(plantId, districtId), `site-${plantId}`],
        ['/v1/vehicles', vehicleBody(plate), `vehicle-${plate}`],
      ] as const;
      for (const [url, body, streamId] of bodies) {
        const head = await headPosition(api.app);
        const first = await post(api.app, url, body);
        expect(first).toEqual({
          statusCode: 201,
          contentType: 'application/json; charset=utf-8',
          body: { streamId, revision: 0, position: head + 1, duplicate: false },
        });
        const again = await post(api.app, url, body);
        expect(again).toEqual({
          statusCode: 200,
          contentType: 'application/json; charset=utf-8',
          body: { streamId, revision: 0, position: head + 1, duplicate: true },
        });
      }

      const site = await get(api.app, `/v1/sites/${plantId}`);
      expect(site.statusCode).toBe(200);
      expect(site.body).toEqual(incinerationPlantBody(plantId, districtId));
      const vehicle = await get(api.app, `/v1/vehicles/${encodeURIComponent(plate)}`);
      expect(vehicle.statusCode).toBe(200);
      expect(vehicle.body).toEqual(vehicleBody(plate));
    });

    it('answers an unknown site with a 404 problem', async () => {
      const response = await get(api.app, '/v1/sites/ts-nowhere');
      expect(response.statusCode).toBe(404);
      expect(response.body).toEqual(
        problemBody('LEDGER_ERR_NOT_FOUND', 'Not found', 404, 'No site ts-nowhere', {
          instance: '/v1/sites/ts-nowhere',
        }),
      );
    });
  });

  describe.skipIf(skip)('one report at a time', () => {
    let s: Scenario;
    beforeAll(async () => {
      s = await registerScenario(api.app);
    });

    it('records a two-pass ticket (201), and answers a retry with 200 duplicate and the original place', async () => {
      const ticketNo = nextTicketNo();
      const streamId = `ticket-${s.stationId}-${ticketNo}`;
      const inReport = weighIn({
        siteId: s.stationId,
        ticketNo,
        plate: s.plate,
        grossKg: 16_420,
        weighedInAt: '2026-03-03T08:15:00+08:00',
        origin: s.collection,
      });
      const outReport = weighOut({
        siteId: s.stationId,
        ticketNo,
        tareKg: 10_080,
        weighedOutAt: '2026-03-03T08:31:12+08:00',
      });

      const head = await headPosition(api.app);
      const weighedIn = await post(api.app, '/v1/weighings', inReport);
      expect(weighedIn).toEqual({
        statusCode: 201,
        contentType: 'application/json; charset=utf-8',
        body: {
          status: 'recorded',
          eventId: inReport.eventId,
          streamId,
          revision: 0,
          position: head + 1,
          findings: [],
        },
      });
      // The weigh-in also opens the plate's gate at the site: one more event.
      expect(await headPosition(api.app)).toBe(head + 2);

      const weighedOut = await post(api.app, '/v1/weighings', outReport);
      expect(weighedOut.statusCode).toBe(201);
      expect(weighedOut.body).toEqual({
        status: 'recorded',
        eventId: outReport.eventId,
        streamId,
        revision: 1,
        position: head + 3,
        findings: [],
      });
      const headAfter = await headPosition(api.app);
      expect(headAfter).toBe(head + 4);

      const retriedIn = await post(api.app, '/v1/weighings', inReport);
      expect(retriedIn.statusCode).toBe(200);
      expect(retriedIn.body).toEqual({
        status: 'duplicate',
        eventId: inReport.eventId,
        streamId,
        revision: 0,
        position: head + 1,
        findings: [],
      });
      const retriedOut = await post(api.app, '/v1/weighings', outReport);
      expect(retriedOut.statusCode).toBe(200);
      expect(retriedOut.body).toEqual({ ...weighedOut.body!, status: 'duplicate' });
      // A retry with the id in upper case is the same event.
      const shouted = await post(api.app, '/v1/weighings', {
        ...outReport,
        eventId: outReport.eventId.toUpperCase(),
      });
      expect(shouted.statusCode).toBe(200);
      expect(shouted.body).toEqual({ ...weighedOut.body!, status: 'duplicate' });
      expect(await headPosition(api.app)).toBe(headAfter);

      const events = (await readLog(api.ledger.store)).filter((e) => e.position > head);
      expect(events.map((e) => [e.position, e.streamId, e.type, e.id])).toEqual([
        [head + 1, streamId, 'VehicleWeighedIn', inReport.eventId],
        [head + 2, `gate-${s.stationId}-${s.plate}`, 'PlateWeighedInAtGate', expect.any(String)],
        [head + 3, streamId, 'VehicleWeighedOut', outReport.eventId],
        [head + 4, `gate-${s.stationId}-${s.plate}`, 'PlateTicketClosedAtGate', expect.any(String)],
      ]);
      expect(events[2]?.data).toEqual({
        siteId: s.stationId,
        ticketNo,
        tareKg: 10_080,
        tareSource: 'measured',
        weighedOutAt: '2026-03-03T08:31:12+08:00',
        netKg: 6_340,
      });
    });

    it('refuses the same event id with other content: 409 LEDGER_ERR_EVENT_ID_CONFLICT', async () => {
      const ticketNo = nextTicketNo();
      const report = weighIn({
        siteId: s.stationId,
        ticketNo,
        plate: s.plate,
        grossKg: 15_000,
        weighedInAt: '2026-03-03T09:15:00+08:00',
        origin: s.collection,
      });
      await record(api.app, report);
      await expectRefused(
        api.app,
        () =>
          post(api.app, '/v1/weighings', { ...report, data: { ...report.data, grossKg: 15_100 } }),
        problemBody(
          'LEDGER_ERR_EVENT_ID_CONFLICT',
          'An event with this id is already stored with other content or at another place',
          409,
          `Event ${report.eventId} was already recorded with other content`,
          { field: 'eventId', eventId: report.eventId, instance: '/v1/weighings' },
        ),
      );
      // Close the ticket so the plate is free for the next test.
      await record(
        api.app,
        weighOut({
          siteId: s.stationId,
          ticketNo,
          tareKg: 10_000,
          weighedOutAt: '2026-03-03T09:30:00+08:00',
        }),
      );
    });

    it('refuses an event id already used on another ticket with the same problem', async () => {
      const plate = await registerVehicle(api.app);
      const first = onePass({
        siteId: s.stationId,
        ticketNo: nextTicketNo(),
        plate,
        grossKg: 14_000,
        tareKg: 10_000,
        weighedInAt: '2026-03-03T10:00:00+08:00',
        origin: s.collection,
      });
      await record(api.app, first);
      const otherTicketNo = nextTicketNo();
      await expectRefused(
        api.app,
        () =>
          post(api.app, '/v1/weighings', {
            ...first,
            data: {
              ...first.data,
              ticketNo: otherTicketNo,
              weighedInAt: '2026-03-03T11:00:00+08:00',
            },
          }),
        problemBody(
          'LEDGER_ERR_EVENT_ID_CONFLICT',
          'An event with this id is already stored with other content or at another place',
          409,
          `Event ${first.eventId} was already recorded with other content`,
          { field: 'eventId', eventId: first.eventId, instance: '/v1/weighings' },
        ),
      );
    });

    it('refuses an event id already used for another vehicle, in streams the report does not touch', async () => {
      // Ticket and gate streams are both new here: only the ledger-wide id lookup can tell.
      const first = onePass({
        siteId: s.stationId,
        ticketNo: nextTicketNo(),
        plate: await registerVehicle(api.app),
        grossKg: 14_000,
        tareKg: 10_000,
        weighedInAt: '2026-03-03T12:00:00+08:00',
        origin: s.collection,
      });
      await record(api.app, first);
      const otherPlate = await registerVehicle(api.app);
      await expectRefused(
        api.app,
        () =>
          post(api.app, '/v1/weighings', {
            ...first,
            data: { ...first.data, ticketNo: nextTicketNo(), plate: otherPlate },
          }),
        problemBody(
          'LEDGER_ERR_EVENT_ID_CONFLICT',
          'An event with this id is already stored with other content or at another place',
          409,
          `Event ${first.eventId} was already recorded with other content`,
          { field: 'eventId', eventId: first.eventId, instance: '/v1/weighings' },
        ),
      );
    });

    it('reports a measured tare that drifts beyond tolerance as a finding, and a retry reports it again', async () => {
      const plate = await registerVehicle(api.app);
      const ticketNo = nextTicketNo();
      await record(
        api.app,
        weighIn({
          siteId: s.stationId,
          ticketNo,
          plate,
          grossKg: 17_200,
          weighedInAt: '2026-03-03T12:00:00+08:00',
          origin: s.collection,
        }),
      );
      // Stored tare 10 000 kg, tolerance 200 kg: 10 201 kg drifts 201 kg.
      const out = weighOut({
        siteId: s.stationId,
        ticketNo,
        tareKg: 10_201,
        weighedOutAt: '2026-03-03T12:20:00+08:00',
      });
      const head = await headPosition(api.app);
      const recorded = await record(api.app, out);
      expect(recorded).toEqual({
        status: 'recorded',
        eventId: out.eventId,
        streamId: `ticket-${s.stationId}-${ticketNo}`,
        revision: 1,
        position: head + 1,
        findings: ['TareDriftFound'],
      });
      const drift = (await readLog(api.ledger.store)).find((e) => e.position === head + 2);
      expect(drift).toMatchObject({
        type: 'TareDriftFound',
        revision: 2,
        data: {
          siteId: s.stationId,
          ticketNo,
          plate,
          storedTareKg: 10_000,
          measuredTareKg: 10_201,
          driftKg: 201,
          toleranceKg: 200,
        },
      });

      const retry = await post(api.app, '/v1/weighings', out);
      expect(retry.statusCode).toBe(200);
      expect(retry.body).toEqual({ ...recorded, status: 'duplicate' });
    });

    it('records a tare within tolerance without findings', async () => {
      const plate = await registerVehicle(api.app);
      const ticketNo = nextTicketNo();
      await record(
        api.app,
        weighIn({
          siteId: s.stationId,
          ticketNo,
          plate,
          grossKg: 17_200,
          weighedInAt: '2026-03-03T13:00:00+08:00',
          origin: s.collection,
        }),
      );
      const recorded = await record(
        api.app,
        weighOut({
          siteId: s.stationId,
          ticketNo,
          tareKg: 9_800,
          weighedOutAt: '2026-03-03T13:20:00+08:00',
        }),
      );
      expect(recorded.findings).toEqual([]);
    });
  });

  describe.skipIf(skip)('rule violations answer their problem and write nothing', () => {
    let s: Scenario;
    beforeAll(async () => {
      s = await registerScenario(api.app);
    });

    function firstPass(overrides: Record<string, unknown> = {}) {
      return weighIn({
        siteId: s.stationId,
        ticketNo: nextTicketNo(),
        plate: s.plate,
        grossKg: 15_000,
        weighedInAt: '2026-03-04T08:00:00+08:00',
        origin: s.collection,
        ...overrides,
      });
    }

    it('tare not below gross on a weigh-out: 422 LEDGER_ERR_TARE_NOT_BELOW_GROSS', async () => {
      const plate = await registerVehicle(api.app);
      const ticketNo = nextTicketNo();
      await record(api.app, firstPass({ ticketNo, plate, grossKg: 12_000 }));
      await expectRefused(
        api.app,
        () =>
          post(
            api.app,
            '/v1/weighings',
            weighOut({
              siteId: s.stationId,
              ticketNo,
              tareKg: 12_000,
              weighedOutAt: '2026-03-04T08:20:00+08:00',
            }),
          ),
        problemBody(
          'LEDGER_ERR_TARE_NOT_BELOW_GROSS',
          'The tare is not below the gross weight',
          422,
          'Tare 12000 kg is not below gross 12000 kg',
          { field: 'tareKg', instance: '/v1/weighings' },
        ),
      );
    });

    it('tare above gross on a one-pass weighing: 422 LEDGER_ERR_TARE_NOT_BELOW_GROSS', async () => {
      const report = onePass({
        siteId: s.stationId,
        ticketNo: nextTicketNo(),
        plate: s.plate,
        grossKg: 9_000,
        tareKg: 10_000,
        weighedInAt: '2026-03-04T08:00:00+08:00',
        origin: s.collection,
      });
      await expectRefused(
        api.app,
        () => post(api.app, '/v1/weighings', report),
        problemBody(
          'LEDGER_ERR_TARE_NOT_BELOW_GROSS',
          'The tare is not below the gross weight',
          422,
          'Tare 10000 kg is not below gross 9000 kg',
          { field: 'tareKg', instance: '/v1/weighings' },
        ),
      );
    });

    it('gross above the legal limit for the axles: 422 LEDGER_ERR_OVER_LEGAL_LIMIT', async () => {
      await expectRefused(
        api.app,
        () => post(api.app, '/v1/weighings', firstPass({ grossKg: 18_001 })),
        problemBody(
          'LEDGER_ERR_OVER_LEGAL_LIMIT',
          "The gross weight is above the vehicle's legal limit",
          422,
          'Gross 18001 kg is above the legal limit of 18000 kg for 2 axles',
          { field: 'grossKg', limitKg: 18_000, instance: '/v1/weighings' },
        ),
      );
    });

    it('a category the site does not accept: 422 LEDGER_ERR_NOT_ACCEPTED', async () => {
      await expectRefused(
        api.app,
        () =>
          post(
            api.app,
            '/v1/weighings',
            firstPass({ load: { kind: 'waste', category: 'hazardous', subtype: 'batteries' } }),
          ),
        problemBody(
          'LEDGER_ERR_NOT_ACCEPTED',
          'The site does not accept this material',
          422,
          `Site ${s.stationId} does not accept hazardous`,
          { field: 'load', instance: '/v1/weighings' },
        ),
      );
    });

    it('a weigh-out without a weigh-in: 409 LEDGER_ERR_TICKET_NOT_OPEN', async () => {
      const ticketNo = nextTicketNo();
      await expectRefused(
        api.app,
        () =>
          post(
            api.app,
            '/v1/weighings',
            weighOut({
              siteId: s.stationId,
              ticketNo,
              tareKg: 10_000,
              weighedOutAt: '2026-03-04T08:20:00+08:00',
            }),
          ),
        problemBody(
          'LEDGER_ERR_TICKET_NOT_OPEN',
          'The ticket is not open',
          409,
          `Ticket ${ticketNo} at ${s.stationId} has no open weigh-in (it is none)`,
          { field: 'ticketNo', instance: '/v1/weighings' },
        ),
      );
    });

    it('a second open ticket for the same plate at the site: 409 LEDGER_ERR_PLATE_HAS_OPEN_TICKET', async () => {
      const plate = await registerVehicle(api.app);
      const open = nextTicketNo();
      await record(api.app, firstPass({ ticketNo: open, plate }));
      await expectRefused(
        api.app,
        () =>
          post(
            api.app,
            '/v1/weighings',
            firstPass({ plate, weighedInAt: '2026-03-04T09:00:00+08:00' }),
          ),
        problemBody(
          'LEDGER_ERR_PLATE_HAS_OPEN_TICKET',
          'The vehicle already has an open ticket at this site',
          409,
          `Vehicle ${plate} already has open ticket ${open} at ${s.stationId}`,
          { field: 'plate', openTicketNo: open, instance: '/v1/weighings' },
        ),
      );
    });

    it('a timestamp without an offset: 400 naming data.weighedInAt', async () => {
      const message =
        'must be an ISO 8601 date-time with an offset, e.g. 2026-03-03T08:15:00+08:00';
      await expectRefused(
        api.app,
        () => post(api.app, '/v1/weighings', firstPass({ weighedInAt: '2026-03-04T08:00:00' })),
        problemBody(
          'LEDGER_ERR_INVALID_INPUT',
          INVALID_INPUT,
          400,
          `body.data.weighedInAt: ${message}`,
          {
            field: 'data.weighedInAt',
            errors: [{ field: 'data.weighedInAt', message }],
            instance: '/v1/weighings',
          },
        ),
      );
    });

    it('an impossible calendar date (30 February): 400 naming data.weighedInAt', async () => {
      const message = 'is not a real date-time';
      await expectRefused(
        api.app,
        () =>
          post(api.app, '/v1/weighings', firstPass({ weighedInAt: '2026-02-30T08:00:00+08:00' })),
        problemBody(
          'LEDGER_ERR_INVALID_INPUT',
          INVALID_INPUT,
          400,
          `body.data.weighedInAt: ${message}`,
          {
            field: 'data.weighedInAt',
            errors: [{ field: 'data.weighedInAt', message }],
            instance: '/v1/weighings',
          },
        ),
      );
    });

    it('a time more than 10 minutes ahead of the ledger clock: 422 LEDGER_ERR_TIME_IN_FUTURE', async () => {
      const at = new Date(Date.now() + 11 * 60_000).toISOString();
      await expectRefused(
        api.app,
        () => post(api.app, '/v1/weighings', firstPass({ weighedInAt: at })),
        problemBody(
          'LEDGER_ERR_TIME_IN_FUTURE',
          "The time is more than 10 minutes ahead of the ledger's clock",
          422,
          `weighedInAt ${at} is more than 10 minutes ahead of the ledger's clock`,
          { field: 'weighedInAt', instance: '/v1/weighings' },
        ),
      );
    });

    it('an unknown site: 422 LEDGER_ERR_UNKNOWN_SITE', async () => {
      await expectRefused(
        api.app,
        () => post(api.app, '/v1/weighings', firstPass({ siteId: 'ts-never-registered' })),
        problemBody(
          'LEDGER_ERR_UNKNOWN_SITE',
          'The site is not registered',
          422,
          'Site ts-never-registered is not registered',
          { field: 'siteId', instance: '/v1/weighings' },
        ),
      );
    });

    it('an unknown vehicle: 422 LEDGER_ERR_UNKNOWN_VEHICLE', async () => {
      await expectRefused(
        api.app,
        () => post(api.app, '/v1/weighings', firstPass({ plate: '津Z99999' })),
        problemBody(
          'LEDGER_ERR_UNKNOWN_VEHICLE',
          'The vehicle is not registered',
          422,
          'Vehicle 津Z99999 is not registered',
          { field: 'plate', instance: '/v1/weighings' },
        ),
      );
    });

    it.each([
      { what: 'fractional', grossKg: 15_000.5, message: 'must be a whole number of kilograms' },
      { what: 'negative', grossKg: -15_000, message: 'must be more than 0 kg' },
      { what: 'zero', grossKg: 0, message: 'must be more than 0 kg' },
      {
        what: 'NaN as a string',
        grossKg: 'NaN',
        message: 'Invalid input: expected number, received string',
      },
      {
        what: 'a number as a string',
        grossKg: '15000',
        message: 'Invalid input: expected number, received string',
      },
    ])('$what kilograms: 400 naming data.grossKg', async ({ grossKg, message }) => {
      await expectRefused(
        api.app,
        () => post(api.app, '/v1/weighings', firstPass({ grossKg })),
        problemBody(
          'LEDGER_ERR_INVALID_INPUT',
          INVALID_INPUT,
          400,
          `body.data.grossKg: ${message}`,
          {
            field: 'data.grossKg',
            errors: [{ field: 'data.grossKg', message }],
            instance: '/v1/weighings',
          },
        ),
      );
    });
  });

  describe.skipIf(skip)('batches', () => {
    let s: Scenario;
    beforeAll(async () => {
      s = await registerScenario(api.app);
    });

    it('answers one result per item, in order: recorded, duplicate and rejected, and stores the recorded ones', async () => {
      const plates = [
        await registerVehicle(api.app),
        await registerVehicle(api.app),
        await registerVehicle(api.app),
      ] as const;
      const at = '2026-03-05T07:00:00+08:00';
      const collectedBy = (plate: string, grossKg: unknown) =>
        onePass({
          siteId: s.stationId,
          ticketNo: nextTicketNo(),
          plate,
          grossKg,
          tareKg: 10_000,
          weighedInAt: at,
          origin: s.collection,
        });
      const stored = collectedBy(s.plate, 13_000);
      const storedOutcome = await record(api.app, stored);

      const first = collectedBy(plates[0], 14_000);
      const second = collectedBy(plates[1], 15_000);
      const malformed = collectedBy(plates[2], 15_000.25);
      const overLimit = collectedBy(plates[2], 19_500);
      const third = collectedBy(plates[2], 16_000);
      const items = [first, second, malformed, first, stored, overLimit, third];

      const head = await headPosition(api.app);
      const response = await post(api.app, '/v1/weighings/batch', { items });
      expect(response.statusCode).toBe(200);
      // Written without zod on the way out: it must still be exactly what OpenAPI documents.
      expect(batchResponseSchema.parse(response.body)).toEqual(response.body);
      const recorded = (report: typeof first, index: number, position: number) => ({
        index,
        status: 'recorded',
        eventId: report.eventId,
        streamId: `ticket-${s.stationId}-${String(report.data.ticketNo)}`,
        revision: 0,
        position,
        findings: [],
      });
      // Ticket events are appended first, in item order; the gate events follow them.
      expect(response.body).toEqual({
        results: [
          recorded(first, 0, head + 1),
          recorded(second, 1, head + 2),
          {
            index: 2,
            status: 'rejected',
            problem: problemBody(
              'LEDGER_ERR_INVALID_INPUT',
              INVALID_INPUT,
              400,
              'must be a whole number of kilograms',
              { field: 'items[2].data.grossKg' },
            ),
          },
          { ...recorded(first, 3, head + 1), status: 'duplicate' },
          { ...storedOutcome, index: 4, status: 'duplicate' },
          {
            index: 5,
            eventId: overLimit.eventId,
            status: 'rejected',
            problem: problemBody(
              'LEDGER_ERR_OVER_LEGAL_LIMIT',
              "The gross weight is above the vehicle's legal limit",
              422,
              'Gross 19500 kg is above the legal limit of 18000 kg for 2 axles',
              { field: 'grossKg', limitKg: 18_000 },
            ),
          },
          recorded(third, 6, head + 3),
        ],
        headPosition: head + 6,
      });

      const events = (await readLog(api.ledger.store)).filter((e) => e.position > head);
      expect(events.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6].map((k) => head + k));
      expect(events.slice(0, 3).map((e) => [e.id, e.type, e.data.netKg])).toEqual([
        [first.eventId, 'VehicleWeighedOnePass', 4_000],
        [second.eventId, 'VehicleWeighedOnePass', 5_000],
        [third.eventId, 'VehicleWeighedOnePass', 6_000],
      ]);
      expect(events.slice(3).map((e) => e.type)).toEqual([
        'PlateWeighedInAtGate',
        'PlateWeighedInAtGate',
        'PlateWeighedInAtGate',
      ]);

      // The whole batch again: every item answers as before, and nothing is written.
      const retried = await post(api.app, '/v1/weighings/batch', { items });
      expect(retried.statusCode).toBe(200);
      const body = response.body as { results: { status: string }[] };
      expect(retried.body).toEqual({
        results: body.results.map((r) =>
          r.status === 'recorded' ? { ...r, status: 'duplicate' } : r,
        ),
        headPosition: head + 6,
      });
    });

    it('sees earlier items of the batch: a weigh-in and its weigh-out in one batch', async () => {
      const plate = await registerVehicle(api.app);
      const ticketNo = nextTicketNo();
      const items = [
        weighIn({
          siteId: s.stationId,
          ticketNo,
          plate,
          grossKg: 16_000,
          weighedInAt: '2026-03-05T09:00:00+08:00',
          origin: s.collection,
        }),
        weighOut({
          siteId: s.stationId,
          ticketNo,
          tareKg: 10_050,
          weighedOutAt: '2026-03-05T09:12:00+08:00',
        }),
      ];
      const head = await headPosition(api.app);
      const response = await post(api.app, '/v1/weighings/batch', { items });
      const streamId = `ticket-${s.stationId}-${ticketNo}`;
      expect(response).toMatchObject({ statusCode: 200 });
      expect(response.body).toEqual({
        results: [
          {
            index: 0,
            status: 'recorded',
            eventId: items[0]!.eventId,
            streamId,
            revision: 0,
            position: head + 1,
            findings: [],
          },
          {
            index: 1,
            status: 'recorded',
            eventId: items[1]!.eventId,
            streamId,
            revision: 1,
            position: head + 2,
            findings: [],
          },
        ],
        headPosition: head + 4,
      });
    });

    it('rejects an item reusing a stored event id on another ticket, and records the others', async () => {
      const plate = await registerVehicle(api.app);
      const stored = onePass({
        siteId: s.stationId,
        ticketNo: nextTicketNo(),
        plate,
        grossKg: 14_000,
        tareKg: 10_000,
        weighedInAt: '2026-03-05T10:00:00+08:00',
        origin: s.collection,
      });
      await record(api.app, stored);
      const good = onePass({
        siteId: s.stationId,
        ticketNo: nextTicketNo(),
        plate,
        grossKg: 15_000,
        tareKg: 10_000,
        weighedInAt: '2026-03-05T11:00:00+08:00',
        origin: s.collection,
      });
      const reused = {
        ...stored,
        data: {
          ...stored.data,
          ticketNo: nextTicketNo(),
          weighedInAt: '2026-03-05T12:00:00+08:00',
        },
      };
      const head = await headPosition(api.app);
      const response = await post(api.app, '/v1/weighings/batch', { items: [good, reused] });
      expect(response.statusCode).toBe(200);
      expect(response.body).toEqual({
        results: [
          {
            index: 0,
            status: 'recorded',
            eventId: good.eventId,
            streamId: `ticket-${s.stationId}-${String(good.data.ticketNo)}`,
            revision: 0,
            position: head + 1,
            findings: [],
          },
          {
            index: 1,
            eventId: stored.eventId,
            status: 'rejected',
            problem: problemBody(
              'LEDGER_ERR_EVENT_ID_CONFLICT',
              'An event with this id is already stored with other content or at another place',
              409,
              `Event ${stored.eventId} was already recorded with other content`,
              { field: 'eventId', eventId: stored.eventId },
            ),
          },
        ],
        headPosition: head + 2,
      });
    });

    it('refuses more than 1 000 items with 400 and writes nothing', async () => {
      const items = Array.from({ length: 1001 }, () =>
        onePass({
          siteId: s.stationId,
          ticketNo: nextTicketNo(),
          plate: s.plate,
          grossKg: 14_000,
          tareKg: 10_000,
          weighedInAt: '2026-03-05T13:00:00+08:00',
          origin: s.collection,
        }),
      );
      const message = 'Too big: expected array to have <=1000 items';
      await expectRefused(
        api.app,
        () => post(api.app, '/v1/weighings/batch', { items }),
        problemBody('LEDGER_ERR_INVALID_INPUT', INVALID_INPUT, 400, `body.items: ${message}`, {
          field: 'items',
          errors: [{ field: 'items', message }],
          instance: '/v1/weighings/batch',
        }),
      );
    });
  });

  describe.skipIf(skip)('tonnage follows one-pass weighings, corrections and voids', () => {
    it('counts a one-pass ticket, moves it on correction, and drops it on void', async () => {
      const s = await registerScenario(api.app);
      const ticketNo = nextTicketNo();
      const query = {
        from: '2026-03-06',
        to: '2026-03-06',
        groupBy: 'day,material,flow',
        siteId: s.plantId,
      };
      await record(
        api.app,
        onePass({
          siteId: s.plantId,
          ticketNo,
          plate: s.plate,
          grossKg: 17_350,
          tareKg: 10_000,
          tareSource: 'stored',
          weighedInAt: '2026-03-06T10:05:00+08:00',
          origin: s.collection,
        }),
      );
      const row = (material: string, flow: string, netKg: number, tonnesShown: string) => ({
        day: '2026-03-06',
        material,
        flow,
        netKg,
        tonnes: tonnesShown,
        tickets: 1,
      });
      expect(await tonnage(api, query)).toEqual({
        rows: [
          row('residual', 'collected', 7_350, '7.350'),
          row('residual', 'treatment_intake', 7_350, '7.350'),
        ],
        totalKg: 14_700,
        totalTonnes: '14.700',
        checkpoint: await headPosition(api.app),
      });

      await record(
        api.app,
        correct({
          siteId: s.plantId,
          ticketNo,
          grossKg: 17_450,
          load: { kind: 'waste', category: 'kitchen' },
          correctedAt: '2026-03-07T09:00:00+08:00',
        }),
      );
      expect(await tonnage(api, query)).toEqual({
        rows: [
          row('kitchen', 'collected', 7_450, '7.450'),
          row('kitchen', 'treatment_intake', 7_450, '7.450'),
        ],
        totalKg: 14_900,
        totalTonnes: '14.900',
        checkpoint: await headPosition(api.app),
      });

      await record(
        api.app,
        voidTicket({ siteId: s.plantId, ticketNo, voidedAt: '2026-03-07T10:00:00+08:00' }),
      );
      expect(await tonnage(api, query)).toEqual({
        rows: [],
        totalKg: 0,
        totalTonnes: '0.000',
        checkpoint: await headPosition(api.app),
      });
    });
  });

  describe.skipIf(skip)('documentation and probes', () => {
    it('serves the OpenAPI document with a path per route, and the docs page', async () => {
      const response = await api.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(response.statusCode).toBe(200);
      const document = JSON.parse(response.body) as {
        openapi: string;
        info: { title: string };
        paths: Record<string, Record<string, unknown>>;
      };
      expect(document.openapi).toMatch(/^3\./);
      expect(document.info.title).toBe('Waste ledger');
      const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
      );
      expect(operations).toEqual(
        expect.arrayContaining([
          'POST /v1/districts',
          'POST /v1/sites',
          'POST /v1/vehicles',
          'GET /v1/sites/{siteId}',
          'POST /v1/weighings',
          'POST /v1/weighings/batch',
          'GET /v1/tonnage',
          'GET /health',
          'GET /health/live',
          'GET /health/ready',
        ]),
      );

      const docs = await api.app.inject({ method: 'GET', url: '/docs' });
      expect(docs.statusCode).toBe(200);
      expect(docs.headers['content-type']).toMatch(/^text\/html/);
    });

    it('answers liveness and readiness', async () => {
      expect(await get(api.app, '/health/live')).toEqual({
        statusCode: 200,
        contentType: 'application/json; charset=utf-8',
        body: { status: 'ok' },
      });
      expect(await get(api.app, '/health/ready')).toEqual({
        statusCode: 200,
        contentType: 'application/json; charset=utf-8',
        body: { status: 'ready', headPosition: await headPosition(api.app) },
      });
    });
  });
});
