import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectRefused,
  headPosition,
  nextEventId,
  nextId,
  nextPlate,
  post,
  problemBody,
  TIME_ZONE,
  type Report,
} from '../api/fixtures.js';
import { openProjectionDb, type ProjectionDb } from '../projections/fixtures.js';
import { buildTestApp } from '../support/access.js';
import { pgliteHarness, postgresAvailable, postgresHarness } from '../support/databases.js';

const postgres = await postgresAvailable();

const INVALID_INPUT = 'The input is not valid';
const OUT_OF_ORDER = 'The report is out of order';
const ID_CONFLICT =
  'An event with this id is already stored with other content or at another place';
const IN_FUTURE = "The time is more than 10 minutes ahead of the ledger's clock";
const JSON_TYPE = 'application/json; charset=utf-8';

// ---------------------------------------------------------------------------------------------
// Trip reports, as a dispatch system posts them. Every trip has its own id, plate and sites.

interface Trip {
  readonly tripId: string;
  readonly plate: string;
  readonly districtId: string;
  readonly siteId: string;
}

function newTrip(): Trip {
  return {
    tripId: nextId('trip'),
    plate: nextPlate(),
    districtId: nextId('lixia'),
    siteId: nextId('ts'),
  };
}

function dispatchTrip(trip: Trip, dispatchedAt: string, eventId = nextEventId()): Report {
  return {
    eventId,
    type: 'DispatchTrip',
    data: {
      tripId: trip.tripId,
      plate: trip.plate,
      districtId: trip.districtId,
      category: 'kitchen',
      dispatchedAt,
    },
  };
}

function collection(
  trip: Trip,
  collectedAt: string,
  extra: { bins?: number; kg?: number } = {},
  eventId = nextEventId(),
): Report {
  return {
    eventId,
    type: 'RecordCollection',
    data: {
      tripId: trip.tripId,
      collectionPointId: `${trip.districtId}-cp-1`,
      category: 'kitchen',
      bins: extra.bins ?? 12,
      ...(extra.kg === undefined ? {} : { kg: extra.kg }),
      collectedAt,
    },
  };
}

function arrival(
  trip: Trip,
  arrivedAt: string,
  ticketNo?: string,
  siteId = trip.siteId,
  eventId = nextEventId(),
): Report {
  return {
    eventId,
    type: 'RecordArrival',
    data: {
      tripId: trip.tripId,
      siteId,
      arrivedAt,
      ...(ticketNo === undefined ? {} : { ticketNo }),
    },
  };
}

function departure(
  trip: Trip,
  departedAt: string,
  siteId = trip.siteId,
  eventId = nextEventId(),
): Report {
  return { eventId, type: 'RecordDeparture', data: { tripId: trip.tripId, siteId, departedAt } };
}

/** What 201/200 answer. */
function accepted(
  status: 'recorded' | 'duplicate',
  report: Report,
  revision: number,
  position: number,
) {
  return {
    status,
    eventId: report.eventId,
    streamId: `trip-${(report.data as { tripId: string }).tripId}`,
    revision,
    position,
    findings: [],
  };
}

/** An ISO instant `minutes` from the real clock (the API stamps requests with `Date.now()`). */
function minutesFromNow(minutes: number): string {
  return new Date(Date.now() + minutes * 60_000).toISOString();
}

