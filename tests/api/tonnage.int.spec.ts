import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointOf } from '../projections/fixtures.js';
import { dailyTonnage } from '../../src/projections/daily-tonnage/projection.js';
import { pgliteHarness, postgresAvailable, postgresHarness } from '../support/databases.js';
import {
  districtBody,
  get,
  headPosition,
  nextTicketNo,
  onePass,
  openApi,
  post,
  problemBody,
  record,
  registerScenario,
  registerVehicle,
  tonnage,
  tonnageUrl,
  weighIn,
  weighOut,
  type Api,
  type Scenario,
} from './fixtures.js';

const postgres = await postgresAvailable();

const INCINERATION = 'incineration_energy_recovery';

/**
 * Every test here shares one log and one read model, so each writes on business days of its
 * own (and registers its own sites): a query over those days sees only that test's tickets.
 */
describe.each([
  { harness: pgliteHarness, skip: false },
  { harness: postgresHarness, skip: !postgres },
])('tonnage API on $harness.name', ({ harness, skip }) => {
  let api: Api;
  const background = new AbortController();

  beforeAll(async () => {
    if (!skip) api = await openApi(harness);
  });
  afterAll(async () => {
    background.abort();
    if (!skip) await api.close();
  });

  /** A one-pass collection load with a stored tare of 10 000 kg: net = grossKg − 10 000. */
  function load(
    s: Scenario,
    overrides: {
      siteId?: string;
      plate?: string;
      netKg: number;
      at: string;
      category?: 'kitchen' | 'recyclable' | 'residual';
      districtId?: string;
    },
  ) {
    return onePass({
      siteId: overrides.siteId ?? s.stationId,
      ticketNo: nextTicketNo(),
      plate: overrides.plate ?? s.plate,
      grossKg: 10_000 + overrides.netKg,
      tareKg: 10_000,
      weighedInAt: overrides.at,
      load: { kind: 'waste', category: overrides.category ?? 'residual' },
      origin: { kind: 'collection', districtId: overrides.districtId ?? s.districtId },
    });
  }

  describe.skipIf(skip)('grouping, filters and units', () => {
    let s: Scenario;
    let otherDistrict: string;

    beforeAll(async () => {
      s = await registerScenario(api.app);
      otherDistrict = `${s.districtId}-b`;
      expect((await post(api.app, '/v1/districts', districtBody(otherDistrict))).statusCode).toBe(
        201,
      );
      const [p1, p2, p3] = [
        await registerVehicle(api.app),
        await registerVehicle(api.app),
        await registerVehicle(api.app),
      ];
      // 2026-02-01: two loads at the station, from two districts.
      await record(api.app, load(s, { plate: p1, netKg: 4_321, at: '2026-02-01T07:10:00+08:00' }));
      await record(
        api.app,
        load(s, {
          plate: p2,
          netKg: 2_001,
          at: '2026-02-01T07:40:00+08:00',
          category: 'kitchen',
          districtId: otherDistrict,
        }),
      );
      // 2026-02-02: a load straight to the plant (collected and treated), and 1 kg at the station.
      await record(
        api.app,
        load(s, { siteId: s.plantId, plate: p3, netKg: 7_999, at: '2026-02-02T09:00:00+08:00' }),
      );
      await record(api.app, load(s, { plate: p1, netKg: 1, at: '2026-02-02T10:00:00+08:00' }));
    });

    const days = { from: '2026-02-01', to: '2026-02-02' };

    it('groups by day by default, with exact kg and tonnes to three decimals', async () => {
      expect(await tonnage(api, days)).toEqual({
        rows: [
          { day: '2026-02-01', netKg: 6_322, tonnes: '6.322', tickets: 2 },
          // The plant's load counts twice here: once collected, once as treatment intake.
          { day: '2026-02-02', netKg: 15_999, tonnes: '15.999', tickets: 3 },
        ],
        totalKg: 22_321,
        totalTonnes: '22.321',
        checkpoint: await headPosition(api.app),
      });
    });

    it('groups by day, material and flow', async () => {
      const result = await tonnage(api, { ...days, groupBy: 'day,material,flow' });
      expect(result.rows).toEqual([
        {
          day: '2026-02-01',
          material: 'kitchen',
          flow: 'collected',
          netKg: 2_001,
          tonnes: '2.001',
          tickets: 1,
        },
        {
          day: '2026-02-01',
          material: 'residual',
          flow: 'collected',
          netKg: 4_321,
          tonnes: '4.321',
          tickets: 1,
        },
        {
          day: '2026-02-02',
          material: 'residual',
          flow: 'collected',
          netKg: 8_000,
          tonnes: '8.000',
          tickets: 2,
        },
        {
          day: '2026-02-02',
          material: 'residual',
          flow: 'treatment_intake',
          netKg: 7_999,
          tonnes: '7.999',
          tickets: 1,
        },
      ]);
      expect(result.totalKg).toBe(22_321);
    });

    it('groups by district: collection by the district collected in, intake by the plant’s', async () => {
      const result = await tonnage(api, { ...days, groupBy: 'district' });
      expect(result.rows).toEqual([
        { district: s.districtId, netKg: 20_320, tonnes: '20.320', tickets: 4 },
        { district: otherDistrict, netKg: 2_001, tonnes: '2.001', tickets: 1 },
      ]);
      const collected = await tonnage(api, { ...days, groupBy: 'district', flow: 'collected' });
      expect(collected.rows).toEqual([
        { district: s.districtId, netKg: 12_321, tonnes: '12.321', tickets: 3 },
        { district: otherDistrict, netKg: 2_001, tonnes: '2.001', tickets: 1 },
      ]);
    });

    it('groups by site', async () => {
      const result = await tonnage(api, { ...days, groupBy: 'site' });
      // `inc-…` sorts before `ts-…`.
      expect(result.rows).toEqual([
        { site: s.plantId, netKg: 15_998, tonnes: '15.998', tickets: 2 },
        { site: s.stationId, netKg: 6_323, tonnes: '6.323', tickets: 3 },
      ]);
    });

    it('filters by district, site, material and flow', async () => {
      expect(await tonnage(api, { ...days, districtId: otherDistrict })).toMatchObject({
        rows: [{ day: '2026-02-01', netKg: 2_001, tonnes: '2.001', tickets: 1 }],
        totalKg: 2_001,
        totalTonnes: '2.001',
      });
      expect(
        (await tonnage(api, { ...days, siteId: s.stationId, groupBy: 'day,material' })).rows,
      ).toEqual([
        { day: '2026-02-01', material: 'kitchen', netKg: 2_001, tonnes: '2.001', tickets: 1 },
        { day: '2026-02-01', material: 'residual', netKg: 4_321, tonnes: '4.321', tickets: 1 },
        { day: '2026-02-02', material: 'residual', netKg: 1, tonnes: '0.001', tickets: 1 },
      ]);
      expect((await tonnage(api, { ...days, material: 'kitchen', groupBy: 'site' })).rows).toEqual([
        { site: s.stationId, netKg: 2_001, tonnes: '2.001', tickets: 1 },
      ]);
      expect(
        (await tonnage(api, { ...days, flow: 'treatment_intake', groupBy: 'operation' })).rows,
      ).toEqual([{ operation: INCINERATION, netKg: 7_999, tonnes: '7.999', tickets: 1 }]);
      expect(
        await tonnage(api, {
          ...days,
          siteId: s.stationId,
          flow: 'treatment_intake',
          groupBy: 'day',
        }),
      ).toMatchObject({ rows: [], totalKg: 0, totalTonnes: '0.000' });
    });

    it('restricts to the days asked, inclusive', async () => {
      expect((await tonnage(api, { from: '2026-02-02', to: '2026-02-02' })).rows).toEqual([
        { day: '2026-02-02', netKg: 15_999, tonnes: '15.999', tickets: 3 },
      ]);
      expect((await tonnage(api, { from: '2026-01-25', to: '2026-01-31' })).rows).toEqual([]);
    });
  });

  describe.skipIf(skip)('what counts, on which day', () => {
    let s: Scenario;
    beforeAll(async () => {
      s = await registerScenario(api.app);
    });

    it('counts a ticket weighed in at 23:50 and out at 00:12 on the day of its weigh-in', async () => {
      const ticketNo = nextTicketNo();
      await record(
        api.app,
        weighIn({
          siteId: s.stationId,
          ticketNo,
          plate: s.plate,
          grossKg: 16_480,
          weighedInAt: '2026-02-10T23:50:00+08:00',
          origin: s.collection,
        }),
      );
      await record(
        api.app,
        weighOut({
          siteId: s.stationId,
          ticketNo,
          tareKg: 10_060,
          weighedOutAt: '2026-02-11T00:12:00+08:00',
        }),
      );
      // Reported in UTC: 16:30Z is 00:30 on 11 February in Shanghai.
      const plate = await registerVehicle(api.app);
      await record(api.app, load(s, { plate, netKg: 3_000, at: '2026-02-10T16:30:00Z' }));

      expect((await tonnage(api, { from: '2026-02-10', to: '2026-02-11' })).rows).toEqual([
        { day: '2026-02-10', netKg: 6_420, tonnes: '6.420', tickets: 1 },
        { day: '2026-02-11', netKg: 3_000, tonnes: '3.000', tickets: 1 },
      ]);
    });

    it('does not count a ticket that is only weighed in', async () => {
      const plate = await registerVehicle(api.app);
      await record(
        api.app,
        weighIn({
          siteId: s.stationId,
          ticketNo: nextTicketNo(),
          plate,
          grossKg: 16_480,
          weighedInAt: '2026-02-12T08:00:00+08:00',
          origin: s.collection,
        }),
      );
      expect(await tonnage(api, { from: '2026-02-12', to: '2026-02-12' })).toMatchObject({
        rows: [],
        totalKg: 0,
      });
    });

    it('counts a collection load at a treatment facility as collected and as treatment intake', async () => {
      const plate = await registerVehicle(api.app);
      await record(
        api.app,
        load(s, {
          siteId: s.plantId,
          plate,
          netKg: 6_540,
          at: '2026-02-13T10:00:00+08:00',
          category: 'kitchen',
        }),
      );
      expect(
        (await tonnage(api, { from: '2026-02-13', to: '2026-02-13', groupBy: 'flow,operation' }))
          .rows,
      ).toEqual([
        { flow: 'collected', operation: '', netKg: 6_540, tonnes: '6.540', tickets: 1 },
        {
          flow: 'treatment_intake',
          operation: INCINERATION,
          netKg: 6_540,
          tonnes: '6.540',
          tickets: 1,
        },
      ]);
    });

    it('counts a transfer (station out, plant in) once as collected, at the station', async () => {
      const [collector, container] = [
        await registerVehicle(api.app),
        await registerVehicle(api.app),
      ];
      await record(
        api.app,
        load(s, { plate: collector, netKg: 7_000, at: '2026-02-14T06:30:00+08:00' }),
      );
      const outboundTicketNo = nextTicketNo();
      await record(
        api.app,
        onePass({
          siteId: s.stationId,
          ticketNo: outboundTicketNo,
          plate: container,
          direction: 'outbound',
          destination: { siteId: s.plantId },
          grossKg: 16_800,
          tareKg: 10_000,
          weighedInAt: '2026-02-14T11:00:00+08:00',
        }),
      );
      await record(
        api.app,
        onePass({
          siteId: s.plantId,
          ticketNo: nextTicketNo(),
          plate: container,
          grossKg: 16_750,
          tareKg: 10_000,
          weighedInAt: '2026-02-14T11:45:00+08:00',
          origin: { kind: 'transfer', fromSiteId: s.stationId, outboundTicketNo },
        }),
      );

      const day = { from: '2026-02-14', to: '2026-02-14' };
      expect((await tonnage(api, { ...day, groupBy: 'flow,site' })).rows).toEqual([
        { flow: 'collected', site: s.stationId, netKg: 7_000, tonnes: '7.000', tickets: 1 },
        {
          flow: 'transfer_out',
          site: s.stationId,
          netKg: 6_800,
          tonnes: '6.800',
          tickets: 1,
        },
        {
          flow: 'treatment_intake',
          site: s.plantId,
          netKg: 6_750,
          tonnes: '6.750',
          tickets: 1,
        },
      ]);
      expect(await tonnage(api, { ...day, flow: 'collected' })).toMatchObject({
        totalKg: 7_000,
        totalTonnes: '7.000',
      });
    });

    it('lets a late upload change the earlier day it belongs to', async () => {
      const plate = await registerVehicle(api.app);
      const days = { from: '2026-02-15', to: '2026-02-16' };
      await record(api.app, load(s, { plate, netKg: 5_000, at: '2026-02-16T08:00:00+08:00' }));
      const before = await tonnage(api, days);
      expect(before.rows).toEqual([
        { day: '2026-02-16', netKg: 5_000, tonnes: '5.000', tickets: 1 },
      ]);

      // Posted last, weighed the day before.
      const late = await record(
        api.app,
        load(s, { plate, netKg: 4_500, at: '2026-02-15T17:00:00+08:00' }),
      );
      const after = await tonnage(api, days);
      expect(after.rows).toEqual([
        { day: '2026-02-15', netKg: 4_500, tonnes: '4.500', tickets: 1 },
        { day: '2026-02-16', netKg: 5_000, tonnes: '5.000', tickets: 1 },
      ]);
      expect(after.checkpoint).toBeGreaterThanOrEqual(late.position);
      expect(after.checkpoint).toBeGreaterThan(before.checkpoint);
    });
  });

  describe.skipIf(skip)('read-your-writes', () => {
    let s: Scenario;
    beforeAll(async () => {
      s = await registerScenario(api.app);
    });

    it('with the runner in the background, a query at the recorded position reflects it', async () => {
      const running = api.runner.run(background.signal, 20);
      try {
        let expectedKg = 0;
        for (const [k, netKg] of [2_345, 3_456, 4_567].entries()) {
          const plate = await registerVehicle(api.app);
          const recorded = await record(
            api.app,
            load(s, { plate, netKg, at: `2026-02-20T0${k + 6}:00:00+08:00` }),
          );
          expectedKg += netKg;
          const response = await get(
            api.app,
            tonnageUrl({ from: '2026-02-20', to: '2026-02-20', minPosition: recorded.position }),
          );
          expect(response.statusCode).toBe(200);
          const body = response.body as { totalKg: number; checkpoint: number };
          expect(body.checkpoint).toBeGreaterThanOrEqual(recorded.position);
          expect(body.totalKg).toBe(expectedKg);
        }
      } finally {
        background.abort();
        await running;
      }
    });

    it('without a runner, a position not reached within waitMs answers 503 LEDGER_ERR_NOT_CAUGHT_UP', async () => {
      const plate = await registerVehicle(api.app);
      await api.runner.catchUp();
      const checkpoint = await checkpointOf(api.ledger.db, dailyTonnage.name);
      const recorded = await record(
        api.app,
        load(s, { plate, netKg: 5_432, at: '2026-02-21T08:00:00+08:00' }),
      );
      const url = tonnageUrl({
        from: '2026-02-21',
        to: '2026-02-21',
        minPosition: recorded.position,
        waitMs: 100,
      });
      const started = Date.now();
      const response = await get(api.app, url);
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
      expect(response.statusCode).toBe(503);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      expect(response.body).toEqual(
        problemBody(
          'LEDGER_ERR_NOT_CAUGHT_UP',
          'The projection has not reached the requested position yet',
          503,
          `Daily tonnage reflects the log up to ${checkpoint}, not yet ${recorded.position}; retry shortly`,
          { checkpoint, minPosition: recorded.position, instance: url },
        ),
      );

      await api.runner.catchUp();
      const caughtUp = await get(api.app, url);
      expect(caughtUp.statusCode).toBe(200);
      expect(caughtUp.body).toMatchObject({ totalKg: 5_432 });
    });
  });

  describe.skipIf(skip)('bad queries answer 400 naming the field', () => {
    interface BadQuery {
      readonly what: string;
      readonly query: Record<string, string | number>;
      readonly field: string;
      readonly message: string;
      /** Further errors on the same field, after the first. */
      readonly more?: readonly string[];
    }

    it.each<BadQuery>([
      {
        what: 'from after to',
        query: { from: '2026-02-02', to: '2026-02-01' },
        field: 'to',
        message: 'must not be before from',
      },
      {
        what: 'an unknown groupBy',
        query: { from: '2026-02-01', to: '2026-02-02', groupBy: 'day,week' },
        field: 'groupBy[1]',
        message:
          'Invalid option: expected one of "day"|"district"|"site"|"material"|"flow"|"operation"',
      },
      {
        what: 'a missing from',
        query: { to: '2026-02-02' },
        field: 'from',
        message: 'Invalid input: expected string, received undefined',
      },
      {
        what: 'a date that is not a date',
        query: { from: '2026-02-01x', to: '2026-03-01' },
        field: 'from',
        message: 'must be a date, YYYY-MM-DD',
        more: ['is not a real date'],
      },
      {
        what: 'a day the calendar does not have (30 February)',
        query: { from: '2026-02-30', to: '2026-03-01' },
        field: 'from',
        message: 'is not a real date',
      },
      {
        what: 'an unknown flow',
        query: { from: '2026-02-01', to: '2026-02-02', flow: 'dumped' },
        field: 'flow',
        message:
          'Invalid option: expected one of "collected"|"transfer_in"|"transfer_out"|"treatment_intake"|"residue_out"',
      },
      {
        what: 'a wait over 30 s',
        query: { from: '2026-02-01', to: '2026-02-02', waitMs: 30_001 },
        field: 'waitMs',
        message: 'Too big: expected number to be <=30000',
      },
    ])('$what', async ({ query, field, message, more = [] }) => {
      const url = tonnageUrl(query);
      const response = await get(api.app, url);
      expect(response.statusCode).toBe(400);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      expect(response.body).toEqual(
        problemBody(
          'LEDGER_ERR_INVALID_INPUT',
          'The input is not valid',
          400,
          `querystring.${field}: ${message}`,
          {
            field,
            errors: [message, ...more].map((m) => ({ field, message: m })),
            instance: url,
          },
        ),
      );
    });
  });
});
