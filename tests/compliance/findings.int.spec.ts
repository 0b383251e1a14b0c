import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../src/compliance/calendar.js';
import { findings } from '../../src/projections/findings/projection.js';
import { ProjectionRunner } from '../../src/projections/runner/runner.js';
import { get, headPosition, record, voidTicket } from '../api/fixtures.js';
import { pgliteHarness, postgresAvailable, postgresHarness } from '../support/databases.js';
import {
  at,
  batteries,
  collect,
  collectEach,
  collectTwoPass,
  dispatch,
  haulEach,
  INCINERATION,
  openComplianceApi,
  receive,
  registerDistrict,
  registerSite,
  residual,
  residue,
  transferStation,
  withQuery,
  type Accepts,
  type ComplianceApi,
  type District,
  type Query,
  type Ticket,
} from './support.js';

/**
 * The findings judged on the compliance facts (over_capacity, raw_landfill,
 * hazardous_not_forwarded) over GET /v1/findings, each worked out by hand from a short list of
 * weighings. The ledger's clock is 20 March 2026, noon in Jinan: "today" is 2026-03-20, so a
 * hazardous load is judged only for days up to 2026-03-16 (its 3 days over). Every scenario
 * registers its own district, sites and trucks and weighs on business days of its own.
 */

const postgres = await postgresAvailable();

/** A finding as the API answers it: compliance findings name a district, ticket findings a ticket. */
interface Finding {
  readonly kind: string;
  readonly siteId: string;
  readonly districtId?: string;
  readonly day: string;
  readonly ticketNo?: string;
  readonly details: Record<string, unknown>;
}

const HAZARDOUS_ACCEPTS: Accepts = { categories: ['residual', 'hazardous'], residues: [] };

const hazardousNotForwarded = (
  d: District,
  siteId: string,
  day: string,
  notForwardedKg: number,
): Finding => ({
  kind: 'hazardous_not_forwarded',
  siteId,
  districtId: d.districtId,
  day,
  details: { notForwardedKg, withinDays: 3 },
});

