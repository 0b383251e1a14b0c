/**
 * Concurrency (issue 7, part 5), run unchanged on PGlite (concurrency.int.spec.ts) and
 * PostgreSQL (concurrency.e2e.spec.ts):
 *
 * - two stations racing to correct the same ticket, both deciding on the same revision: one is
 *   recorded, the other answered 409 with the ticket's current revision; the same correction
 *   sent twice at once (a retry racing its original) is recorded once and answered duplicate;
 * - 8 clients posting overlapping batches (the same reports in several batches, in different
 *   orders, at once): every report is recorded exactly once, and every answer says recorded or
 *   duplicate for every item, at the same place.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  correct,
  nextTicketNo,
  onePass,
  openApi,
  post,
  problemBody,
  record,
  registerScenario,
  registerVehicle,
  voidTicket,
  type Accepted,
  type Api,
  type Json,
  type Report,
  type Scenario,
} from '../api/fixtures.js';
import { readLog } from '../projections/fixtures.js';
import type { StoreHarness } from '../support/databases.js';

const RACES = 50;
const CLIENTS = 8;
/** Reports shared by the clients: a power of two, so that each client's order is a permutation. */
const REPORTS = 128;
const BATCH = 16;

const WRONG_REVISION = "The stream's revision is not the one expected";

/** `2026-03-<day>T<hh>:<mm>:00+08:00`, minutes counted from 00:00 on 1 March. */
function localTime(minutes: number): string {
  const day = 1 + Math.floor(minutes / 1440);
  const hh = Math.floor((minutes % 1440) / 60);
  const mm = minutes % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return `2026-03-${two(day)}T${two(hh)}:${two(mm)}:00+08:00`;
}

/** The report, stating the ticket revision it was decided on. */
function expecting(revision: number, report: Report): Report {
  return { ...report, data: { ...report.data, expectedRevision: revision } };
}

interface ItemResult {
  readonly index: number;
  readonly eventId: string;
  readonly status: 'recorded' | 'duplicate' | 'rejected';
  readonly streamId?: string;
  readonly revision?: number;
  readonly position?: number;
}

