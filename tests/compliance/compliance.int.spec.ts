import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ComplianceReport,
  ComputedIndicators,
} from '../../src/compliance/compliance-report.js';
import { delay } from '../projections/fixtures.js';
import { authorization } from '../support/access.js';
import { pgliteHarness, postgresAvailable, postgresHarness } from '../support/databases.js';
import {
  correct,
  get,
  headPosition,
  nextTicketNo,
  onePass,
  post,
  problemBody,
  record,
  voidTicket,
  type Accepted,
} from '../api/fixtures.js';
import {
  at,
  collect,
  collectEach,
  collectTwoPass,
  construction,
  haulEach,
  INCINERATION,
  kitchen,
  openComplianceApi,
  paper,
  plastic,
  registerDistrict,
  registerSite,
  reject,
  residual,
  residue,
  transferStation,
  withQuery,
  type ComplianceApi,
  type District,
  type Query,
  type Ticket,
} from './support.js';

/**
 * Compliance indicators and plan reports over HTTP, each figure computed by hand from a short,
 * explicit list of weighings (DOMAIN.md, "Indicators"). Every scenario registers its own
 * district, sites and trucks and weighs on business days of its own, and every query names the
 * district and the days: the scenarios share one log without seeing each other's tickets.
 */

const postgres = await postgresAvailable();

/** GET /v1/indicators once the facts have caught up with the log. */
async function indicators(api: ComplianceApi, query: Query): Promise<ComputedIndicators> {
  await api.runner.catchUp();
  const response = await get(api.app, withQuery('/v1/indicators', query));
  expect(response.body).not.toHaveProperty('code');
  expect(response.statusCode).toBe(200);
  return response.body as ComputedIndicators;
}

/** GET /v1/plans/:planId/report (JSON) once the facts have caught up with the log. */
async function planReport(
  api: ComplianceApi,
  planId: string,
  query: Query,
): Promise<ComplianceReport> {
  await api.runner.catchUp();
  const response = await get(api.app, withQuery(`/v1/plans/${planId}/report`, query));
  expect(response.body).not.toHaveProperty('code');
  expect(response.statusCode).toBe(200);
  return response.body as ComplianceReport;
}

/** An instant (ISO, UTC) written in Jinan time, with its +08:00 offset; and its business day. */
const jinanTime = (iso: string) =>
  new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().replace('Z', '+08:00');
const jinanDay = (iso: string) => jinanTime(iso).slice(0, 10);

/** What `recordedAt` the log holds for the event at `position`. */
async function recordedAtOf(api: ComplianceApi, position: number): Promise<string> {
  const page = await api.ledger.store.readAll({ after: position - 1, maxCount: 1 });
  const event = page.events[0];
  expect(event?.position).toBe(position);
  return event?.recordedAt ?? '';
}

// ---------------------------------------------------------------------------------------------