describe.each([
  { harness: pgliteHarness, skip: false },
  { harness: postgresHarness, skip: !postgres },
])('compliance findings on $harness.name', ({ harness, skip }) => {
  let api: ComplianceApi;
  /** The ticket findings (tare drift, repeat weighings, gaps, short transfers). */
  let ticketFindings: ProjectionRunner<string>;

  beforeAll(async () => {
    if (skip) return;
    api = await openComplianceApi(harness);
    ticketFindings = new ProjectionRunner<string>({
      store: api.ledger.store,
      db: api.ledger.db,
      projection: findings,
    });
    await ticketFindings.setup();
  });
  afterAll(async () => {
    if (!skip) await api.close();
  });

  /** GET /v1/findings once both projections have caught up with the log. */
  async function findingsOf(query: Query): Promise<Finding[]> {
    await api.runner.catchUp();
    await ticketFindings.catchUp();
    const response = await get(api.app, withQuery('/v1/findings', query));
    expect(response.body).not.toHaveProperty('code');
    expect(response.statusCode).toBe(200);
    const body = response.body as { findings: Finding[]; checkpoint: number };
    expect(body.checkpoint).toBe(await headPosition(api.app));
    return body.findings;
  }

  describe.skipIf(skip)('1. over_capacity: intake above the rated capacity', () => {
    const [overDay, atCapacityDay, transferDay] = ['2026-02-02', '2026-02-03', '2026-02-04'];
    let d: District;
    let plantId: string;
    let uncappedId: string;

    beforeAll(async () => {
      d = await registerDistrict(api.app);
      const stationId = await transferStation(api.app, d);
      plantId = await registerSite(api.app, d, {
        operation: INCINERATION,
        accepts: { categories: ['residual'], residues: [] },
        capacityKgPerDay: 10_000,
      });
      uncappedId = await registerSite(api.app, d, {
        operation: INCINERATION,
        accepts: { categories: ['residual'], residues: [] },
        capacityKgPerDay: null,
      });
      await collectEach(api.app, d, [
        // 6 000 + 5 000 = 11 000 kg > 10 000 kg/d.
        [plantId, residual, 6_000, at(overDay, '07:00')],
        [plantId, residual, 5_000, at(overDay, '09:00')],
        // 8 000 + 7 000 = 15 000 kg at a plant with no capacity on record: nothing to judge.
        [uncappedId, residual, 8_000, at(overDay, '07:30')],
        [uncappedId, residual, 7_000, at(overDay, '09:30')],
        // 6 000 + 4 000 = 10 000 kg: exactly at capacity is not over it.
        [plantId, residual, 6_000, at(atCapacityDay, '07:00')],
        [plantId, residual, 4_000, at(atCapacityDay, '09:00')],
        // 4 000 kg collected, and 7 000 kg transferred in below: both are intake.
        [plantId, residual, 4_000, at(transferDay, '07:00')],
        [stationId, residual, 7_000, at(transferDay, '06:00')],
      ]);
      await haulEach(api.app, d, [
        [
          stationId,
          plantId,
          residual,
          7_050,
          7_000,
          at(transferDay, '10:00'),
          at(transferDay, '10:40'),
        ],
      ]);
    });

    it('finds 11 000 kg against 10 000 kg/d, nothing at capacity or without a capacity', async () => {
      expect(
        await findingsOf({
          from: overDay,
          to: atCapacityDay,
          kind: 'over_capacity',
          districtId: d.districtId,
        }),
      ).toEqual([
        {
          kind: 'over_capacity',
          siteId: plantId,
          districtId: d.districtId,
          day: overDay,
          details: { intakeKg: 11_000, capacityKgPerDay: 10_000, overKg: 1_000 },
        },
      ]);
      expect(
        await findingsOf({
          from: overDay,
          to: transferDay,
          kind: 'over_capacity',
          siteId: uncappedId,
        }),
      ).toEqual([]);
    });

    it('counts what is transferred in as intake: 4 000 + 7 000 received = 11 000 kg', async () => {
      expect(
        await findingsOf({
          from: transferDay,
          to: transferDay,
          kind: 'over_capacity',
          districtId: d.districtId,
        }),
      ).toEqual([
        {
          kind: 'over_capacity',
          siteId: plantId,
          districtId: d.districtId,
          day: transferDay,
          details: { intakeKg: 11_000, capacityKgPerDay: 10_000, overKg: 1_000 },
        },
      ]);
    });
  });

  describe.skipIf(skip)('2. raw_landfill: raw household waste into a landfill', () => {
    const [rawDay, ashDay] = ['2026-02-09', '2026-02-10'];
    let d: District;
    let landfillId: string;
    let direct: Ticket;
    let received: Ticket;

    beforeAll(async () => {
      d = await registerDistrict(api.app);
      const stationId = await transferStation(api.app, d);
      const incineratorId = await registerSite(api.app, d, {
        operation: INCINERATION,
        accepts: { categories: ['residual'], residues: [] },
      });
      landfillId = await registerSite(api.app, d, {
        operation: 'sanitary_landfill',
        accepts: { categories: ['residual'], residues: ['bottom_ash', 'fly_ash'] },
      });
      // Raw day: 2 000 kg straight from collection, 1 000 kg via the transfer station.
      direct = await collect(api.app, d, [landfillId, residual, 2_000, at(rawDay, '08:00')]);
      await collect(api.app, d, [stationId, residual, 1_000, at(rawDay, '06:00')]);
      const sent = await dispatch(api.app, d, {
        siteId: stationId,
        toSiteId: landfillId,
        load: residual,
        netKg: 1_000,
        at: at(rawDay, '10:00'),
      });
      received = await receive(api.app, d, {
        siteId: landfillId,
        from: sent,
        load: residual,
        netKg: 1_000,
        at: at(rawDay, '10:45'),
      });
      // Ash day: the incinerator's bottom ash and fly ash into the same landfill.
      await collect(api.app, d, [incineratorId, residual, 8_000, at(ashDay, '07:00')]);
      await haulEach(api.app, d, [
        [
          incineratorId,
          landfillId,
          residue('bottom_ash'),
          1_600,
          1_600,
          at(ashDay, '14:00'),
          at(ashDay, '14:40'),
        ],
        [
          incineratorId,
          landfillId,
          residue('fly_ash'),
          400,
          400,
          at(ashDay, '15:00'),
          at(ashDay, '15:40'),
        ],
      ]);
    });

    const query = () => ({
      from: rawDay,
      to: ashDay,
      kind: 'raw_landfill',
      districtId: d.districtId,
    });

    it('finds 2 000 + 1 000 kg of raw residual waste landfilled, and nothing for the ash', async () => {
      expect(await findingsOf(query())).toEqual([
        {
          kind: 'raw_landfill',
          siteId: landfillId,
          districtId: d.districtId,
          day: rawDay,
          details: { rawHouseholdKg: 3_000 },
        },
      ]);
      // The ash day alone: 2 000 kg of residues landfilled, none of it raw.
      expect(await findingsOf({ ...query(), from: ashDay })).toEqual([]);
    });

    it('a voided ticket counts nowhere: 1 000 kg left, then nothing', async () => {
      await record(
        api.app,
        voidTicket({
          siteId: landfillId,
          ticketNo: direct.ticketNo,
          voidedAt: at(ashDay, '16:00'),
        }),
      );
      expect(await findingsOf(query())).toEqual([
        {
          kind: 'raw_landfill',
          siteId: landfillId,
          districtId: d.districtId,
          day: rawDay,
          details: { rawHouseholdKg: 1_000 },
        },
      ]);
      await record(
        api.app,
        voidTicket({
          siteId: landfillId,
          ticketNo: received.ticketNo,
          voidedAt: at(ashDay, '16:10'),
        }),
      );
      expect(await findingsOf(query())).toEqual([]);
    });
  });

  describe.skipIf(skip)('3. hazardous_not_forwarded: to a licensed facility within 3 days', () => {
    const onTimeDay = '2026-02-16';
    const lateDay = '2026-02-23';
    const partialDay = '2026-03-02';
    const wrongPlaceDay = '2026-03-05';
    const directDay = '2026-03-09';
    /** The clock's business day is 2026-03-20: 16 March is the last day whose 3 days are over. */
    const lastJudgedDay = '2026-03-16';
    const notYetDay = '2026-03-17';
    let d: District;
    let licensedId: string;
    const stations: Record<string, string> = {};
    const station = (name: string) => stations[name] ?? '';

    beforeAll(async () => {
      d = await registerDistrict(api.app);
      licensedId = await registerSite(api.app, d, {
        operation: 'hazardous_treatment',
        accepts: { categories: ['hazardous'], residues: [] },
      });
      const noPermitId = await registerSite(api.app, d, {
        operation: 'hazardous_treatment',
        accepts: { categories: ['hazardous'], residues: [] },
        permitNumber: null,
      });
      const incineratorId = await registerSite(api.app, d, {
        operation: INCINERATION,
        accepts: { categories: ['residual'], residues: [] },
      });
      for (const name of ['onTime', 'late', 'partial', 'wrongPlace', 'lastJudged', 'notYet']) {
        stations[name] = await registerSite(api.app, d, { accepts: HAZARDOUS_ACCEPTS });
      }

      // On time: 500 kg collected on D, all of it hauled to the licensed facility on D+2.
      await collect(api.app, d, [station('onTime'), batteries, 500, at(onTimeDay, '08:00')]);
      await haulEach(api.app, d, [
        [
          station('onTime'),
          licensedId,
          batteries,
          500,
          500,
          at(addDays(onTimeDay, 2), '09:00'),
          at(addDays(onTimeDay, 2), '10:00'),
        ],
      ]);
      // Late: 400 kg collected on D, dispatched on D+5.
      await collect(api.app, d, [station('late'), batteries, 400, at(lateDay, '08:00')]);
      await dispatch(api.app, d, {
        siteId: station('late'),
        toSiteId: licensedId,
        load: batteries,
        netKg: 400,
        at: at(addDays(lateDay, 5), '09:00'),
      });
      // Partial: 700 kg on D; 200 kg leave on D+1 and 100 kg on D+3 (the last day that counts),
      // 50 kg on D+4 (too late): 700 − 200 − 100 = 400 kg not forwarded.
      await collect(api.app, d, [station('partial'), batteries, 700, at(partialDay, '08:00')]);
      for (const [days, kg] of [
        [1, 200],
        [3, 100],
        [4, 50],
      ] as const) {
        await dispatch(api.app, d, {
          siteId: station('partial'),
          toSiteId: licensedId,
          load: batteries,
          netKg: kg,
          at: at(addDays(partialDay, days), '09:00'),
        });
      }
      // Sent on, but not to a licensed hazardous-waste facility: 500 kg to an incinerator, 300 kg
      // to a hazardous-waste facility without a permit number, both the next day.
      await collect(api.app, d, [
        station('wrongPlace'),
        batteries,
        800,
        at(wrongPlaceDay, '08:00'),
      ]);
      for (const [toSiteId, kg] of [
        [incineratorId, 500],
        [noPermitId, 300],
      ] as const) {
        await dispatch(api.app, d, {
          siteId: station('wrongPlace'),
          toSiteId,
          load: batteries,
          netKg: kg,
          at: at(addDays(wrongPlaceDay, 1), '09:00'),
        });
      }
      // Collected where it belongs: the licensed facility itself, nothing to forward.
      await collect(api.app, d, [licensedId, batteries, 600, at(directDay, '08:00')]);
      // 16 March, never dispatched: its 3 days (17 – 19 March) are over on 20 March.
      await collect(api.app, d, [
        station('lastJudged'),
        batteries,
        150,
        at(lastJudgedDay, '08:00'),
      ]);
      // 17 March, not dispatched yet: it still has until the end of 20 March.
      await collect(api.app, d, [station('notYet'), batteries, 250, at(notYetDay, '08:00')]);
      // Oldest first across the query's edge: 100 kg on 6 and 7 Feb, 100 kg dispatched on 9 and
      // 10 Feb (they answer for 6 and 7 Feb), 100 kg more collected on 10 Feb: 10 Feb is owed.
      stations.edge = await registerSite(api.app, d, { accepts: HAZARDOUS_ACCEPTS });
      for (const day of ['2026-02-06', '2026-02-07', '2026-02-10']) {
        await collect(api.app, d, [station('edge'), batteries, 100, at(day, '08:00')]);
      }
      for (const day of ['2026-02-09', '2026-02-10']) {
        await dispatch(api.app, d, {
          siteId: station('edge'),
          toSiteId: licensedId,
          load: batteries,
          netKg: 100,
          at: at(day, '09:00'),
        });
      }
    });

    it('does not depend on where the query starts: earlier collections use up dispatches first', async () => {
      const owed = [hazardousNotForwarded(d, station('edge'), '2026-02-10', 100)];
      for (const from of ['2026-02-01', '2026-02-10']) {
        expect(
          await findingsOf({ ...period(), from, to: '2026-02-10', siteId: station('edge') }),
          `from ${from}`,
        ).toEqual(owed);
      }
    });

    const period = () => ({
      from: onTimeDay,
      to: '2026-03-20',
      kind: 'hazardous_not_forwarded',
      districtId: d.districtId,
    });

    it('dispatched to the licensed facility on D+2: no finding', async () => {
      expect(await findingsOf({ ...period(), siteId: station('onTime') })).toEqual([]);
    });

    it('dispatched on D+5: the whole load, on day D', async () => {
      expect(await findingsOf({ ...period(), siteId: station('late') })).toEqual([
        hazardousNotForwarded(d, station('late'), lateDay, 400),
      ]);
    });

    it('partly dispatched within 3 days: the remainder', async () => {
      expect(await findingsOf({ ...period(), siteId: station('partial') })).toEqual([
        hazardousNotForwarded(d, station('partial'), partialDay, 400),
      ]);
    });

    it('dispatched to a facility that is not a licensed hazardous-waste facility: not forwarded', async () => {
      expect(await findingsOf({ ...period(), siteId: station('wrongPlace') })).toEqual([
        hazardousNotForwarded(d, station('wrongPlace'), wrongPlaceDay, 800),
      ]);
    });

    it('collected at the licensed facility itself: no finding', async () => {
      expect(await findingsOf({ ...period(), siteId: licensedId })).toEqual([]);
    });

    it('judges a day only once its 3 days are over (clock: 2026-03-20)', async () => {
      expect(await findingsOf({ ...period(), siteId: station('lastJudged') })).toEqual([
        hazardousNotForwarded(d, station('lastJudged'), lastJudgedDay, 150),
      ]);
      expect(await findingsOf({ ...period(), siteId: station('notYet') })).toEqual([]);
      expect(
        await findingsOf({
          ...period(),
          from: notYetDay,
          to: notYetDay,
          siteId: station('notYet'),
        }),
      ).toEqual([]);
    });

    it('over the district and the whole period: the four, oldest first', async () => {
      expect(await findingsOf(period())).toEqual([
        hazardousNotForwarded(d, station('late'), lateDay, 400),
        hazardousNotForwarded(d, station('partial'), partialDay, 400),
        hazardousNotForwarded(d, station('wrongPlace'), wrongPlaceDay, 800),
        hazardousNotForwarded(d, station('lastJudged'), lastJudgedDay, 150),
      ]);
    });
  });

  describe.skipIf(skip)('4. filters: district, site, kinds, and all kinds by default', () => {
    const [capacityDay, landfillDay, hazardousDay, driftDay] = [
      '2026-01-19',
      '2026-01-20',
      '2026-01-21',
      '2026-01-22',
    ];
    const days = { from: capacityDay, to: driftDay };

    /** One finding of each kind in a district, each at a site with a single ticket (no gaps). */
    interface DistrictFindings {
      readonly d: District;
      readonly overCapacity: Finding;
      readonly rawLandfill: Finding;
      readonly hazardous: Finding;
      readonly tareDrift: Finding;
    }

    async function districtWithFindings(): Promise<DistrictFindings> {
      const d = await registerDistrict(api.app);
      const plantId = await registerSite(api.app, d, {
        operation: INCINERATION,
        accepts: { categories: ['residual'], residues: [] },
        capacityKgPerDay: 5_000,
      });
      const landfillId = await registerSite(api.app, d, {
        operation: 'sanitary_landfill',
        accepts: { categories: ['residual'], residues: [] },
      });
      const hazardousStationId = await registerSite(api.app, d, { accepts: HAZARDOUS_ACCEPTS });
      const driftStationId = await transferStation(api.app, d);
      await collectEach(api.app, d, [
        [plantId, residual, 6_000, at(capacityDay, '08:00')],
        [landfillId, residual, 2_000, at(landfillDay, '08:00')],
        [hazardousStationId, batteries, 300, at(hazardousDay, '08:00')],
      ]);
      // Tare measured 10 450 kg against 10 000 kg stored: 450 kg drift (tolerance 200 kg).
      const drift = await collectTwoPass(api.app, d, {
        siteId: driftStationId,
        load: residual,
        grossKg: 16_000,
        tareKg: 10_450,
        inAt: at(driftDay, '08:00'),
        outAt: at(driftDay, '08:20'),
      });
      return {
        d,
        overCapacity: {
          kind: 'over_capacity',
          siteId: plantId,
          districtId: d.districtId,
          day: capacityDay,
          details: { intakeKg: 6_000, capacityKgPerDay: 5_000, overKg: 1_000 },
        },
        rawLandfill: {
          kind: 'raw_landfill',
          siteId: landfillId,
          districtId: d.districtId,
          day: landfillDay,
          details: { rawHouseholdKg: 2_000 },
        },
        hazardous: hazardousNotForwarded(d, hazardousStationId, hazardousDay, 300),
        tareDrift: {
          kind: 'tare_drift',
          siteId: driftStationId,
          day: driftDay,
          ticketNo: drift.ticketNo,
          details: {
            siteId: driftStationId,
            ticketNo: drift.ticketNo,
            plate: d.compactor.plate,
            storedTareKg: 10_000,
            measuredTareKg: 10_450,
            driftKg: 450,
            toleranceKg: 200,
          },
        },
      };
    }

    let a: DistrictFindings;
    let b: DistrictFindings;

    beforeAll(async () => {
      a = await districtWithFindings();
      b = await districtWithFindings();
    });

    const all = (x: DistrictFindings) => [x.overCapacity, x.rawLandfill, x.hazardous, x.tareDrift];

    it('no kind: every kind, the new ones included, of the district asked only', async () => {
      expect(await findingsOf({ ...days, districtId: a.d.districtId })).toEqual(all(a));
      expect(await findingsOf({ ...days, districtId: b.d.districtId })).toEqual(all(b));
    });

    it('no district: both districts, day by day', async () => {
      // On a day, ticket findings come before the compliance findings, those by site id.
      const bySite = (x: Finding, y: Finding) => (x.siteId < y.siteId ? -1 : 1);
      expect(await findingsOf(days)).toEqual([
        ...[a.overCapacity, b.overCapacity].sort(bySite),
        ...[a.rawLandfill, b.rawLandfill].sort(bySite),
        ...[a.hazardous, b.hazardous].sort(bySite),
        a.tareDrift,
        b.tareDrift,
      ]);
    });

    it('districtId with an old kind: tare drift of that district only', async () => {
      expect(await findingsOf({ ...days, kind: 'tare_drift', districtId: b.d.districtId })).toEqual(
        [b.tareDrift],
      );
      expect(await findingsOf({ ...days, kind: 'tare_drift', districtId: a.d.districtId })).toEqual(
        [a.tareDrift],
      );
    });

    it('a list of kinds, spaces allowed', async () => {
      expect(
        await findingsOf({
          ...days,
          kind: 'over_capacity, hazardous_not_forwarded',
          districtId: a.d.districtId,
        }),
      ).toEqual([a.overCapacity, a.hazardous]);
      expect(
        await findingsOf({ ...days, kind: 'raw_landfill,tare_drift', districtId: b.d.districtId }),
      ).toEqual([b.rawLandfill, b.tareDrift]);
    });

    it('siteId: that site only, whatever its kind', async () => {
      for (const f of [...all(a), ...all(b)]) {
        expect(await findingsOf({ ...days, siteId: f.siteId })).toEqual([f]);
      }
      // A site and a kind it has none of.
      expect(
        await findingsOf({ ...days, siteId: a.overCapacity.siteId, kind: 'raw_landfill' }),
      ).toEqual([]);
      // A site of one district, the other district asked: nothing.
      expect(
        await findingsOf({ ...days, siteId: a.hazardous.siteId, districtId: b.d.districtId }),
      ).toEqual([]);
    });
  });
});