export function describeConcurrencySuite(harness: StoreHarness): void {
  describe(`concurrent writers on ${harness.name}`, () => {
    let api: Api;
    let s: Scenario;

    beforeAll(async () => {
      api = await openApi(harness);
      s = await registerScenario(api.app);
    });
    afterAll(async () => {
      await api.close();
    });

    /** A weighed ticket of its own: a one-pass weighing 30 minutes after the previous one. */
    let minutes = 0;
    async function weighedTicket(): Promise<{ ticketNo: string; revision: number }> {
      minutes += 30;
      const ticketNo = nextTicketNo();
      const accepted = await record(
        api.app,
        onePass({
          siteId: s.stationId,
          ticketNo,
          plate: s.plate,
          grossKg: 16_000,
          tareKg: 10_000,
          weighedInAt: localTime(minutes),
          origin: s.collection,
        }),
      );
      // The ticket's revision: its report's, plus one per finding recorded after it.
      return { ticketNo, revision: accepted.revision + accepted.findings.length };
    }

    it(`lets one of two racing corrections win and answers the other 409 with the current revision (${RACES} races)`, async () => {
      for (let race = 0; race < RACES; race += 1) {
        const { ticketNo, revision } = await weighedTicket();
        const streamId = `ticket-${s.stationId}-${ticketNo}`;
        const correction = (grossKg: number) =>
          expecting(
            revision,
            correct({
              siteId: s.stationId,
              ticketNo,
              grossKg,
              correctedAt: localTime(minutes + 10),
            }),
          );
        // Race by race, the two stations swap places in the request order.
        const [a, b] = race % 2 === 0 ? [16_100, 16_200] : [16_200, 16_100];
        const reports = [correction(a), correction(b)];
        const answers = await Promise.all(reports.map((r) => post(api.app, '/v1/weighings', r)));

        const winner = answers.findIndex((x) => x.statusCode === 201);
        const loser = 1 - winner;
        expect(answers.map((x) => x.statusCode).sort()).toEqual([201, 409]);
        expect(answers[winner]?.body).toEqual({
          status: 'recorded',
          eventId: reports[winner]?.eventId,
          streamId,
          revision: revision + 1,
          position: expect.any(Number) as number,
          findings: [],
        });
        expect(answers[loser]?.contentType).toMatch(/^application\/problem\+json/);
        expect(answers[loser]?.body).toEqual(
          problemBody(
            'LEDGER_ERR_WRONG_EXPECTED_REVISION',
            WRONG_REVISION,
            409,
            `Ticket ${ticketNo} at ${s.stationId} is at revision ${revision + 1}, not ${revision}: it changed since it was read`,
            {
              field: 'expectedRevision',
              streamId,
              expectedRevision: revision,
              actualRevision: revision + 1,
              instance: '/v1/weighings',
            },
          ),
        );
        const ticket = (await api.ledger.store.readStream(streamId)).map((e) => [e.type, e.id]);
        expect(ticket.filter(([type]) => type === 'TicketCorrected')).toEqual([
          ['TicketCorrected', reports[winner]?.eventId],
        ]);
      }
    });

    it('refuses a correction and a void racing on the same revision alike: one wins', async () => {
      for (let race = 0; race < 10; race += 1) {
        const { ticketNo, revision } = await weighedTicket();
        const reports = [
          correct({
            siteId: s.stationId,
            ticketNo,
            grossKg: 16_300,
            correctedAt: localTime(minutes + 10),
          }),
          voidTicket({ siteId: s.stationId, ticketNo, voidedAt: localTime(minutes + 10) }),
        ].map((report) => expecting(revision, report));
        const answers = await Promise.all(reports.map((r) => post(api.app, '/v1/weighings', r)));
        expect(answers.map((x) => x.statusCode).sort()).toEqual([201, 409]);
        const loser = answers.find((x) => x.statusCode === 409);
        expect(loser?.body).toMatchObject({
          code: 'LEDGER_ERR_WRONG_EXPECTED_REVISION',
          expectedRevision: revision,
          actualRevision: revision + 1,
        });
      }
    });

    it('records a correction retried while its first attempt is in flight once, and answers the retry duplicate', async () => {
      for (let race = 0; race < 20; race += 1) {
        const { ticketNo, revision } = await weighedTicket();
        const report = expecting(
          revision,
          correct({
            siteId: s.stationId,
            ticketNo,
            grossKg: 16_400,
            correctedAt: localTime(minutes + 10),
          }),
        );
        const answers = await Promise.all([
          post(api.app, '/v1/weighings', report),
          post(api.app, '/v1/weighings', report),
        ]);
        expect(answers.map((x) => x.statusCode).sort()).toEqual([200, 201]);
        const [first, second] = answers.map((x) => x.body as Accepted);
        expect({ ...first, status: 'any' }).toEqual({ ...second, status: 'any' });
        expect(first?.revision).toBe(revision + 1);
      }
    });

    it('applies corrections that state no expected revision one after the other', async () => {
      const { ticketNo, revision } = await weighedTicket();
      const reports = [16_500, 16_600].map((grossKg) =>
        correct({ siteId: s.stationId, ticketNo, grossKg, correctedAt: localTime(minutes + 10) }),
      );
      const answers = await Promise.all(reports.map((r) => post(api.app, '/v1/weighings', r)));
      expect(answers.map((x) => x.statusCode)).toEqual([201, 201]);
      expect(answers.map((x) => (x.body as Accepted).revision).sort()).toEqual([
        revision + 1,
        revision + 2,
      ]);
    });

    it(`records every report of ${CLIENTS} clients posting overlapping batches exactly once`, async () => {
      const plates: string[] = [];
      for (let k = 0; k < CLIENTS; k += 1) plates.push(await registerVehicle(api.app));
      const start = minutes + 60;
      minutes = start + REPORTS * 30;
      const reports = Array.from({ length: REPORTS }, (_, i) =>
        onePass({
          siteId: s.stationId,
          ticketNo: nextTicketNo(),
          plate: plates[i % CLIENTS] ?? s.plate,
          grossKg: 16_000 + (i % 50) * 20,
          tareKg: 10_000,
          // Apart enough that no order of posting makes a repeat-weighing finding.
          weighedInAt: localTime(start + i * 30),
          origin: s.collection,
        }),
      );
      // Client c posts every report, in its own order: i ↦ (i·(2c+1) + 17c) mod 128 is a
      // permutation, so each report is in 8 batches, at different places, sent at once.
      const batchesOf = (client: number): Report[][] => {
        const order = reports.map(
          (_, i) => reports[(i * (2 * client + 1) + 17 * client) % REPORTS] as Report,
        );
        return Array.from({ length: REPORTS / BATCH }, (_, b) =>
          order.slice(b * BATCH, (b + 1) * BATCH),
        );
      };
      const answers = await Promise.all(
        Array.from({ length: CLIENTS }, async (_, client) => {
          const batches: Json[] = [];
          for (const items of batchesOf(client)) {
            batches.push(await post(api.app, '/v1/weighings/batch', { items }));
          }
          return batches;
        }),
      );

      expect(answers.flat().filter((answer) => answer.statusCode !== 200)).toEqual([]);
      const all = answers
        .flat()
        .flatMap((answer) => (answer.body as { results: ItemResult[] }).results);
      expect(all).toHaveLength(CLIENTS * REPORTS);
      expect(all.filter((r) => r.status !== 'recorded' && r.status !== 'duplicate')).toEqual([]);
      // Per report: recorded in exactly one answer, duplicate in the others, all at one place.
      for (const report of reports) {
        const mine = all.filter((r) => r.eventId === report.eventId);
        expect(mine.map((r) => r.status).sort()).toEqual([
          ...Array<string>(CLIENTS - 1).fill('duplicate'),
          'recorded',
        ]);
        expect(new Set(mine.map((r) => `${r.streamId}@${r.revision}#${r.position}`)).size).toBe(1);
      }
      const log = await readLog(api.ledger.store);
      const ids = log.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      const stored = new Map(log.map((e) => [e.id, e]));
      for (const report of reports) {
        const event = stored.get(report.eventId);
        const answer = all.find((r) => r.eventId === report.eventId);
        expect([event?.type, event?.streamId, event?.position]).toEqual([
          'VehicleWeighedOnePass',
          answer?.streamId,
          answer?.position,
        ]);
      }
    });
  });
}