describe.each([
  { harness: pgliteHarness, skip: false },
  { harness: postgresHarness, skip: !postgres },
])('compliance indicators and reports on $harness.name', ({ harness, skip }) => {
  let api: ComplianceApi;

  beforeAll(async () => {
    if (!skip) api = await openComplianceApi(harness);
  });
  afterAll(async () => {
    if (!skip) await api.close();
  });

  describe.skipIf(skip)('1. a transfer is counted once', () => {
    const day = '2026-01-05';
    let d: District;
    let stationId: string;
    let plantId: string;

    beforeAll(async () => {
      d = await registerDistrict(api.app);
      stationId = await transferStation(api.app, d);
      plantId = await registerSite(api.app, d, {
        operation: INCINERATION,
        accepts: { categories: ['residual', 'kitchen'], residues: [] },
      });
      // Collected at the station: residual in two passes (16 480 − 10 060 = 6 420 kg), and kitchen.
      await collectTwoPass(api.app, d, {
        siteId: stationId,
        load: residual,
        grossKg: 16_480,
        tareKg: 10_060,
        inAt: at(day, '06:10'),
        outAt: at(day, '06:25'),
      });
      await collect(api.app, d, [stationId, kitchen, 3_580, at(day, '06:40')]);
      // The station dispatches 9 800 kg to the plant, which weighs 9 750 kg in.
      await haulEach(api.app, d, [
        [stationId, plantId, residual, 9_800, 9_750, at(day, '10:00'), at(day, '10:50')],
      ]);
      // And a collection truck straight to the plant: collected there, and treated there.
      await collect(api.app, d, [plantId, residual, 5_000, at(day, '11:30')]);
    });

    it('counts collected tonnage where waste is first received, treatment intake at the plant', async () => {
      const body = await indicators(api, { from: day, to: day, districtId: d.districtId });
      // collected = 6 420 (station) + 3 580 (station) + 5 000 (plant, from collection) = 15 000;
      // the 9 750 kg transferred in is not new waste.
      expect(body.figures.collected).toEqual({
        totalKg: 15_000,
        byCategoryKg: { residual: 11_420, kitchen: 3_580 },
      });
      // treatment intake = 9 750 (transferred in) + 5 000 (collected) = 14 750, at the plant only.
      expect(body.figures.treatmentIntakeKgByOperation).toEqual({ [INCINERATION]: 14_750 });
      // harmless = 14 750 ÷ 15 000 (the plant is licensed)
      expect(body.figures.harmlessTreatmentRate).toEqual({
        numeratorKg: 14_750,
        denominatorKg: 15_000,
        ratio: 14_750 / 15_000,
        unlicensedIntakeKg: 0,
      });
      // zero landfill = (14 750 − 0) ÷ 14 750
      expect(body.figures.zeroLandfill).toEqual({
        numeratorKg: 14_750,
        denominatorKg: 14_750,
        ratio: 1,
        rawLandfilledKg: 0,
      });
      // recycling = (0 + 0 − 0) ÷ 15 000
      expect(body.figures.recyclingRate).toEqual({
        numeratorKg: 0,
        denominatorKg: 15_000,
        ratio: 0,
        recyclablesRecoveredKg: 0,
        kitchenBiologicalKg: 0,
        residuesToDisposalKg: 0,
      });
      // station: in = 6 420 + 3 580 = 10 000, out = 9 800, stock built up = 200
      expect(body.figures.massBalance).toEqual([
        { siteId: stationId, inKg: 10_000, outKg: 9_800, differenceKg: 200 },
      ]);
      expect(body.figures.capacity).toEqual([
        {
          siteId: plantId,
          capacityKgPerDay: 1_000_000,
          intakeKg: 14_750,
          daysWithIntake: 1,
          peakDay: day,
          peakDayKg: 14_750,
          daysOverCapacity: [],
        },
      ]);
    });
  });

  describe.skipIf(skip)('2. residues are netted out of the recycling rate', () => {
    const day = '2026-01-06';
    let d: District;
    let body: ComputedIndicators;

    beforeAll(async () => {
      d = await registerDistrict(api.app);
      const recovery = await registerSite(api.app, d, {
        operation: 'material_recovery',
        accepts: { categories: ['recyclable'], residues: [] },
      });
      const otherRecovery = await registerSite(api.app, d, {
        operation: 'material_recovery',
        accepts: { categories: ['recyclable'], residues: ['sorting_residue'] },
      });
      const digester = await registerSite(api.app, d, {
        operation: 'anaerobic_digestion',
        accepts: { categories: ['kitchen'], residues: [] },
      });
      const incinerator = await registerSite(api.app, d, {
        operation: INCINERATION,
        accepts: { categories: ['residual'], residues: ['sorting_residue', 'digestate_residue'] },
      });
      const landfill = await registerSite(api.app, d, {
        operation: 'sanitary_landfill',
        accepts: {
          categories: ['residual'],
          residues: ['digestate_residue', 'bottom_ash', 'fly_ash'],
        },
      });

      // Collected: 4 000 + 3 000 recyclables at recovery, 6 000 kitchen at the digester,
      // 7 000 residual at the incinerator.
      await collectEach(api.app, d, [
        [recovery, paper, 4_000, at(day, '07:00')],
        [recovery, plastic, 3_000, at(day, '07:30')],
        [digester, kitchen, 6_000, at(day, '07:10')],
        [incinerator, residual, 7_000, at(day, '07:20')],
      ]);

      const [sorting, digestate] = [residue('sorting_residue'), residue('digestate_residue')];
      await haulEach(api.app, d, [
        // Residues of the recovery sites to disposal: subtracted (the 500 kg sent, not 490 received).
        [recovery, incinerator, sorting, 500, 490, at(day, '15:00'), at(day, '15:40')],
        [digester, landfill, digestate, 800, 800, at(day, '16:00'), at(day, '16:45')],
        // A residue sent to another recovery site: not disposal, not subtracted.
        [recovery, otherRecovery, sorting, 300, 300, at(day, '17:00'), at(day, '17:30')],
        // Bottom ash of the incinerator (not a recovery site) to landfill: not subtracted either.
        [
          incinerator,
          landfill,
          residue('bottom_ash'),
          1_200,
          1_200,
          at(day, '18:00'),
          at(day, '18:40'),
        ],
      ]);

      body = await indicators(api, { from: day, to: day, districtId: d.districtId });
    });

    it('subtracts exactly the residues the recovery sites dispatch to incineration or landfill', () => {
      // collected = 4 000 + 3 000 + 6 000 + 7 000 = 20 000
      // recycling = (7 000 recovered + 6 000 digested − (500 + 800) to disposal) ÷ 20 000
      //           = 11 700 ÷ 20 000; the 300 kg to recovery and the 1 200 kg of ash stay in.
      expect(body.figures.recyclingRate).toEqual({
        numeratorKg: 11_700,
        denominatorKg: 20_000,
        ratio: 11_700 / 20_000,
        recyclablesRecoveredKg: 7_000,
        kitchenBiologicalKg: 6_000,
        residuesToDisposalKg: 1_300,
      });
    });

    it('counts residues received as treatment intake of their own material, not household waste', () => {
      // material recovery = 7 000 + 300 (residue received) ; incineration = 7 000 + 490 ;
      // landfill = 800 + 1 200 (residues only).
      expect(body.figures.treatmentIntakeKgByOperation).toEqual({
        material_recovery: 7_300,
        anaerobic_digestion: 6_000,
        [INCINERATION]: 7_490,
        sanitary_landfill: 2_000,
      });
      expect(body.figures.collected).toEqual({
        totalKg: 20_000,
        byCategoryKg: { recyclable: 7_000, kitchen: 6_000, residual: 7_000 },
      });
      // household intake = 7 000 + 6 000 + 7 000 = 20 000, none of it landfilled raw.
      expect(body.figures.zeroLandfill).toEqual({
        numeratorKg: 20_000,
        denominatorKg: 20_000,
        ratio: 1,
        rawLandfilledKg: 0,
      });
      expect(body.figures.harmlessTreatmentRate).toEqual({
        numeratorKg: 20_000,
        denominatorKg: 20_000,
        ratio: 1,
        unlicensedIntakeKg: 0,
      });
    });
  });

  describe.skipIf(skip)('3. landfilled ash is not raw waste; landfilled residual waste is', () => {
    const ashDay = '2026-01-07';
    const rawDay = '2026-01-08';
    let d: District;

    beforeAll(async () => {
      d = await registerDistrict(api.app);
      const incinerator = await registerSite(api.app, d, {
        operation: INCINERATION,
        accepts: { categories: ['residual'], residues: [] },
      });
      const landfill = await registerSite(api.app, d, {
        operation: 'sanitary_landfill',
        accepts: { categories: ['residual'], residues: ['bottom_ash', 'fly_ash'] },
      });
      // Day 1: 8 000 kg incinerated; its bottom ash (1 600) and fly ash (400) landfilled.
      await collect(api.app, d, [incinerator, residual, 8_000, at(ashDay, '07:00')]);
      const [bottomAsh, flyAsh] = [residue('bottom_ash'), residue('fly_ash')];
      await haulEach(api.app, d, [
        [incinerator, landfill, bottomAsh, 1_600, 1_600, at(ashDay, '14:00'), at(ashDay, '14:40')],
        [incinerator, landfill, flyAsh, 400, 400, at(ashDay, '15:00'), at(ashDay, '15:40')],
      ]);
      // Day 2: 2 000 kg of raw residual waste straight into the landfill.
      await collect(api.app, d, [landfill, residual, 2_000, at(rawDay, '09:00')]);
    });

    it('with only ash landfilled, zero landfill is 100 %', async () => {
      const body = await indicators(api, { from: ashDay, to: ashDay, districtId: d.districtId });
      // zero landfill = (8 000 − 0) ÷ 8 000: the 2 000 kg of ash are residues, not household waste.
      expect(body.figures.zeroLandfill).toEqual({
        numeratorKg: 8_000,
        denominatorKg: 8_000,
        ratio: 1,
        rawLandfilledKg: 0,
      });
      // The landfill's intake is still treatment intake: 1 600 + 400.
      expect(body.figures.treatmentIntakeKgByOperation).toEqual({
        [INCINERATION]: 8_000,
        sanitary_landfill: 2_000,
      });
    });

    it('raw residual waste landfilled counts against it', async () => {
      const body = await indicators(api, { from: ashDay, to: rawDay, districtId: d.districtId });
      // household intake = 8 000 + 2 000 = 10 000; zero landfill = (10 000 − 2 000) ÷ 10 000
      expect(body.figures.zeroLandfill).toEqual({
        numeratorKg: 8_000,
        denominatorKg: 10_000,
        ratio: 8_000 / 10_000,
        rawLandfilledKg: 2_000,
      });
      // sanitary landfill = 1 600 + 400 (ash) + 2 000 (raw)
      expect(body.figures.treatmentIntakeKgByOperation).toEqual({
        [INCINERATION]: 8_000,
        sanitary_landfill: 4_000,
      });
    });
  });

  describe.skipIf(skip)('4. a late upload changes an earlier day, not the past', () => {
    const day = '2026-01-09';
    let d: District;
    let stationId: string;
    let p: number;
    let before: ComputedIndicators;
    let late: Ticket;

    beforeAll(async () => {
      d = await registerDistrict(api.app);
      stationId = await transferStation(api.app, d);
      await collectEach(api.app, d, [
        [stationId, residual, 5_000, at(day, '07:00')],
        [stationId, kitchen, 3_000, at(day, '07:30')],
      ]);
      p = await headPosition(api.app);
      before = await indicators(api, { from: day, to: day, districtId: d.districtId });
      // Recorded times are kept to the millisecond: let the next append be recorded later than p.
      await delay(10);
      // Uploaded late (today), weighed on `day` at 17:00.
      late = await collect(api.app, d, [stationId, paper, 2_500, at(day, '17:00')]);
    });

    it('before the late upload: collected = 5 000 + 3 000 = 8 000', () => {
      expect(before.moment).toMatchObject({ kind: 'now', position: p });
      expect(before.figures.collected).toEqual({
        totalKg: 8_000,
        byCategoryKg: { residual: 5_000, kitchen: 3_000 },
      });
    });

    it('now: collected = 5 000 + 3 000 + 2 500 = 10 500', async () => {
      const now = await indicators(api, { from: day, to: day, districtId: d.districtId });
      expect(now.moment).toMatchObject({ kind: 'now' });
      expect(now.moment.position).toBeGreaterThanOrEqual(late.position);
      expect(now.figures.collected).toEqual({
        totalKg: 10_500,
        byCategoryKg: { residual: 5_000, kitchen: 3_000, recyclable: 2_500 },
      });
      expect(now).not.toHaveProperty('changedSince');
    });

    it('as of position p: exactly what was read before, and the late ticket as the change since', async () => {
      const asOf = await indicators(api, {
        from: day,
        to: day,
        districtId: d.districtId,
        asOfPosition: p,
      });
      expect(asOf.figures).toEqual(before.figures);
      expect(asOf.runRate).toEqual(before.runRate);
      expect(asOf.positions).toEqual({ after: 0, upTo: p });
      const recordedAt = await recordedAtOf(api, p);
      expect(asOf.moment).toEqual({
        kind: 'as_of',
        position: p,
        recordedAt,
        // "Today", as of p, is the business day p was recorded on (in Jinan, UTC+8).
        businessDay: jinanDay(recordedAt),
      });
      expect(asOf.changedSince).toEqual([
        {
          streamId: late.streamId,
          day,
          siteId: stationId,
          flow: 'collected',
          material: 'recyclable',
          asOfKg: 0,
          nowKg: 2_500,
          changedAt: late.position,
        },
      ]);
    });

    it('as of the recorded time of p: the same as as of position p', async () => {
      const recordedAt = await recordedAtOf(api, p);
      const byPosition = await indicators(api, {
        from: day,
        to: day,
        districtId: d.districtId,
        asOfPosition: p,
      });
      const byTime = await indicators(api, {
        from: day,
        to: day,
        districtId: d.districtId,
        asOf: recordedAt,
      });
      expect(byTime).toEqual(byPosition);
      // The same instant written with the Jinan offset.
      const local = jinanTime(recordedAt);
      expect(
        await indicators(api, { from: day, to: day, districtId: d.districtId, asOf: local }),
      ).toEqual(byPosition);
    });

    it('over the whole month (read from monthly sums): the same, now and as of p', async () => {
      const month = { from: '2026-01-01', to: '2026-01-31', districtId: d.districtId };
      expect((await indicators(api, month)).figures.collected).toEqual({
        totalKg: 10_500,
        byCategoryKg: { residual: 5_000, kitchen: 3_000, recyclable: 2_500 },
      });
      const asOf = await indicators(api, { ...month, asOfPosition: p });
      expect(asOf.figures.collected).toEqual(before.figures.collected);
      expect(asOf.changedSince?.map((c) => c.streamId)).toEqual([late.streamId]);
    });
  });

  describe.skipIf(skip)("5. a correction: latest values, on the ticket's own day", () => {
    const day = '2026-01-10';
    const correctionDay = '2026-01-11';
    let d: District;
    let ticket: Ticket;
    let beforeCorrection: number;
    let first: Accepted;
    let second: Accepted;

    beforeAll(async () => {
      d = await registerDistrict(api.app);
      const stationId = await transferStation(api.app, d);
      // 16 000 − 10 000 = 6 000 kg of residual waste.
      ticket = await collect(api.app, d, [stationId, residual, 6_000, at(day, '08:00')]);
      beforeCorrection = await headPosition(api.app);
      // The next day: it was kitchen waste, and the gross was 15 200 (net 15 200 − 10 000 = 5 200).
      first = await record(
        api.app,
        correct({
          siteId: stationId,
          ticketNo: ticket.ticketNo,
          grossKg: 15_200,
          load: kitchen,
          correctedAt: at(correctionDay, '09:00'),
        }),
      );
      // Then the tare: 9 900, so net = 15 200 − 9 900 = 5 300.
      second = await record(
        api.app,
        correct({
          siteId: stationId,
          ticketNo: ticket.ticketNo,
          tareKg: 9_900,
          correctedAt: at(correctionDay, '10:00'),
        }),
      );
    });

    it('now: the latest version (kitchen, 5 300 kg) on the day it was weighed', async () => {
      const body = await indicators(api, { from: day, to: day, districtId: d.districtId });
      expect(body.figures.collected).toEqual({
        totalKg: 5_300,
        byCategoryKg: { kitchen: 5_300 },
      });
      const onCorrectionDay = await indicators(api, {
        from: correctionDay,
        to: correctionDay,
        districtId: d.districtId,
      });
      expect(onCorrectionDay.figures.collected).toEqual({ totalKg: 0, byCategoryKg: {} });
    });

    it('as of before the correction: the original (residual, 6 000 kg)', async () => {
      const body = await indicators(api, {
        from: day,
        to: day,
        districtId: d.districtId,
        asOfPosition: beforeCorrection,
      });
      expect(body.figures.collected).toEqual({
        totalKg: 6_000,
        byCategoryKg: { residual: 6_000 },
      });
      // The same over the whole month (monthly sums, with the later versions taken back out).
      const month = await indicators(api, {
        from: '2026-01-01',
        to: '2026-01-31',
        districtId: d.districtId,
        asOfPosition: beforeCorrection,
      });
      expect(month.figures.collected).toEqual(body.figures.collected);
      // The change since: 6 000 kg of residual became 5 300 kg of kitchen waste, at the first correction.
      const changes = [...(body.changedSince ?? [])].sort((a, b) =>
        a.material < b.material ? -1 : 1,
      );
      expect(changes).toEqual([
        {
          streamId: ticket.streamId,
          day,
          siteId: ticket.siteId,
          flow: 'collected',
          material: 'kitchen',
          asOfKg: 0,
          nowKg: 5_300,
          changedAt: first.position,
        },
        {
          streamId: ticket.streamId,
          day,
          siteId: ticket.siteId,
          flow: 'collected',
          material: 'residual',
          asOfKg: 6_000,
          nowKg: 0,
          changedAt: first.position,
        },
      ]);
    });

    it('as of between the two corrections: the first corrected version (kitchen, 5 200 kg)', async () => {
      const body = await indicators(api, {
        from: day,
        to: day,
        districtId: d.districtId,
        asOfPosition: first.position,
      });
      expect(body.figures.collected).toEqual({
        totalKg: 5_200,
        byCategoryKg: { kitchen: 5_200 },
      });
      expect(body.changedSince).toEqual([
        {
          streamId: ticket.streamId,
          day,
          siteId: ticket.siteId,
          flow: 'collected',
          material: 'kitchen',
          asOfKg: 5_200,
          nowKg: 5_300,
          changedAt: second.position,
        },
      ]);
    });
  });

  describe.skipIf(skip)('6. a rejected load and a voided ticket count nowhere', () => {
    const day = '2026-01-12';
    let d: District;
    let stationId: string;
    let plantId: string;

    beforeAll(async () => {
      d = await registerDistrict(api.app);
      stationId = await transferStation(api.app, d);
      plantId = await registerSite(api.app, d, {
        operation: INCINERATION,
        accepts: { categories: ['residual', 'kitchen'], residues: [] },
      });
      // Counts: 7 000 kg of residual waste at the plant.
      await collect(api.app, d, [plantId, residual, 7_000, at(day, '07:00')]);
      // Refused at the plant's gate.
      await reject(api.app, d, { siteId: plantId, load: kitchen, at: at(day, '07:30') });
      // Weighed, then voided: 4 000 kg at the station, 3 000 kg at the plant.
      const atStation = await collect(api.app, d, [stationId, residual, 4_000, at(day, '08:00')]);
      const atPlant = await collect(api.app, d, [plantId, kitchen, 3_000, at(day, '08:30')]);
      for (const t of [atStation, atPlant]) {
        await record(
          api.app,
          voidTicket({ siteId: t.siteId, ticketNo: t.ticketNo, voidedAt: at(day, '12:00') }),
        );
      }
    });

    it('counts only the 7 000 kg ticket', async () => {
      const body = await indicators(api, { from: day, to: day, districtId: d.districtId });
      expect(body.figures.collected).toEqual({ totalKg: 7_000, byCategoryKg: { residual: 7_000 } });
      expect(body.figures.treatmentIntakeKgByOperation).toEqual({ [INCINERATION]: 7_000 });
      expect(body.figures.harmlessTreatmentRate).toEqual({
        numeratorKg: 7_000,
        denominatorKg: 7_000,
        ratio: 1,
        unlicensedIntakeKg: 0,
      });
      // The station's only ticket is voided: nothing in, nothing out.
      expect(body.figures.massBalance).toEqual([]);
      expect(body.figures.capacity).toEqual([
        {
          siteId: plantId,
          capacityKgPerDay: 1_000_000,
          intakeKg: 7_000,
          daysWithIntake: 1,
          peakDay: day,
          peakDayKg: 7_000,
          daysOverCapacity: [],
        },
      ]);
    });
  });

  describe.skipIf(skip)('7. construction utilisation, excavated soil out (v1) or in (v2)', () => {
    const day = '2026-01-13';
    let d: District;

    beforeAll(async () => {
      d = await registerDistrict(api.app);
      const recycling = await registerSite(api.app, d, {
        operation: 'construction_recycling',
        accepts: { categories: ['construction'], residues: [] },
      });
      const disposal = await registerSite(api.app, d, {
        operation: 'construction_disposal',
        accepts: { categories: ['construction'], residues: [] },
      });
      const landfill = await registerSite(api.app, d, {
        operation: 'sanitary_landfill',
        accepts: { categories: ['residual', 'construction'], residues: [] },
      });
      const truck = d.dumpTruck;
      await collectEach(api.app, d, [
        [recycling, construction('demolition'), 15_000, at(day, '08:00'), truck],
        [recycling, construction('excavated_soil'), 12_000, at(day, '09:00'), truck],
        [disposal, construction('excavated_soil'), 18_000, at(day, '10:00'), truck],
        [disposal, construction('engineering_mud'), 9_000, at(day, '11:00'), truck],
        [landfill, construction('decoration'), 3_000, at(day, '12:00'), truck],
      ]);
    });

    it('domain-default@1 (the default): excavated soil left out', async () => {
      const body = await indicators(api, { from: day, to: day, districtId: d.districtId });
      expect(body.rules).toMatchObject({
        label: 'domain-default@1',
        excavatedSoilInConstructionScope: false,
      });
      // recycled = 15 000 (demolition); received = 15 000 + 9 000 (mud stays in) + 3 000 = 27 000
      expect(body.figures.constructionUtilisation).toEqual({
        numeratorKg: 15_000,
        denominatorKg: 27_000,
        ratio: 15_000 / 27_000,
        excavatedSoilInScope: false,
      });
      // Construction waste is not household waste: nothing collected.
      expect(body.figures.collected).toEqual({ totalKg: 0, byCategoryKg: {} });
    });

    it('domain-default@2: excavated soil in', async () => {
      const body = await indicators(api, {
        from: day,
        to: day,
        districtId: d.districtId,
        rules: 'domain-default@2',
      });
      expect(body.rules).toMatchObject({
        id: 'domain-default',
        version: 2,
        label: 'domain-default@2',
        excavatedSoilInConstructionScope: true,
      });
      // recycled = 15 000 + 12 000 = 27 000;
      // received = 15 000 + 12 000 + 18 000 + 9 000 + 3 000 = 57 000
      expect(body.figures.constructionUtilisation).toEqual({
        numeratorKg: 27_000,
        denominatorKg: 57_000,
        ratio: 27_000 / 57_000,
        excavatedSoilInScope: true,
      });
    });
  });

  describe.skipIf(skip)('8. harmless treatment counts only licensed intake', () => {
    const day = '2026-01-14';
    let d: District;
    let expiredId: string;

    beforeAll(async () => {
      d = await registerDistrict(api.app);
      const licensed = await registerSite(api.app, d, {
        operation: INCINERATION,
        accepts: { categories: ['residual'], residues: [] },
      });
      const noPermit = await registerSite(api.app, d, {
        operation: INCINERATION,
        accepts: { categories: ['residual'], residues: [] },
        permitNumber: null,
      });
      // Licensed up to and including `day`.
      const lastDay = await registerSite(api.app, d, {
        operation: 'material_recovery',
        accepts: { categories: ['recyclable'], residues: [] },
        validTo: day,
      });
      // Licensed until the day before.
      expiredId = await registerSite(api.app, d, {
        operation: 'anaerobic_digestion',
        accepts: { categories: ['kitchen'], residues: [] },
        validTo: '2026-01-13',
      });
      const stationId = await transferStation(api.app, d);
      await collectEach(api.app, d, [
        [licensed, residual, 7_500, at(day, '07:00')],
        [noPermit, residual, 6_000, at(day, '07:30')],
        [lastDay, paper, 2_500, at(day, '08:00')],
        [stationId, residual, 4_000, at(day, '08:30')],
      ]);
    });

    it('intake without a permit is unlicensed: not in the numerator', async () => {
      const body = await indicators(api, { from: day, to: day, districtId: d.districtId });
      // collected = 7 500 + 6 000 + 2 500 + 4 000 = 20 000
      // harmless = (7 500 licensed + 2 500 on the permit's last day) ÷ 20 000; 6 000 unlicensed
      expect(body.figures.harmlessTreatmentRate).toEqual({
        numeratorKg: 10_000,
        denominatorKg: 20_000,
        ratio: 10_000 / 20_000,
        unlicensedIntakeKg: 6_000,
      });
      // It is still treatment intake (and household intake for zero landfill).
      expect(body.figures.treatmentIntakeKgByOperation).toEqual({
        [INCINERATION]: 13_500,
        material_recovery: 2_500,
      });
      // Over the whole month, permits are still judged day by day: the same figures.
      const month = await indicators(api, {
        from: '2026-01-01',
        to: '2026-01-31',
        districtId: d.districtId,
      });
      expect(month.figures.harmlessTreatmentRate).toEqual(body.figures.harmlessTreatmentRate);
    });

    it('a weighing at a facility whose permit has expired is refused, so it never counts', async () => {
      // The ingestion refuses it (LEDGER_ERR_SITE_NOT_VALID): a permit that does not cover the
      // day cannot reach the figures through the API, only a missing permit number can.
      const response = await post(
        api.app,
        '/v1/weighings',
        onePass({
          siteId: expiredId,
          ticketNo: nextTicketNo(),
          plate: d.compactor.plate,
          grossKg: 13_000,
          tareKg: 10_000,
          weighedInAt: at(day, '09:00'),
          load: kitchen,
          origin: d.collection,
        }),
      );
      expect(response.statusCode).toBe(422);
      expect(response.body).toMatchObject({ code: 'LEDGER_ERR_SITE_NOT_VALID', field: 'siteId' });
      const body = await indicators(api, { from: day, to: day, districtId: d.districtId });
      expect(body.figures.collected.totalKg).toBe(20_000);
    });
  });

  describe.skipIf(skip)('9. the plan report', () => {
    const plan = 'jinan-2022';
    const notTracked = [
      'kitchen-capacity',
      'incineration-expansion',
      'sorting-rooms',
      'model-sorting-units',
    ].map((targetId) => ({ targetId, status: 'not_tracked' }));

    /** A district with one site of each kind a report needs. */
    async function sites(d: District, incineratorPermit: string | null) {
      return {
        recovery: await registerSite(api.app, d, {
          operation: 'material_recovery',
          accepts: { categories: ['recyclable'], residues: [] },
        }),
        digester: await registerSite(api.app, d, {
          operation: 'anaerobic_digestion',
          accepts: { categories: ['kitchen'], residues: [] },
        }),
        incinerator: await registerSite(api.app, d, {
          operation: INCINERATION,
          accepts: { categories: ['residual'], residues: [] },
          permitNumber: incineratorPermit,
        }),
        landfill: await registerSite(api.app, d, {
          operation: 'sanitary_landfill',
          accepts: { categories: ['residual'], residues: [] },
        }),
        cRecycling: await registerSite(api.app, d, {
          operation: 'construction_recycling',
          accepts: { categories: ['construction'], residues: [] },
        }),
        cDisposal: await registerSite(api.app, d, {
          operation: 'construction_disposal',
          accepts: { categories: ['construction'], residues: [] },
        }),
      };
    }

    const judged = (r: ComplianceReport) =>
      r.entries.map((e) =>
        e.status === 'not_tracked'
          ? { targetId: e.targetId, status: e.status }
          : { targetId: e.targetId, status: e.status, actual: e.actual, basis: e.basis },
      );

    describe('a period wholly before the clock (the plan year, 2022): met / not met', () => {
      let d: District;
      let report: ComplianceReport;
      let checkpoint: number;

      beforeAll(async () => {
        d = await registerDistrict(api.app);
        const s = await sites(d, null);
        const [june, december] = ['2022-06-15', '2022-12-20'];
        const [demolition, truck] = [construction('demolition'), d.dumpTruck];
        await collectEach(api.app, d, [
          // 15 June (outside the last 30 days of the year):
          [s.recovery, paper, 6_000, at(june, '07:00')],
          [s.incinerator, residual, 8_000, at(june, '07:30')],
          [s.digester, kitchen, 4_000, at(june, '08:00')],
          [s.cRecycling, demolition, 9_000, at(june, '09:00'), truck],
          [s.cDisposal, demolition, 1_000, at(june, '10:00'), truck],
          // 20 December (inside the last 30 days, 2 – 31 December):
          [s.digester, kitchen, 5_000, at(december, '07:00')],
          [s.landfill, residual, 2_000, at(december, '08:00')],
        ]);
        checkpoint = await api.runner.catchUp();
        report = await planReport(api, plan, { districtId: d.districtId });
      });

      it('covers the plan year, over, under domain-default@1, up to the checkpoint', () => {
        expect(report.plan).toMatchObject({ id: plan, year: 2022 });
        expect(report.period).toEqual({ from: '2022-01-01', to: '2022-12-31', days: 365 });
        expect(report.periodOver).toBe(true);
        expect(report.rules.label).toBe('domain-default@1');
        expect(report.positions).toEqual({ after: 0, upTo: checkpoint });
        expect(report.moment).toMatchObject({
          kind: 'now',
          position: checkpoint,
          businessDay: '2026-03-20',
        });
        expect(report.runRate.from).toBe('2022-12-02');
        expect(report.runRate.to).toBe('2022-12-31');
      });

      it('judges each target by hand', () => {
        expect(judged(report)).toEqual([
          {
            // recycling = (6 000 recovered + 4 000 + 5 000 digested − 0) ÷
            //             (6 000 + 8 000 + 4 000 + 5 000 + 2 000 = 25 000) = 60 % ≥ 35 %
            targetId: 'recycling-rate',
            status: 'met',
            actual: (15_000 / 25_000) * 100,
            basis: {
              numeratorKg: 15_000,
              denominatorKg: 25_000,
              recyclablesRecoveredKg: 6_000,
              kitchenBiologicalKg: 9_000,
              residuesToDisposalKg: 0,
            },
          },
          {
            // Judged on 2 – 31 December only: 5 000 kg ÷ 30 days = 0.167 t/d < 1 300 t/d
            // (over the whole year it would be 9 000 kg ÷ 365 days).
            targetId: 'kitchen-separated',
            status: 'not_met',
            actual: 5_000 / 30 / 1_000,
            basis: { kitchenCollectedKg: 5_000, days: 30 },
          },
          {
            // construction = 9 000 ÷ (9 000 + 1 000) = 90 % ≥ 80 %
            targetId: 'construction-utilisation',
            status: 'met',
            actual: (9_000 / 10_000) * 100,
            basis: { numeratorKg: 9_000, denominatorKg: 10_000, excavatedSoilInScope: false },
          },
          {
            // harmless = (6 000 + 4 000 + 5 000 + 2 000) ÷ 25 000 = 68 % < 100 %: the incinerator
            // has no permit, its 8 000 kg are unlicensed.
            targetId: 'harmless-treatment-rate',
            status: 'not_met',
            actual: (17_000 / 25_000) * 100,
            basis: { numeratorKg: 17_000, denominatorKg: 25_000, unlicensedIntakeKg: 8_000 },
          },
          {
            // zero landfill = (25 000 − 2 000) ÷ 25 000 = 92 % < 100 %
            targetId: 'zero-landfill',
            status: 'not_met',
            actual: (23_000 / 25_000) * 100,
            basis: { numeratorKg: 23_000, denominatorKg: 25_000, rawLandfilledKg: 2_000 },
          },
          ...notTracked,
        ]);
        for (const e of report.entries.filter((x) => x.status === 'not_tracked')) {
          expect(e.whyNotTracked).toEqual(expect.any(String));
          expect(e).not.toHaveProperty('actual');
        }
        // The period's own figure for kitchen waste, for comparison: 9 000 kg over 365 days.
        expect(report.figures.kitchenSeparated).toEqual({
          kitchenCollectedKg: 9_000,
          days: 365,
          tonnesPerDay: 9_000 / 365 / 1_000,
        });
      });

      it('as CSV: text/csv, a header row and one row per target', async () => {
        const url = withQuery(`/v1/plans/${plan}/report`, {
          districtId: d.districtId,
          format: 'csv',
        });
        const response = await api.app.inject({
          method: 'GET',
          url,
          headers: authorization(api.app),
        });
        expect(response.statusCode).toBe(200);
        expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
        expect(response.body.startsWith('\uFEFF')).toBe(true);
        const lines = response.body.slice(1).split('\r\n');
        expect(lines.at(-1)).toBe('');
        const [header, ...rows] = lines.slice(0, -1);
        expect(header).toBe(
          'plan,target_id,label_zh,label_en,indicator,comparator,target,unit,actual,status,' +
            'numerator_kg,denominator_kg,period_from,period_to,district,rules,positions_up_to,moment',
        );
        expect(rows.map((r) => r.split(',').slice(0, 2).join(','))).toEqual(
          report.entries.map((e) => `${plan},${e.targetId}`),
        );
        expect(rows).toHaveLength(9);
        const tail = `2022-01-01,2022-12-31,${d.districtId},domain-default@1,${checkpoint},now`;
        expect(rows[0]).toBe(
          `${plan},recycling-rate,生活垃圾回收利用率,Household-waste recycling rate,recycling_rate,>=,35,percent,` +
            `${(15_000 / 25_000) * 100},met,15000,25000,${tail}`,
        );
        expect(rows[1]).toBe(
          `${plan},kitchen-separated,厨余垃圾分出量,Kitchen waste separated,kitchen_separated,>=,1300,t/d,` +
            `${5_000 / 30 / 1_000},not_met,5000,30,${tail}`,
        );
      });
    });

    describe('a period the clock is inside (1 Feb – 30 Jun 2026, clock 20 Mar): on track / at risk', () => {
      let d: District;
      let report: ComplianceReport;

      beforeAll(async () => {
        d = await registerDistrict(api.app);
        const s = await sites(d, 'JN-INC-2026');
        const [february, march] = ['2026-02-05', '2026-03-10'];
        const demolition = construction('demolition');
        await collectEach(api.app, d, [
          // 5 February (before the last 30 days, 19 Feb – 20 Mar):
          [s.digester, kitchen, 6_000, at(february, '07:00')],
          // 10 March:
          [s.digester, kitchen, 3_000, at(march, '07:00')],
          [s.recovery, plastic, 2_000, at(march, '07:30')],
          [s.incinerator, residual, 9_000, at(march, '08:00'), d.container],
          [s.cRecycling, demolition, 4_000, at(march, '09:00'), d.dumpTruck],
          [s.cDisposal, demolition, 6_000, at(march, '10:00'), d.dumpTruck],
        ]);
        report = await planReport(api, plan, {
          districtId: d.districtId,
          from: '2026-02-01',
          to: '2026-06-30',
        });
      });

      it('counts the days up to the clock and judges the run rate on the last 30 of them', () => {
        // 1 Feb – 20 Mar = 28 + 20 = 48 days; run rate 19 Feb – 20 Mar.
        expect(report.period).toEqual({ from: '2026-02-01', to: '2026-06-30', days: 48 });
        expect(report.periodOver).toBe(false);
        expect(report.runRate.from).toBe('2026-02-19');
        expect(report.runRate.to).toBe('2026-03-20');
        expect(judged(report)).toEqual([
          {
            // recycling = (2 000 + 6 000 + 3 000 − 0) ÷ (6 000 + 3 000 + 2 000 + 9 000) = 55 %
            targetId: 'recycling-rate',
            status: 'on_track',
            actual: (11_000 / 20_000) * 100,
            basis: {
              numeratorKg: 11_000,
              denominatorKg: 20_000,
              recyclablesRecoveredKg: 2_000,
              kitchenBiologicalKg: 9_000,
              residuesToDisposalKg: 0,
            },
          },
          {
            // 3 000 kg ÷ 30 days (the 6 000 kg of 5 February are outside the window)
            targetId: 'kitchen-separated',
            status: 'at_risk',
            actual: 3_000 / 30 / 1_000,
            basis: { kitchenCollectedKg: 3_000, days: 30 },
          },
          {
            // construction = 4 000 ÷ (4 000 + 6 000) = 40 % < 80 %
            targetId: 'construction-utilisation',
            status: 'at_risk',
            actual: (4_000 / 10_000) * 100,
            basis: { numeratorKg: 4_000, denominatorKg: 10_000, excavatedSoilInScope: false },
          },
          {
            // harmless = 20 000 ÷ 20 000 (every facility licensed)
            targetId: 'harmless-treatment-rate',
            status: 'on_track',
            actual: 100,
            basis: { numeratorKg: 20_000, denominatorKg: 20_000, unlicensedIntakeKg: 0 },
          },
          {
            // zero landfill = (20 000 − 0) ÷ 20 000
            targetId: 'zero-landfill',
            status: 'on_track',
            actual: 100,
            basis: { numeratorKg: 20_000, denominatorKg: 20_000, rawLandfilledKg: 0 },
          },
          ...notTracked,
        ]);
      });
    });
  });

  describe.skipIf(skip)('10. errors', () => {
    const days = { from: '2026-01-20', to: '2026-01-21' };

    async function expectProblem(url: string, expected: Record<string, unknown>): Promise<void> {
      await api.runner.catchUp();
      const response = await get(api.app, url);
      expect(response.body).toEqual({ ...expected, instance: url });
      expect(response.statusCode).toBe(expected.status);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
    }

    it('an unknown plan: 404 LEDGER_ERR_NOT_FOUND', async () => {
      await expectProblem(
        '/v1/plans/atlantis-2022/report',
        problemBody('LEDGER_ERR_NOT_FOUND', 'Not found', 404, 'No plan atlantis-2022', {
          field: 'planId',
        }),
      );
    });

    it.each([
      ['/v1/indicators', { from: '2026-01-21', to: '2026-01-20' }],
      ['/v1/plans/jinan-2022/report', { from: '2026-01-21', to: '2026-01-20' }],
    ])('to before from on %s: 400 naming to', async (path, query) => {
      const message = 'must not be before from';
      await expectProblem(
        withQuery(path, query),
        problemBody(
          'LEDGER_ERR_INVALID_INPUT',
          'The input is not valid',
          400,
          `querystring.to: ${message}`,
          { field: 'to', errors: [{ field: 'to', message }] },
        ),
      );
    });

    it.each(['/v1/indicators', '/v1/plans/jinan-2022/report'])(
      'an unknown rule set on %s: 400 naming rules',
      async (path) => {
        await expectProblem(
          withQuery(path, { ...days, rules: 'nope@1' }),
          problemBody(
            'LEDGER_ERR_INVALID_INPUT',
            'The input is not valid',
            400,
            'No rule set nope@1',
            { field: 'rules' },
          ),
        );
      },
    );

    it('a rule set that is not <id>@<version>: 400 naming rules', async () => {
      const message = 'must be <rule set>@<version>, e.g. domain-default@1';
      await expectProblem(
        withQuery('/v1/indicators', { ...days, rules: 'domain-default' }),
        problemBody(
          'LEDGER_ERR_INVALID_INPUT',
          'The input is not valid',
          400,
          `querystring.rules: ${message}`,
          { field: 'rules', errors: [{ field: 'rules', message }] },
        ),
      );
    });

    it('asOfPosition beyond the checkpoint: 503 LEDGER_ERR_NOT_CAUGHT_UP', async () => {
      const checkpoint = await api.runner.catchUp();
      const asOfPosition = checkpoint + 1_000;
      await expectProblem(
        withQuery('/v1/indicators', { ...days, asOfPosition }),
        problemBody(
          'LEDGER_ERR_NOT_CAUGHT_UP',
          'The projection has not reached the requested position yet',
          503,
          `Compliance facts reflect the log up to ${checkpoint}, not yet ${asOfPosition}; retry shortly`,
          { checkpoint, minPosition: asOfPosition },
        ),
      );
    });
  });
});