describe.each([
  { harness: pgliteHarness, skip: false },
  { harness: postgresHarness, skip: !postgres },
])('trip API on $harness.name', ({ harness, skip }) => {
  let ledger: ProjectionDb;
  let app: FastifyInstance;

  beforeAll(async () => {
    if (skip) return;
    ledger = await openProjectionDb(harness);
    app = await buildTestApp({ store: ledger.store, db: ledger.db, timeZone: TIME_ZONE });
  });
  afterAll(async () => {
    if (skip) return;
    await app.close();
    await ledger.close();
  });

  /** The trip's stream as stored: type, revision, position and data of each event. */
  async function stream(trip: Trip) {
    const events = await ledger.store.readStream(`trip-${trip.tripId}`);
    return events.map((e) => ({
      type: e.type,
      revision: e.revision,
      position: e.position,
      data: e.data,
    }));
  }

  async function recordTrip(report: Report): Promise<void> {
    const response = await post(app, '/v1/trips', report);
    expect(response.statusCode).toBe(201);
  }

  describe.skipIf(skip)('one report at a time', () => {
    it('records a dispatch (201); the same report again is a 200 duplicate at the same place', async () => {
      const trip = newTrip();
      const report = dispatchTrip(trip, '2026-03-04T06:00:00+08:00');
      const head = await headPosition(app);

      expect(await post(app, '/v1/trips', report)).toEqual({
        statusCode: 201,
        contentType: JSON_TYPE,
        body: accepted('recorded', report, 0, head + 1),
      });
      expect(await post(app, '/v1/trips', report)).toEqual({
        statusCode: 200,
        contentType: JSON_TYPE,
        body: accepted('duplicate', report, 0, head + 1),
      });
      // The event id is case-insensitive: the same UUID in capitals is the same report.
      expect(
        await post(app, '/v1/trips', { ...report, eventId: report.eventId.toUpperCase() }),
      ).toEqual({
        statusCode: 200,
        contentType: JSON_TYPE,
        body: accepted('duplicate', report, 0, head + 1),
      });
      expect(await headPosition(app)).toBe(head + 1);
    });

    it('answers the same event id with other content with 409 LEDGER_ERR_EVENT_ID_CONFLICT', async () => {
      const trip = newTrip();
      const report = dispatchTrip(trip, '2026-03-04T06:00:00+08:00');
      await recordTrip(report);

      const other = dispatchTrip(trip, '2026-03-04T06:05:00+08:00', report.eventId);
      await expectRefused(
        app,
        () => post(app, '/v1/trips', other),
        problemBody(
          'LEDGER_ERR_EVENT_ID_CONFLICT',
          ID_CONFLICT,
          409,
          `Event ${report.eventId} was already recorded with other content`,
          { field: 'eventId', eventId: report.eventId, instance: '/v1/trips' },
        ),
      );
    });

    it('answers an event id already used by another trip with 409 LEDGER_ERR_EVENT_ID_CONFLICT', async () => {
      const first = newTrip();
      const report = dispatchTrip(first, '2026-03-04T06:00:00+08:00');
      await recordTrip(report);

      const second = newTrip();
      await expectRefused(
        app,
        () =>
          post(app, '/v1/trips', dispatchTrip(second, '2026-03-04T06:00:00+08:00', report.eventId)),
        problemBody(
          'LEDGER_ERR_EVENT_ID_CONFLICT',
          ID_CONFLICT,
          409,
          `Event ${report.eventId} was already recorded with other content`,
          { field: 'eventId', eventId: report.eventId, instance: '/v1/trips' },
        ),
      );
      expect(await stream(second)).toEqual([]);
    });

    it('records dispatch → collections → arrival → departure in order, revisions 0..4', async () => {
      const trip = newTrip();
      const reports = [
        dispatchTrip(trip, '2026-03-04T06:00:00+08:00'),
        collection(trip, '2026-03-04T06:20:00+08:00', { bins: 12, kg: 1_450 }),
        // A step may share its predecessor's instant.
        collection(trip, '2026-03-04T06:20:00+08:00', { bins: 0 }),
        arrival(trip, '2026-03-04T07:05:00+08:00', '20260304-00042'),
        departure(trip, '2026-03-04T07:25:00+08:00'),
      ];
      const head = await headPosition(app);
      for (const [revision, report] of reports.entries()) {
        expect(await post(app, '/v1/trips', report)).toEqual({
          statusCode: 201,
          contentType: JSON_TYPE,
          body: accepted('recorded', report, revision, head + 1 + revision),
        });
      }

      expect(await stream(trip)).toEqual([
        {
          type: 'TripDispatched',
          revision: 0,
          position: head + 1,
          data: {
            tripId: trip.tripId,
            plate: trip.plate,
            districtId: trip.districtId,
            category: 'kitchen',
            dispatchedAt: '2026-03-04T06:00:00+08:00',
          },
        },
        {
          type: 'CollectedAtPoint',
          revision: 1,
          position: head + 2,
          data: {
            tripId: trip.tripId,
            collectionPointId: `${trip.districtId}-cp-1`,
            category: 'kitchen',
            bins: 12,
            kg: 1_450,
            collectedAt: '2026-03-04T06:20:00+08:00',
          },
        },
        {
          type: 'CollectedAtPoint',
          revision: 2,
          position: head + 3,
          data: {
            tripId: trip.tripId,
            collectionPointId: `${trip.districtId}-cp-1`,
            category: 'kitchen',
            bins: 0,
            collectedAt: '2026-03-04T06:20:00+08:00',
          },
        },
        {
          type: 'ArrivedAtSite',
          revision: 3,
          position: head + 4,
          data: {
            tripId: trip.tripId,
            siteId: trip.siteId,
            arrivedAt: '2026-03-04T07:05:00+08:00',
            ticketNo: '20260304-00042',
          },
        },
        {
          type: 'DepartedSite',
          revision: 4,
          position: head + 5,
          data: {
            tripId: trip.tripId,
            siteId: trip.siteId,
            departedAt: '2026-03-04T07:25:00+08:00',
          },
        },
      ]);
    });

    it('records dispatch → collection → arrival → departure with dense revisions 0..3', async () => {
      const trip = newTrip();
      const reports = [
        dispatchTrip(trip, '2026-03-05T06:00:00+08:00'),
        collection(trip, '2026-03-05T06:30:00+08:00'),
        // Offsets differ, instants count: 23:10 UTC is 07:10 in Shanghai.
        arrival(trip, '2026-03-04T23:10:00Z'),
        departure(trip, '2026-03-05T07:30:00+08:00'),
      ];
      const head = await headPosition(app);
      const revisions: number[] = [];
      for (const report of reports) {
        const response = await post(app, '/v1/trips', report);
        expect(response.statusCode).toBe(201);
        revisions.push((response.body as { revision: number }).revision);
      }
      expect(revisions).toEqual([0, 1, 2, 3]);
      expect((await stream(trip)).map((e) => [e.type, e.revision, e.position])).toEqual([
        ['TripDispatched', 0, head + 1],
        ['CollectedAtPoint', 1, head + 2],
        ['ArrivedAtSite', 2, head + 3],
        ['DepartedSite', 3, head + 4],
      ]);
    });
  });

  describe.skipIf(skip)('out of order', () => {
    function outOfOrder(detail: string, field: string) {
      return problemBody('LEDGER_ERR_OUT_OF_ORDER', OUT_OF_ORDER, 422, detail, {
        field,
        instance: '/v1/trips',
      });
    }

    it('refuses an arrival before the dispatch (422, field tripId)', async () => {
      const trip = newTrip();
      await expectRefused(
        app,
        () => post(app, '/v1/trips', arrival(trip, '2026-03-04T07:05:00+08:00')),
        outOfOrder(
          `Trip ${trip.tripId} cannot arrive at a site: it has not been dispatched`,
          'tripId',
        ),
      );
      expect(await stream(trip)).toEqual([]);
    });

    it('refuses a step earlier than the previous one (422, naming the time field)', async () => {
      const trip = newTrip();
      await recordTrip(dispatchTrip(trip, '2026-03-04T06:00:00+08:00'));
      await expectRefused(
        app,
        () => post(app, '/v1/trips', collection(trip, '2026-03-04T05:59:59+08:00')),
        outOfOrder(
          `collectedAt 2026-03-04T05:59:59+08:00 is before the trip's previous step at 2026-03-04T06:00:00+08:00`,
          'collectedAt',
        ),
      );

      await recordTrip(collection(trip, '2026-03-04T06:30:00+08:00'));
      // 22:20 UTC is 06:20 in Shanghai: ten minutes before the collection.
      await expectRefused(
        app,
        () => post(app, '/v1/trips', arrival(trip, '2026-03-03T22:20:00Z')),
        outOfOrder(
          `arrivedAt 2026-03-03T22:20:00Z is before the trip's previous step at 2026-03-04T06:30:00+08:00`,
          'arrivedAt',
        ),
      );

      await recordTrip(arrival(trip, '2026-03-04T07:00:00+08:00'));
      await expectRefused(
        app,
        () => post(app, '/v1/trips', departure(trip, '2026-03-04T06:59:00+08:00')),
        outOfOrder(
          `departedAt 2026-03-04T06:59:00+08:00 is before the trip's previous step at 2026-03-04T07:00:00+08:00`,
          'departedAt',
        ),
      );
      expect((await stream(trip)).map((e) => e.type)).toEqual([
        'TripDispatched',
        'CollectedAtPoint',
        'ArrivedAtSite',
      ]);
    });

    it('refuses a second dispatch, a collection at the site, and leaving another site', async () => {
      const trip = newTrip();
      await recordTrip(dispatchTrip(trip, '2026-03-04T06:00:00+08:00'));
      await expectRefused(
        app,
        () => post(app, '/v1/trips', dispatchTrip(trip, '2026-03-04T06:10:00+08:00')),
        outOfOrder(`Trip ${trip.tripId} is already dispatched`, 'tripId'),
      );
      await expectRefused(
        app,
        () => post(app, '/v1/trips', departure(trip, '2026-03-04T06:20:00+08:00')),
        outOfOrder(
          `Trip ${trip.tripId} has not arrived at ${trip.siteId}, so cannot leave it`,
          'siteId',
        ),
      );

      await recordTrip(arrival(trip, '2026-03-04T07:00:00+08:00'));
      await expectRefused(
        app,
        () => post(app, '/v1/trips', collection(trip, '2026-03-04T07:10:00+08:00')),
        outOfOrder(`Trip ${trip.tripId} cannot collect: it is at ${trip.siteId}`, 'tripId'),
      );
      await expectRefused(
        app,
        () => post(app, '/v1/trips', departure(trip, '2026-03-04T07:20:00+08:00', 'ts-elsewhere')),
        outOfOrder(`Trip ${trip.tripId} is at ${trip.siteId}, not at ts-elsewhere`, 'siteId'),
      );

      await recordTrip(departure(trip, '2026-03-04T07:20:00+08:00'));
      await expectRefused(
        app,
        () => post(app, '/v1/trips', arrival(trip, '2026-03-04T07:40:00+08:00')),
        outOfOrder(
          `Trip ${trip.tripId} cannot arrive at a site: it has already left ${trip.siteId}`,
          'tripId',
        ),
      );
    });
  });

  describe.skipIf(skip)('clock', () => {
    it('refuses a time more than 10 minutes ahead of the ledger clock (422)', async () => {
      const trip = newTrip();
      const at = minutesFromNow(60);
      await expectRefused(
        app,
        () => post(app, '/v1/trips', dispatchTrip(trip, at)),
        problemBody(
          'LEDGER_ERR_TIME_IN_FUTURE',
          IN_FUTURE,
          422,
          `dispatchedAt ${at} is more than 10 minutes ahead of the ledger's clock`,
          { field: 'dispatchedAt', instance: '/v1/trips' },
        ),
      );
    });

    it('accepts a clock a few minutes fast', async () => {
      const trip = newTrip();
      const report = dispatchTrip(trip, minutesFromNow(5));
      const head = await headPosition(app);
      expect(await post(app, '/v1/trips', report)).toEqual({
        statusCode: 201,
        contentType: JSON_TYPE,
        body: accepted('recorded', report, 0, head + 1),
      });
    });
  });

  describe.skipIf(skip)('malformed reports', () => {
    function invalid(field: string, message: string) {
      return problemBody(
        'LEDGER_ERR_INVALID_INPUT',
        INVALID_INPUT,
        400,
        `body.${field}: ${message}`,
        {
          field,
          errors: [{ field, message }],
          instance: '/v1/trips',
        },
      );
    }

    it('answers 400 naming the field: plate, time without offset, bins, event id', async () => {
      const trip = newTrip();
      const good = dispatchTrip(trip, '2026-03-04T06:00:00+08:00');
      await expectRefused(
        app,
        () => post(app, '/v1/trips', { ...good, data: { ...good.data, plate: 'ABC123' } }),
        invalid('data.plate', 'is not a Chinese plate'),
      );
      await expectRefused(
        app,
        () =>
          post(app, '/v1/trips', {
            ...good,
            data: { ...good.data, dispatchedAt: '2026-03-04T06:00:00' },
          }),
        invalid(
          'data.dispatchedAt',
          'must be an ISO 8601 date-time with an offset, e.g. 2026-03-03T08:15:00+08:00',
        ),
      );
      await expectRefused(
        app,
        () => post(app, '/v1/trips', { ...good, eventId: 'not-a-uuid' }),
        invalid('eventId', 'must be a UUID'),
      );
      const collected = collection(trip, '2026-03-04T06:20:00+08:00');
      await expectRefused(
        app,
        () => post(app, '/v1/trips', { ...collected, data: { ...collected.data, bins: 2.5 } }),
        invalid('data.bins', 'Invalid input: expected int, received number'),
      );
      expect(await stream(trip)).toEqual([]);
    });
  });

  describe.skipIf(skip)('batches', () => {
    it('answers each item on its own: recorded, duplicate, rejected (400, 409, 422), in order', async () => {
      const trip = newTrip();
      const earlier = dispatchTrip(trip, '2026-03-04T06:00:00+08:00');
      const head = await headPosition(app);
      await recordTrip(earlier);

      const other = newTrip();
      const malformed = collection(trip, '2026-03-04T06:20:00+08:00');
      const items = [
        /* 0 */ earlier,
        /* 1 */ collection(trip, '2026-03-04T06:20:00+08:00'),
        /* 2 */ { ...malformed, data: { ...malformed.data, collectedAt: 'yesterday' } },
        /* 3 */ dispatchTrip(trip, '2026-03-04T06:05:00+08:00', earlier.eventId),
        /* 4 */ arrival(other, '2026-03-04T07:00:00+08:00'),
        /* 5 */ arrival(trip, '2026-03-04T07:00:00+08:00'),
        /* 6 */ dispatchTrip(other, '2026-03-04T06:10:00+08:00'),
      ] as const;
      const response = await post(app, '/v1/trips/batch', { items });

      expect(response).toEqual({
        statusCode: 200,
        contentType: JSON_TYPE,
        body: {
          results: [
            { index: 0, ...accepted('duplicate', items[0], 0, head + 1) },
            { index: 1, ...accepted('recorded', items[1], 1, head + 2) },
            {
              index: 2,
              status: 'rejected',
              problem: problemBody(
                'LEDGER_ERR_INVALID_INPUT',
                INVALID_INPUT,
                400,
                'must be an ISO 8601 date-time with an offset, e.g. 2026-03-03T08:15:00+08:00',
                { field: 'items[2].data.collectedAt' },
              ),
            },
            {
              index: 3,
              eventId: earlier.eventId,
              status: 'rejected',
              problem: problemBody(
                'LEDGER_ERR_EVENT_ID_CONFLICT',
                ID_CONFLICT,
                409,
                `Event ${earlier.eventId} was already recorded with other content`,
                { field: 'eventId', eventId: earlier.eventId },
              ),
            },
            {
              index: 4,
              eventId: items[4].eventId,
              status: 'rejected',
              problem: problemBody(
                'LEDGER_ERR_OUT_OF_ORDER',
                OUT_OF_ORDER,
                422,
                `Trip ${other.tripId} cannot arrive at a site: it has not been dispatched`,
                { field: 'tripId' },
              ),
            },
            { index: 5, ...accepted('recorded', items[5], 2, head + 3) },
            { index: 6, ...accepted('recorded', items[6], 0, head + 4) },
          ],
          headPosition: head + 4,
        },
      });
      expect((await stream(trip)).map((e) => [e.type, e.revision])).toEqual([
        ['TripDispatched', 0],
        ['CollectedAtPoint', 1],
        ['ArrivedAtSite', 2],
      ]);
    });

    it('sees the items before it: a whole trip in one batch, and a retry of it', async () => {
      const trip = newTrip();
      const items = [
        dispatchTrip(trip, '2026-03-06T06:00:00+08:00'),
        collection(trip, '2026-03-06T06:20:00+08:00'),
        arrival(trip, '2026-03-06T07:00:00+08:00'),
        departure(trip, '2026-03-06T07:20:00+08:00'),
      ];
      const head = await headPosition(app);
      const first = await post(app, '/v1/trips/batch', { items });
      expect(first).toEqual({
        statusCode: 200,
        contentType: JSON_TYPE,
        body: {
          results: items.map((item, k) => ({
            index: k,
            ...accepted('recorded', item, k, head + 1 + k),
          })),
          headPosition: head + 4,
        },
      });

      const retry = await post(app, '/v1/trips/batch', { items });
      expect(retry).toEqual({
        statusCode: 200,
        contentType: JSON_TYPE,
        body: {
          results: items.map((item, k) => ({
            index: k,
            ...accepted('duplicate', item, k, head + 1 + k),
          })),
          headPosition: head + 4,
        },
      });
    });

    it('rejects only the item whose event id another trip already used', async () => {
      const used = dispatchTrip(newTrip(), '2026-03-04T06:00:00+08:00');
      await recordTrip(used);
      const a = newTrip();
      const b = newTrip();
      const c = newTrip();
      const items = [
        dispatchTrip(a, '2026-03-04T06:00:00+08:00'),
        dispatchTrip(b, '2026-03-04T06:00:00+08:00', used.eventId),
        dispatchTrip(c, '2026-03-04T06:00:00+08:00'),
      ] as const;
      const head = await headPosition(app);
      const response = await post(app, '/v1/trips/batch', { items });

      expect(response).toEqual({
        statusCode: 200,
        contentType: JSON_TYPE,
        body: {
          results: [
            { index: 0, ...accepted('recorded', items[0], 0, head + 1) },
            {
              index: 1,
              eventId: used.eventId,
              status: 'rejected',
              problem: problemBody(
                'LEDGER_ERR_EVENT_ID_CONFLICT',
                ID_CONFLICT,
                409,
                `Event ${used.eventId} was already recorded with other content`,
                { field: 'eventId', eventId: used.eventId },
              ),
            },
            { index: 2, ...accepted('recorded', items[2], 0, head + 2) },
          ],
          headPosition: head + 2,
        },
      });
    });

    it('answers an empty batch with a 400 problem naming items', async () => {
      const message = 'Too small: expected array to have >=1 items';
      await expectRefused(
        app,
        () => post(app, '/v1/trips/batch', { items: [] }),
        problemBody('LEDGER_ERR_INVALID_INPUT', INVALID_INPUT, 400, `body.items: ${message}`, {
          field: 'items',
          errors: [{ field: 'items', message }],
          instance: '/v1/trips/batch',
        }),
      );
    });
  });
});
