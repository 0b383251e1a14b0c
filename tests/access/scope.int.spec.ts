import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyStore } from '../../src/access/key-store.js';
import { complianceFacts } from '../../src/projections/compliance-facts/projection.js';
import { findings } from '../../src/projections/findings/projection.js';
import { ProjectionRunner } from '../../src/projections/runner/runner.js';
import {
  expectRefused,
  get,
  headPosition,
  nextEventId,
  nextTicketNo,
  openApi,
  post,
  problemBody,
  registerScenario,
  registerVehicle,
  weighIn,
  type Api,
  type Scenario,
} from '../api/fixtures.js';
import { bearer } from '../support/access.js';
import { pgliteHarness } from '../support/databases.js';

const FORBIDDEN = "The API key's role or scope does not allow this";
const WEIGHED_IN_AT = '2026-03-03T23:50:00+08:00';

/**
 * Scope within a role: a station key acts for its own sites only, a regulator key limited to
 * districts reads only those. Two districts, each with its own station; keys for the first.
 */
describe('scope of station and regulator keys (PGlite)', () => {
  let api: Api;
  let keys: KeyStore;
  let own: Scenario;
  let other: Scenario;
  let station: { key: string; keyId: string };
  let regulator: { key: string; keyId: string };
  let cityWide: string;

  beforeAll(async () => {
    api = await openApi(pgliteHarness);
    for (const projection of [findings, complianceFacts]) {
      await new ProjectionRunner<string>({
        store: api.ledger.store,
        db: api.ledger.db,
        projection,
      }).setup();
    }
    keys = new KeyStore(api.ledger.db);
    own = await registerScenario(api.app);
    other = await registerScenario(api.app);
    const created = await keys.create({
      role: 'station',
      sites: [own.stationId],
      districts: [],
      label: '',
    });
    station = { key: created.key, keyId: created.record.keyId };
    const limited = await keys.create({
      role: 'regulator',
      sites: [],
      districts: [own.districtId],
      label: '',
    });
    regulator = { key: limited.key, keyId: limited.record.keyId };
    cityWide = (await keys.create({ role: 'regulator', sites: [], districts: [], label: '' })).key;
  });
  afterAll(() => api.close());

  /** A weigh-in by a vehicle of its own (one open ticket per plate and site). */
  const report = async (scenario: Scenario) =>
    weighIn({
      siteId: scenario.stationId,
      ticketNo: nextTicketNo(),
      plate: await registerVehicle(api.app),
      grossKg: 15_000,
      weighedInAt: WEIGHED_IN_AT,
      origin: scenario.collection,
    });

  describe('a station key', () => {
    it('posts for its own site, and its key id is the actor of the recorded event', async () => {
      const item = await report(own);
      const response = await post(api.app, '/v1/weighings', item, bearer(station.key));
      expect(response.statusCode).toBe(201);
      const [event] = await api.ledger.store.readStream(
        `ticket-${own.stationId}-${item.data.ticketNo as string}`,
      );
      expect(event?.metadata.actor).toBe(station.keyId);
    });

    it('is refused (403) a report for another site, and nothing is written', async () => {
      const item = await report(other);
      await expectRefused(
        api.app,
        () => post(api.app, '/v1/weighings', item, bearer(station.key)),
        problemBody(
          'LEDGER_ERR_FORBIDDEN',
          FORBIDDEN,
          403,
          `Key ${station.keyId} may not act for site ${other.stationId} (its sites: ${own.stationId})`,
          { keyId: station.keyId, siteId: other.stationId, instance: '/v1/weighings' },
        ),
      );
    });

    it("in a batch, another site's item alone is rejected with a 403 problem", async () => {
      const mine = await report(own);
      const theirs = await report(other);
      const before = await headPosition(api.app);
      const response = await post(
        api.app,
        '/v1/weighings/batch',
        { items: [mine, theirs] },
        bearer(station.key),
      );
      expect(response.statusCode).toBe(200);
      expect(response.body).toEqual({
        results: [
          {
            index: 0,
            status: 'recorded',
            eventId: mine.eventId,
            streamId: `ticket-${own.stationId}-${mine.data.ticketNo as string}`,
            revision: 0,
            position: expect.any(Number) as unknown,
            findings: [],
          },
          {
            index: 1,
            eventId: theirs.eventId,
            status: 'rejected',
            problem: problemBody(
              'LEDGER_ERR_FORBIDDEN',
              FORBIDDEN,
              403,
              `Key ${station.keyId} may not act for site ${other.stationId} (its sites: ${own.stationId})`,
              { keyId: station.keyId, siteId: other.stationId },
            ),
          },
        ],
        headPosition: expect.any(Number) as unknown,
      });
      // The weigh-in and its gate event: the other site's item wrote nothing.
      expect(await headPosition(api.app)).toBe(before + 2);
    });

    it('may not post trip reports that name no site, nor arrivals at another site', async () => {
      const dispatch = {
        eventId: nextEventId(),
        type: 'DispatchTrip',
        data: {
          tripId: 'trip-scope-1',
          plate: own.plate,
          districtId: own.districtId,
          category: 'kitchen',
          dispatchedAt: '2026-03-04T06:00:00+08:00',
        },
      };
      await expectRefused(
        api.app,
        () => post(api.app, '/v1/trips', dispatch, bearer(station.key)),
        problemBody(
          'LEDGER_ERR_FORBIDDEN',
          FORBIDDEN,
          403,
          `Key ${station.keyId} is a station key: it may post only reports that name one of its sites (${own.stationId})`,
          { keyId: station.keyId, instance: '/v1/trips' },
        ),
      );
      const arrival = {
        eventId: nextEventId(),
        type: 'RecordArrival',
        data: {
          tripId: 'trip-scope-1',
          siteId: other.stationId,
          arrivedAt: '2026-03-04T07:00:00+08:00',
        },
      };
      const response = await post(api.app, '/v1/trips', arrival, bearer(station.key));
      expect(response.statusCode).toBe(403);
    });

    it("reads its own site's ticket, not another site's", async () => {
      const mine = await report(own);
      const theirs = await report(other);
      expect((await post(api.app, '/v1/weighings', mine)).statusCode).toBe(201);
      expect((await post(api.app, '/v1/weighings', theirs)).statusCode).toBe(201);
      const ownUrl = `/v1/tickets/${own.stationId}/${mine.data.ticketNo as string}`;
      const read = await get(api.app, ownUrl, bearer(station.key));
      expect(read.statusCode).toBe(200);
      expect(read.body).toMatchObject({
        siteId: own.stationId,
        ticketNo: mine.data.ticketNo,
        state: { status: 'open', weighIn: { grossKg: 15_000, siteId: own.stationId } },
        events: [{ type: 'VehicleWeighedIn', revision: 0 }],
      });
      const otherUrl = `/v1/tickets/${other.stationId}/${theirs.data.ticketNo as string}`;
      expect(await get(api.app, otherUrl, bearer(station.key))).toEqual({
        statusCode: 403,
        contentType: 'application/problem+json; charset=utf-8',
        body: problemBody(
          'LEDGER_ERR_FORBIDDEN',
          FORBIDDEN,
          403,
          `Key ${station.keyId} may not act for site ${other.stationId} (its sites: ${own.stationId})`,
          { keyId: station.keyId, siteId: other.stationId, instance: otherUrl },
        ),
      });
      // Whether another site's ticket exists is not the station's to learn: same 403 if not.
      const missing = `/v1/tickets/${other.stationId}/NOPE1`;
      expect((await get(api.app, missing, bearer(station.key))).statusCode).toBe(403);
      const ownMissing = `/v1/tickets/${own.stationId}/NOPE1`;
      expect((await get(api.app, ownMissing, bearer(station.key))).statusCode).toBe(404);
    });
  });

  describe('a master-data write', () => {
    it("records the admin key's id as the actor", async () => {
      const keyId = (await keys.list()).find((k) => k.label === 'test admin')?.keyId;
      const districtId = `scope-d-${Date.now()}`;
      const response = await post(api.app, '/v1/districts', {
        districtId,
        name: 'Scope',
        jurisdiction: 'jinan',
      });
      expect(response.statusCode).toBe(201);
      const [event] = await api.ledger.store.readStream(
        (response.body as { streamId: string }).streamId,
      );
      expect(event?.metadata.actor).toBe(keyId);
    });
  });

  describe('a regulator key limited to a district', () => {
    const reads = [
      '/v1/tonnage?from=2026-03-01&to=2026-03-31',
      '/v1/findings?from=2026-03-01&to=2026-03-31',
      '/v1/indicators?from=2026-03-01&to=2026-03-31',
      '/v1/indicators/series?indicator=recycling_rate&from=2026-03-01&to=2026-03-31',
      '/v1/plans/jinan-2022/report?from=2022-03-01&to=2022-03-31&changes=false',
    ];

    it.each(reads)('reads its own district: %s', async (url) => {
      const response = await get(
        api.app,
        `${url}&districtId=${own.districtId}`,
        bearer(regulator.key),
      );
      expect({ url, status: response.statusCode }).toEqual({ url, status: 200 });
    });

    it.each(reads)('is refused another district (403): %s', async (url) => {
      const full = `${url}&districtId=${other.districtId}`;
      expect(await get(api.app, full, bearer(regulator.key))).toEqual({
        statusCode: 403,
        contentType: 'application/problem+json; charset=utf-8',
        body: problemBody(
          'LEDGER_ERR_FORBIDDEN',
          FORBIDDEN,
          403,
          `Key ${regulator.keyId} may not read district ${other.districtId} (its districts: ${own.districtId})`,
          { keyId: regulator.keyId, districtId: other.districtId, instance: full },
        ),
      });
    });

    it.each(reads)('is refused the whole city (403): %s', async (url) => {
      expect(await get(api.app, url, bearer(regulator.key))).toEqual({
        statusCode: 403,
        contentType: 'application/problem+json; charset=utf-8',
        body: problemBody(
          'LEDGER_ERR_FORBIDDEN',
          FORBIDDEN,
          403,
          `Key ${regulator.keyId} is limited to districts ${own.districtId}: name one with districtId`,
          { keyId: regulator.keyId, instance: url },
        ),
      });
    });

    it.each(reads)('while a city-wide regulator reads the whole city: %s', async (url) => {
      const response = await get(api.app, url, bearer(cityWide));
      expect({ url, status: response.statusCode }).toEqual({ url, status: 200 });
    });

    it("reads tickets of its district's sites, not of others", async () => {
      const mine = await report(own);
      const theirs = await report(other);
      expect((await post(api.app, '/v1/weighings', mine)).statusCode).toBe(201);
      expect((await post(api.app, '/v1/weighings', theirs)).statusCode).toBe(201);
      const ownUrl = `/v1/tickets/${own.stationId}/${mine.data.ticketNo as string}`;
      expect((await get(api.app, ownUrl, bearer(regulator.key))).statusCode).toBe(200);
      const otherUrl = `/v1/tickets/${other.stationId}/${theirs.data.ticketNo as string}`;
      expect(await get(api.app, otherUrl, bearer(regulator.key))).toMatchObject({
        statusCode: 403,
        body: {
          code: 'LEDGER_ERR_FORBIDDEN',
          detail: `Key ${regulator.keyId} may not read site ${other.stationId}: it is not in the key's districts (${own.districtId})`,
        },
      });
      expect((await get(api.app, otherUrl, bearer(cityWide))).statusCode).toBe(200);
    });
  });
});
