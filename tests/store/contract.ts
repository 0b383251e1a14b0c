/**
 * The event-store contract: one suite, run unchanged against every adapter (see the
 * `*.spec.ts` files next to this one). Every assertion compares whole values.
 *
 * Most tests share one store per adapter (opening PGlite costs seconds) and use their own
 * stream ids; they compute global positions relative to the head read just before, which is
 * exact because the tests of one file run one after the other. Tests about the global log as a
 * whole (dense positions from 1, paging, type filters) get a fresh store of their own.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/domain/errors/catalogue.js';
import { EventIdConflictError, WrongExpectedRevisionError } from '../../src/store/errors.js';
import type {
  EventMetadata,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  JsonObject,
  ReadAllPage,
  RecordedEvent,
  StreamAppend,
  StreamAppendResult,
  SubscribeOptions,
} from '../../src/store/port.js';
import { MAX_EVENT_BYTES } from '../../src/store/validation.js';
import type { OpenedStore, StoreHarness } from '../support/databases.js';

/** ISO 8601, UTC, with milliseconds: what `recordedAt` must look like. */
const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const anyIsoTimestamp = expect.stringMatching(ISO_UTC_MS) as unknown as string;
/** Subscriptions in this suite poll once a minute: anything faster proves a wake-up. */
const NO_POLLING_MS = 60_000;
/** How long a test waits for a subscription to deliver before failing (far below the poll). */
const DELIVERY_TIMEOUT_MS = 5_000;

/** A fresh store from the harness (kept as a function so every open goes through one place). */
export function openStore(
  harness: StoreHarness,
  options?: { pollIntervalMs?: number },
): Promise<OpenedStore> {
  return harness.open(options);
}

let streamCounter = 0;
/** A stream id no other test (nor an earlier run against the same database) uses. */
function newStreamId(label: string): string {
  streamCounter += 1;
  return `${label}-${streamCounter}-${randomUUID().slice(0, 8)}`;
}

let eventCounter = 0;
function newEvent(
  type = 'WeighingRecorded',
  data?: JsonObject,
  metadata?: EventMetadata,
): EventToAppend {
  eventCounter += 1;
  const event = {
    id: randomUUID(),
    type,
    data: data ?? { ticket: eventCounter, tonnes: 1.25, material: 'glass' },
  };
  return metadata === undefined ? event : { ...event, metadata };
}

function newEvents(count: number, type?: string): EventToAppend[] {
  return Array.from({ length: count }, () => newEvent(type));
}

/** The event as the store must return it. */
function recorded(
  streamId: string,
  revision: number,
  position: number,
  event: EventToAppend,
): RecordedEvent {
  return {
    streamId,
    revision,
    position,
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: event.metadata ?? {},
    recordedAt: anyIsoTimestamp,
  };
}

/** Events appended together, as recorded from `firstRevision` and `firstPosition` on. */
function recordedRun(
  streamId: string,
  firstRevision: number,
  firstPosition: number,
  events: readonly EventToAppend[],
): RecordedEvent[] {
  return events.map((event, k) => recorded(streamId, firstRevision + k, firstPosition + k, event));
}

async function rejection(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject, but it resolved');
}

/** Runs a call that must fail and checks that it changed neither the log nor the streams. */
async function failsWithoutWriting(
  store: EventStore,
  streamIds: readonly string[],
  call: () => Promise<unknown>,
): Promise<unknown> {
  const snapshot = async () => ({
    head: await store.headPosition(),
    streams: await Promise.all(streamIds.map((s) => store.readStream(s))),
    revisions: await Promise.all(streamIds.map((s) => store.streamRevision(s))),
  });
  const before = await snapshot();
  const error = await rejection(call);
  expect(await snapshot()).toEqual(before);
  return error;
}

function expectWrongRevision(
  error: unknown,
  streamId: string,
  expectedRevision: ExpectedRevision,
  actualRevision: number | null,
): void {
  expect(error).toBeInstanceOf(WrongExpectedRevisionError);
  const e = error as WrongExpectedRevisionError;
  expect({
    name: e.name,
    code: e.code,
    status: e.status,
    streamId: e.streamId,
    expectedRevision: e.expectedRevision,
    actualRevision: e.actualRevision,
    details: e.details,
  }).toEqual({
    name: 'WrongExpectedRevisionError',
    code: 'LEDGER_ERR_WRONG_EXPECTED_REVISION',
    status: 409,
    streamId,
    expectedRevision,
    actualRevision,
    details: { streamId, expectedRevision, actualRevision },
  });
}

function expectIdConflict(error: unknown, streamId: string, eventId: string, reason: RegExp): void {
  expect(error).toBeInstanceOf(EventIdConflictError);
  const e = error as EventIdConflictError;
  expect({
    name: e.name,
    code: e.code,
    status: e.status,
    streamId: e.streamId,
    eventId: e.eventId,
    details: e.details,
  }).toEqual({
    name: 'EventIdConflictError',
    code: 'LEDGER_ERR_EVENT_ID_CONFLICT',
    status: 409,
    streamId,
    eventId,
    details: { streamId, eventId, reason: expect.stringMatching(reason) as unknown },
  });
}

function expectInvalidInput(error: unknown, field: string): void {
  expect(error).toBeInstanceOf(InvalidInputError);
  const e = error as InvalidInputError;
  expect({
    name: e.name,
    code: e.code,
    status: e.status,
    field: e.field,
    details: e.details,
  }).toEqual({
    name: 'InvalidInputError',
    code: 'LEDGER_ERR_INVALID_INPUT',
    status: 400,
    field,
    details: { field },
  });
}

const STORED_WITH_OTHER_CONTENT = /other content/;
const NEW_BESIDE_STORED = /is new/;
const STORED_ELSEWHERE = /another place/;

/**
 * Pages through the log from `after` until a page no longer moves the reader (it has reached the
 * head), checking what the port promises of each page: it holds at most `maxCount` events, only
 * events after `after` and up to `readUpTo`, in order; `readUpTo` never goes back, never passes
 * the head and, with a type filter, covers at most `maxCount` positions. Returns every page.
 */
async function readAllPages(
  store: EventStore,
  options: { after: number; maxCount: number; types?: readonly string[] },
): Promise<ReadAllPage[]> {
  const head = await store.headPosition();
  const pages: ReadAllPage[] = [];
  let after = options.after;
  for (let guard = 0; guard <= head + 1; guard += 1) {
    const page = await store.readAll({ ...options, after });
    pages.push(page);
    const positions = page.events.map((e) => e.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(positions.every((p) => p > after && p <= page.readUpTo)).toBe(true);
    expect(page.events.length).toBeLessThanOrEqual(options.maxCount);
    expect(page.readUpTo).toBeGreaterThanOrEqual(after);
    if (page.readUpTo === after) return pages;
    expect(page.readUpTo).toBeLessThanOrEqual(head);
    if (options.types !== undefined) {
      expect(page.readUpTo - after).toBeLessThanOrEqual(options.maxCount);
    }
    after = page.readUpTo;
  }
  throw new Error('readAll never reached the head of the log');
}

/** The next item of a subscription, failing fast instead of waiting for the poll interval. */
async function nextWithin<T>(
  iterator: AsyncIterator<T>,
  ms = DELIVERY_TIMEOUT_MS,
): Promise<IteratorResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`subscription delivered nothing in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([iterator.next(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function take<T>(iterator: AsyncIterator<T>, count: number): Promise<T[]> {
  const items: T[] = [];
  while (items.length < count) {
    const next = await nextWithin(iterator);
    if (next.done === true) throw new Error(`subscription ended after ${items.length} items`);
    items.push(next.value);
  }
  return items;
}

function subscribe(store: EventStore, options: SubscribeOptions): AsyncIterator<RecordedEvent> {
  const iterable = store.subscribeToAll(options);
  return iterable[Symbol.asyncIterator]();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function describeEventStoreContract(harness: StoreHarness): void {
  describe(`event store contract (${harness.name})`, () => {
    let opened: OpenedStore;
    let store: EventStore;

    beforeAll(async () => {
      opened = await openStore(harness, { pollIntervalMs: NO_POLLING_MS });
      store = opened.store;
    });

    afterAll(async () => {
      await opened?.close();
    });

    /** Appends `events` to a new stream and returns the position of its first event. */
    async function seedStream(streamId: string, events: readonly EventToAppend[]) {
      const head = await store.headPosition();
      const result = await store.append(streamId, events, { expectedRevision: 'no_stream' });
      expect(result).toEqual({
        nextExpectedRevision: events.length - 1,
        position: head + events.length,
        idempotent: false,
      });
      return head + 1;
    }

    describe('expected revisions', () => {
      it("'any' appends to a new stream and to an existing one", async () => {
        const s = newStreamId('any');
        const [a, b] = [newEvent(), newEvent()];
        const head = await store.headPosition();
        expect(await store.append(s, [a], { expectedRevision: 'any' })).toEqual({
          nextExpectedRevision: 0,
          position: head + 1,
          idempotent: false,
        });
        expect(await store.append(s, [b], { expectedRevision: 'any' })).toEqual({
          nextExpectedRevision: 1,
          position: head + 2,
          idempotent: false,
        });
        expect(await store.readStream(s)).toEqual([
          recorded(s, 0, head + 1, a),
          recorded(s, 1, head + 2, b),
        ]);
      });

      it("'no_stream' appends to a new stream", async () => {
        const s = newStreamId('no-stream');
        const a = newEvent();
        const head = await store.headPosition();
        expect(await store.append(s, [a], { expectedRevision: 'no_stream' })).toEqual({
          nextExpectedRevision: 0,
          position: head + 1,
          idempotent: false,
        });
        expect(await store.readStream(s)).toEqual([recorded(s, 0, head + 1, a)]);
      });

      it("'no_stream' on an existing stream fails with the actual revision and writes nothing", async () => {
        const s = newStreamId('no-stream-existing');
        await seedStream(s, newEvents(2));
        const error = await failsWithoutWriting(store, [s], () =>
          store.append(s, [newEvent()], { expectedRevision: 'no_stream' }),
        );
        expectWrongRevision(error, s, 'no_stream', 1);
      });

      it("'stream_exists' on a new stream fails with actualRevision null and writes nothing", async () => {
        const s = newStreamId('exists-new');
        const error = await failsWithoutWriting(store, [s], () =>
          store.append(s, [newEvent()], { expectedRevision: 'stream_exists' }),
        );
        expectWrongRevision(error, s, 'stream_exists', null);
        expect(await store.streamRevision(s)).toBeNull();
      });

      it("'stream_exists' appends to an existing stream", async () => {
        const s = newStreamId('exists');
        const first = await seedStream(s, newEvents(1));
        const b = newEvent();
        const head = await store.headPosition();
        expect(await store.append(s, [b], { expectedRevision: 'stream_exists' })).toEqual({
          nextExpectedRevision: 1,
          position: head + 1,
          idempotent: false,
        });
        expect((await store.readStream(s)).map((e) => [e.revision, e.position])).toEqual([
          [0, first],
          [1, head + 1],
        ]);
      });

      it('the right exact revision appends', async () => {
        const s = newStreamId('exact');
        await seedStream(s, newEvents(2));
        const c = newEvent();
        const head = await store.headPosition();
        expect(await store.append(s, [c], { expectedRevision: 1 })).toEqual({
          nextExpectedRevision: 2,
          position: head + 1,
          idempotent: false,
        });
        expect(await store.readStream(s, { fromRevision: 2 })).toEqual([
          recorded(s, 2, head + 1, c),
        ]);
      });

      it('a wrong exact revision fails with the actual revision and writes nothing', async () => {
        const s = newStreamId('exact-wrong');
        await seedStream(s, newEvents(2));
        for (const wrong of [0, 2, 7]) {
          const error = await failsWithoutWriting(store, [s], () =>
            store.append(s, [newEvent()], { expectedRevision: wrong }),
          );
          expectWrongRevision(error, s, wrong, 1);
        }
      });

      it('an exact revision on a new stream fails with actualRevision null', async () => {
        const s = newStreamId('exact-new');
        const error = await failsWithoutWriting(store, [s], () =>
          store.append(s, [newEvent()], { expectedRevision: 0 }),
        );
        expectWrongRevision(error, s, 0, null);
      });

      it('of concurrent no_stream appends to one stream exactly one wins', async () => {
        const s = newStreamId('race');
        const head = await store.headPosition();
        const attempts = Array.from({ length: 5 }, () => [newEvent()]);
        const outcomes = await Promise.allSettled(
          attempts.map((events) => store.append(s, events, { expectedRevision: 'no_stream' })),
        );
        const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        expect(won).toHaveLength(1);
        const winner = won[0] ?? -1;
        expect(outcomes[winner]).toEqual({
          status: 'fulfilled',
          value: { nextExpectedRevision: 0, position: head + 1, idempotent: false },
        });
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') expectWrongRevision(outcome.reason, s, 'no_stream', 0);
        }
        expect(await store.readStream(s)).toEqual([
          recorded(s, 0, head + 1, attempts[winner]?.[0] ?? newEvent()),
        ]);
        expect(await store.headPosition()).toBe(head + 1);
      });
    });

    describe('append results and atomicity', () => {
      it('a multi-event append is stored whole and reports its last event', async () => {
        const s = newStreamId('multi');
        const events = [newEvent('A'), newEvent('B'), newEvent('C')];
        const head = await store.headPosition();
        expect(await store.append(s, events, { expectedRevision: 'no_stream' })).toEqual({
          nextExpectedRevision: 2,
          position: head + 3,
          idempotent: false,
        });
        const more = newEvents(2);
        expect(await store.append(s, more, { expectedRevision: 2 })).toEqual({
          nextExpectedRevision: 4,
          position: head + 5,
          idempotent: false,
        });
        expect(await store.readStream(s)).toEqual([
          ...recordedRun(s, 0, head + 1, events),
          ...recordedRun(s, 3, head + 4, more),
        ]);
        expect(await store.streamRevision(s)).toBe(4);
        expect(await store.headPosition()).toBe(head + 5);
      });

      it('appendMany writes every stream and reports each in the order given', async () => {
        const [s1, s2, s3] = [newStreamId('many'), newStreamId('many'), newStreamId('many')];
        await seedStream(s2, newEvents(1));
        await seedStream(s3, newEvents(3));
        const e1 = newEvents(2);
        const e2 = newEvents(1);
        const e3 = newEvents(2);
        const head = await store.headPosition();
        const appends: StreamAppend[] = [
          { streamId: s1, events: e1, expectedRevision: 'no_stream' },
          { streamId: s2, events: e2, expectedRevision: 0 },
          { streamId: s3, events: e3, expectedRevision: 'stream_exists' },
        ];
        expect(await store.appendMany(appends)).toEqual([
          { streamId: s1, nextExpectedRevision: 1, position: head + 2, idempotent: false },
          { streamId: s2, nextExpectedRevision: 1, position: head + 3, idempotent: false },
          { streamId: s3, nextExpectedRevision: 4, position: head + 5, idempotent: false },
        ]);
        expect((await store.readAll({ after: head })).events).toEqual([
          ...recordedRun(s1, 0, head + 1, e1),
          recorded(s2, 1, head + 3, e2[0] ?? newEvent()),
          ...recordedRun(s3, 3, head + 4, e3),
        ]);
      });

      it('appendMany writes nothing for any stream when one expectation is wrong', async ({
        skip,
      }) => {
        if (!store.capabilities.atomicMultiStreamAppend) skip('adapter is not atomic');
        const [s1, s2, s3] = [newStreamId('atomic'), newStreamId('atomic'), newStreamId('atomic')];
        await seedStream(s2, newEvents(2));
        for (const wrongAt of [0, 1, 2]) {
          const appends: StreamAppend[] = [
            { streamId: s1, events: newEvents(2), expectedRevision: wrongAt === 0 ? 0 : 'any' },
            { streamId: s2, events: newEvents(1), expectedRevision: wrongAt === 1 ? 0 : 1 },
            {
              streamId: s3,
              events: newEvents(1),
              expectedRevision: wrongAt === 2 ? 'stream_exists' : 'no_stream',
            },
          ];
          const error = await failsWithoutWriting(store, [s1, s2, s3], () =>
            store.appendMany(appends),
          );
          const expected = [
            [s1, 0, null],
            [s2, 0, 1],
            [s3, 'stream_exists', null],
          ] as const;
          const [streamId, expectedRevision, actual] = expected[wrongAt] ?? expected[0];
          expectWrongRevision(error, streamId, expectedRevision, actual);
        }
      });

      it('appendMany writes nothing for any stream when one event id conflicts', async ({
        skip,
      }) => {
        if (!store.capabilities.atomicMultiStreamAppend) skip('adapter is not atomic');
        const [s1, s2] = [newStreamId('atomic-id'), newStreamId('atomic-id')];
        const [stored] = newEvents(1);
        if (stored === undefined) throw new Error('unreachable');
        await seedStream(s2, [stored]);
        const error = await failsWithoutWriting(store, [s1, s2], () =>
          store.appendMany([
            { streamId: s1, events: newEvents(2), expectedRevision: 'any' },
            {
              streamId: s2,
              events: [{ ...stored, data: { changed: true } }],
              expectedRevision: 'any',
            },
          ]),
        );
        expectIdConflict(error, s2, stored.id, STORED_WITH_OTHER_CONTENT);
      });
    });

    describe('idempotency by event id', () => {
      it('re-sending an append returns the original outcome and writes nothing', async () => {
        const s = newStreamId('idem');
        const events = newEvents(3);
        const head = await store.headPosition();
        const original = await store.append(s, events, { expectedRevision: 'no_stream' });
        expect(original).toEqual({
          nextExpectedRevision: 2,
          position: head + 3,
          idempotent: false,
        });
        for (let i = 0; i < 2; i += 1) {
          expect(await store.append(s, events, { expectedRevision: 'no_stream' })).toEqual({
            ...original,
            idempotent: true,
          });
        }
        expect(await store.headPosition()).toBe(head + 3);
        expect(await store.readStream(s)).toEqual(recordedRun(s, 0, head + 1, events));
      });

      it("re-sending with 'any' and with an exact revision is idempotent", async () => {
        const s = newStreamId('idem-modes');
        const a = newEvents(1);
        const bc = newEvents(2);
        const head = await store.headPosition();
        const first = await store.append(s, a, { expectedRevision: 'any' });
        const second = await store.append(s, bc, { expectedRevision: 0 });
        expect([first, second]).toEqual([
          { nextExpectedRevision: 0, position: head + 1, idempotent: false },
          { nextExpectedRevision: 2, position: head + 3, idempotent: false },
        ]);
        expect(await store.append(s, a, { expectedRevision: 'any' })).toEqual({
          ...first,
          idempotent: true,
        });
        expect(await store.append(s, bc, { expectedRevision: 0 })).toEqual({
          ...second,
          idempotent: true,
        });
        expect(await store.headPosition()).toBe(head + 3);
      });

      it('a re-sent append stays idempotent after the stream has moved on', async () => {
        const s = newStreamId('idem-moved');
        const a = newEvents(1);
        const bc = newEvents(2);
        const head = await store.headPosition();
        const first = await store.append(s, a, { expectedRevision: 'no_stream' });
        const second = await store.append(s, bc, { expectedRevision: 0 });
        await store.append(s, newEvents(2), { expectedRevision: 2 });
        await store.append(s, newEvents(1), { expectedRevision: 'any' });
        const before = await store.readStream(s);
        const head2 = await store.headPosition();
        expect(head2).toBe(head + 6);

        expect([first, second]).toEqual([
          { nextExpectedRevision: 0, position: head + 1, idempotent: false },
          { nextExpectedRevision: 2, position: head + 3, idempotent: false },
        ]);
        const idempotentFirst = { ...first, idempotent: true };
        const idempotentSecond = { ...second, idempotent: true };
        expect([
          await store.append(s, a, { expectedRevision: 'no_stream' }),
          await store.append(s, a, { expectedRevision: 'any' }),
          await store.append(s, a, { expectedRevision: 'stream_exists' }),
          await store.append(s, bc, { expectedRevision: 0 }),
          await store.append(s, bc, { expectedRevision: 'any' }),
          await store.append(s, bc, { expectedRevision: 'stream_exists' }),
        ]).toEqual([
          idempotentFirst,
          idempotentFirst,
          idempotentFirst,
          idempotentSecond,
          idempotentSecond,
          idempotentSecond,
        ]);
        expect(await store.readStream(s)).toEqual(before);
        expect(await store.headPosition()).toBe(head2);
      });

      it('metadata does not take part in idempotency and is not overwritten', async () => {
        const s = newStreamId('idem-meta');
        const event = newEvent('T', { n: 1 }, { actor: 'key-1', correlationId: 'c-1' });
        const original = await store.append(s, [event], { expectedRevision: 'no_stream' });
        const resent = { ...event, metadata: { actor: 'key-2' } };
        expect(await store.append(s, [resent], { expectedRevision: 'no_stream' })).toEqual({
          ...original,
          idempotent: true,
        });
        expect(await store.readStream(s)).toEqual([recorded(s, 0, original.position, event)]);
      });

      it('appendMany re-sent is idempotent per stream, also beside a new append', async () => {
        const [s1, s2, s3] = [newStreamId('idem-many'), newStreamId('idem-many'), newStreamId('x')];
        const e1 = newEvents(2);
        const e2 = newEvents(1);
        const head = await store.headPosition();
        const appends: StreamAppend[] = [
          { streamId: s1, events: e1, expectedRevision: 'no_stream' },
          { streamId: s2, events: e2, expectedRevision: 'any' },
        ];
        const original = await store.appendMany(appends);
        const asIdempotent = (r: StreamAppendResult) => ({ ...r, idempotent: true });
        expect(await store.appendMany(appends)).toEqual(original.map(asIdempotent));
        const e3 = newEvents(1);
        expect(
          await store.appendMany([
            ...appends,
            { streamId: s3, events: e3, expectedRevision: 'no_stream' },
          ]),
        ).toEqual([
          ...original.map(asIdempotent),
          { streamId: s3, nextExpectedRevision: 0, position: head + 4, idempotent: false },
        ]);
        expect(await store.headPosition()).toBe(head + 4);
      });

      it('the same id with other data or another type is an EventIdConflictError', async () => {
        const s = newStreamId('conflict');
        const event = newEvent('Weighed', { tonnes: 3 });
        await seedStream(s, [event]);
        for (const changed of [
          { ...event, data: { tonnes: 4 } },
          { ...event, data: { tonnes: 3, extra: null } },
          { ...event, type: 'Sorted' },
        ]) {
          for (const expectedRevision of ['any', 'no_stream', 0] as const) {
            const error = await failsWithoutWriting(store, [s], () =>
              store.append(s, [changed], { expectedRevision }),
            );
            expectIdConflict(error, s, event.id, STORED_WITH_OTHER_CONTENT);
          }
        }
      });

      it('a partially stored append is an EventIdConflictError', async () => {
        const s = newStreamId('partial');
        const [a, b] = newEvents(2);
        if (a === undefined || b === undefined) throw new Error('unreachable');
        await seedStream(s, [a]);
        const fresh = newEvent();
        const cases: [EventToAppend[], string][] = [
          [[a, fresh], fresh.id],
          [[fresh, a], fresh.id],
          [[a, b, fresh], b.id],
        ];
        for (const [events, newId] of cases) {
          const error = await failsWithoutWriting(store, [s], () =>
            store.append(s, events, { expectedRevision: 'any' }),
          );
          expectIdConflict(error, s, newId, NEW_BESIDE_STORED);
        }
        // Even with the expectation that matches where the stored event is.
        const error = await failsWithoutWriting(store, [s], () =>
          store.append(s, [a, b], { expectedRevision: 0 }),
        );
        expectIdConflict(error, s, b.id, NEW_BESIDE_STORED);
      });

      it('ids stored at another place than the expectation implies are an EventIdConflictError', async () => {
        const s = newStreamId('elsewhere');
        const [a, b, c] = newEvents(3);
        if (a === undefined || b === undefined || c === undefined) throw new Error('unreachable');
        await seedStream(s, [a, b]);
        await store.append(s, [c], { expectedRevision: 1 });
        const cases: [EventToAppend[], ExpectedRevision, string][] = [
          [[a, b], 2, a.id], // stored at 0–1, not at 3–4
          [[a, b], 0, a.id], // stored at 0–1, not at 1–2
          [[b], 'no_stream', b.id], // stored at 1, not at 0
          [[c], 0, c.id], // stored at 2, not at 1
          [[b, a], 'any', a.id], // stored in the other order
          [[a, c], 'any', c.id], // not contiguous
        ];
        for (const [events, expectedRevision, eventId] of cases) {
          const error = await failsWithoutWriting(store, [s], () =>
            store.append(s, events, { expectedRevision }),
          );
          expectIdConflict(error, s, eventId, STORED_ELSEWHERE);
        }
      });

      it('the same event id in another stream is a different event', async () => {
        const [s1, s2] = [newStreamId('same-id'), newStreamId('same-id')];
        const event = newEvent();
        const head = await store.headPosition();
        expect(await store.append(s1, [event], { expectedRevision: 'no_stream' })).toEqual({
          nextExpectedRevision: 0,
          position: head + 1,
          idempotent: false,
        });
        expect(await store.append(s2, [event], { expectedRevision: 'no_stream' })).toEqual({
          nextExpectedRevision: 0,
          position: head + 2,
          idempotent: false,
        });
        expect((await store.readAll({ after: head })).events).toEqual([
          recorded(s1, 0, head + 1, event),
          recorded(s2, 0, head + 2, event),
        ]);
        // …and the store can say every stream that holds an id (ingestion refuses such reuse).
        const unknown = newEvent().id;
        const found = await store.streamsOfEventIds([event.id.toUpperCase(), unknown]);
        expect(new Map([...found].map(([id, streams]) => [id, [...streams].sort()]))).toEqual(
          new Map([[event.id, [s1, s2].sort()]]),
        );
      });
    });

    describe('input validation', () => {
      const big = 'x'.repeat(MAX_EVENT_BYTES);
      const bad = <T>(value: unknown) => value as T;
      const cases: [string, (s: string) => StreamAppend[], string][] = [
        [
          "expectation 'latest'",
          (s) => [{ streamId: s, events: newEvents(1), expectedRevision: bad('latest') }],
          'appends[0].expectedRevision',
        ],
        [
          'expectation -1',
          (s) => [{ streamId: s, events: newEvents(1), expectedRevision: -1 }],
          'appends[0].expectedRevision',
        ],
        [
          'expectation 1.5',
          (s) => [{ streamId: s, events: newEvents(1), expectedRevision: 1.5 }],
          'appends[0].expectedRevision',
        ],
        [
          'expectation NaN',
          (s) => [{ streamId: s, events: newEvents(1), expectedRevision: NaN }],
          'appends[0].expectedRevision',
        ],
        [
          'expectation missing',
          (s) => [{ streamId: s, events: newEvents(1), expectedRevision: bad(undefined) }],
          'appends[0].expectedRevision',
        ],
        [
          'malformed event id',
          (s) => [
            {
              streamId: s,
              events: [newEvent(), { ...newEvent(), id: 'not-a-uuid' }],
              expectedRevision: 'any',
            },
          ],
          'appends[0].events[1].id',
        ],
        [
          'uuid with a trailing character',
          (s) => [
            {
              streamId: s,
              events: [{ ...newEvent(), id: `${randomUUID()}0` }],
              expectedRevision: 'any',
            },
          ],
          'appends[0].events[0].id',
        ],
        [
          'event over 1 MiB',
          (s) => [{ streamId: s, events: [newEvent('T', { big })], expectedRevision: 'any' }],
          'appends[0].events[0]',
        ],
        [
          'data and metadata together over 1 MiB',
          (s) => [
            {
              streamId: s,
              events: [newEvent('T', { big: big.slice(0, MAX_EVENT_BYTES - 11) }, { actor: 'k' })],
              expectedRevision: 'any',
            },
          ],
          'appends[0].events[0]',
        ],
        [
          'empty type',
          (s) => [{ streamId: s, events: [newEvent('')], expectedRevision: 'any' }],
          'appends[0].events[0].type',
        ],
        [
          'blank type',
          (s) => [{ streamId: s, events: [newEvent('   ')], expectedRevision: 'any' }],
          'appends[0].events[0].type',
        ],
        [
          'empty events array',
          (s) => [{ streamId: s, events: [], expectedRevision: 'any' }],
          'appends[0].events',
        ],
        [
          'NaN in data',
          (s) => [
            { streamId: s, events: [newEvent('T', { a: { b: NaN } })], expectedRevision: 'any' },
          ],
          'appends[0].events[0].data.a.b',
        ],
        [
          'Infinity in metadata',
          (s) => [
            {
              streamId: s,
              events: [newEvent('T', { a: 1 }, { weight: Infinity })],
              expectedRevision: 'any',
            },
          ],
          'appends[0].events[0].metadata.weight',
        ],
        [
          'NUL in a string',
          (s) => [
            { streamId: s, events: [newEvent('T', { a: 'x\u0000y' })], expectedRevision: 'any' },
          ],
          'appends[0].events[0].data.a',
        ],
        [
          'data that is an array',
          (s) => [
            {
              streamId: s,
              events: [newEvent('T', bad<JsonObject>([1, 2]))],
              expectedRevision: 'any',
            },
          ],
          'appends[0].events[0].data',
        ],
        [
          'duplicate ids in one append',
          (s) => {
            const e = newEvent();
            return [{ streamId: s, events: [e, newEvent(), e], expectedRevision: 'any' }];
          },
          'appends[0].events[2].id',
        ],
        [
          'duplicate ids differing in case',
          (s) => {
            const e = newEvent();
            return [
              {
                streamId: s,
                events: [e, { ...newEvent(), id: e.id.toUpperCase() }],
                expectedRevision: 'any',
              },
            ];
          },
          'appends[0].events[1].id',
        ],
        [
          'reserved stream id',
          () => [{ streamId: '$all', events: newEvents(1), expectedRevision: 'any' }],
          'appends[0].streamId',
        ],
        [
          'empty stream id',
          () => [{ streamId: '', events: newEvents(1), expectedRevision: 'any' }],
          'appends[0].streamId',
        ],
        [
          'a bad second stream of appendMany',
          (s) => [
            { streamId: `${s}-ok`, events: newEvents(1), expectedRevision: 'any' },
            { streamId: s, events: [newEvent('')], expectedRevision: 'any' },
          ],
          'appends[1].events[0].type',
        ],
        [
          'the same stream twice in appendMany',
          (s) => [
            { streamId: s, events: newEvents(1), expectedRevision: 'any' },
            { streamId: s, events: newEvents(1), expectedRevision: 'any' },
          ],
          'appends[1].streamId',
        ],
        ['an empty appendMany', () => [], 'appends'],
      ];

      it.each(cases)(
        'rejects %s with InvalidInputError and writes nothing',
        async (_, build, field) => {
          const existing = newStreamId('invalid');
          await seedStream(existing, newEvents(1));
          const appends = build(existing);
          const streams = [existing, `${existing}-ok`];
          const viaAppendMany = await failsWithoutWriting(store, streams, () =>
            store.appendMany(appends),
          );
          expectInvalidInput(viaAppendMany, field);
          if (appends.length === 1 && appends[0] !== undefined) {
            const { streamId, events, expectedRevision } = appends[0];
            const viaAppend = await failsWithoutWriting(store, streams, () =>
              store.append(streamId, events, { expectedRevision }),
            );
            // append() names fields as its caller passed them: `events[1].id`.
            expectInvalidInput(viaAppend, field.replace(/^appends\[0\]\./, ''));
          }
        },
      );

      it('accepts an event of exactly 1 MiB and returns it unchanged', async () => {
        const s = newStreamId('max-size');
        // {"big":"…"} is 10 bytes of JSON around the string.
        const event = newEvent('T', { big: big.slice(0, MAX_EVENT_BYTES - 10) });
        const first = await seedStream(s, [event]);
        expect(await store.readStream(s)).toEqual([recorded(s, 0, first, event)]);
      });
    });

    describe('reading streams', () => {
      let s: string;
      let events: EventToAppend[];
      let expected: RecordedEvent[];

      beforeAll(async () => {
        s = newStreamId('read');
        events = [
          newEvent('Weighed', { tonnes: 12.5, note: 'Grüße 😀', tags: ['a', 'b'], ok: true }),
          newEvent('Sorted', { fractions: { glass: 0.25, paper: 0.75 }, none: null }),
          newEvent('Weighed', { tonnes: 0 }, { correlationId: 'corr-1' }),
          newEvent(
            'Treated',
            { plant: 'P-7', nested: { deep: [1, [2, [3, { x: 'y' }]]] } },
            {
              correlationId: 'corr-1',
              causationId: 'cause-9',
              actor: 'api-key-3',
              sourceDevice: 'weighbridge-2',
              extra: { any: ['json', 1, null, false] },
            },
          ),
          newEvent('Closed', {}),
        ];
        const first = await seedStream(s, events);
        expected = recordedRun(s, 0, first, events);
      });

      it("readStreams: whole streams, or each one's last n events in revision order", async () => {
        const other = newStreamId('read-other');
        const otherEvents = newEvents(2);
        const otherFirst = await seedStream(other, otherEvents);
        const otherExpected = recordedRun(other, 0, otherFirst, otherEvents);
        const missing = newStreamId('read-missing');
        expect(await store.readStreams([s, other, missing, s])).toEqual(
          new Map([
            [s, expected],
            [other, otherExpected],
            [missing, []],
          ]),
        );
        expect(await store.readStreams([s, other, missing], { lastEvents: 3 })).toEqual(
          new Map([
            [s, expected.slice(2)],
            [other, otherExpected],
            [missing, []],
          ]),
        );
        expect(await store.readStreams([s], { lastEvents: 1 })).toEqual(
          new Map([[s, expected.slice(4)]]),
        );
        await expect(store.readStreams([s], { lastEvents: 0 })).rejects.toMatchObject({
          field: 'lastEvents',
        });
      });

      it('forwards by default, recording every field', async () => {
        expect(await store.readStream(s)).toEqual(expected);
        expect(await store.readStream(s, { direction: 'forwards' })).toEqual(expected);
      });

      it('backwards', async () => {
        expect(await store.readStream(s, { direction: 'backwards' })).toEqual(
          [...expected].reverse(),
        );
      });

      it('from a revision, forwards and backwards (inclusive)', async () => {
        expect(await store.readStream(s, { fromRevision: 2 })).toEqual(expected.slice(2));
        expect(await store.readStream(s, { fromRevision: 2, direction: 'backwards' })).toEqual(
          expected.slice(0, 3).reverse(),
        );
        expect(await store.readStream(s, { fromRevision: 0, direction: 'backwards' })).toEqual(
          expected.slice(0, 1),
        );
        expect(await store.readStream(s, { fromRevision: 5 })).toEqual([]);
        expect(await store.readStream(s, { fromRevision: 99, direction: 'backwards' })).toEqual(
          [...expected].reverse(),
        );
      });

      it('at most maxCount events', async () => {
        expect(await store.readStream(s, { maxCount: 2 })).toEqual(expected.slice(0, 2));
        expect(await store.readStream(s, { maxCount: 2, direction: 'backwards' })).toEqual(
          expected.slice(3).reverse(),
        );
        expect(await store.readStream(s, { maxCount: 2, fromRevision: 1 })).toEqual(
          expected.slice(1, 3),
        );
        expect(
          await store.readStream(s, { maxCount: 2, fromRevision: 3, direction: 'backwards' }),
        ).toEqual(expected.slice(2, 4).reverse());
        expect(await store.readStream(s, { maxCount: 50 })).toEqual(expected);
      });

      it('an unknown stream reads as empty and has no revision', async () => {
        const unknown = newStreamId('unknown');
        expect(await store.readStream(unknown)).toEqual([]);
        expect(await store.readStream(unknown, { direction: 'backwards' })).toEqual([]);
        expect(await store.streamRevision(unknown)).toBeNull();
      });

      it('streamRevision is the last revision', async () => {
        expect(await store.streamRevision(s)).toBe(4);
      });

      it('metadata round-trips and defaults to {}', async () => {
        const read = await store.readStream(s);
        expect(read.map((e) => e.metadata)).toEqual([
          {},
          {},
          { correlationId: 'corr-1' },
          {
            correlationId: 'corr-1',
            causationId: 'cause-9',
            actor: 'api-key-3',
            sourceDevice: 'weighbridge-2',
            extra: { any: ['json', 1, null, false] },
          },
          {},
        ]);
      });

      it('recordedAt is an ISO UTC timestamp with milliseconds, close to now', async () => {
        const read = await store.readStream(s);
        for (const e of read) {
          expect(e.recordedAt).toMatch(ISO_UTC_MS);
          expect(new Date(e.recordedAt).toISOString()).toBe(e.recordedAt);
          expect(Math.abs(Date.parse(e.recordedAt) - Date.now())).toBeLessThan(10 * 60_000);
        }
        // One append, one transaction: one timestamp.
        expect(new Set(read.map((e) => e.recordedAt)).size).toBe(1);
      });
    });

    describe('the global log', () => {
      let log: OpenedStore;
      let all: EventStore;
      let emptyHead: number;
      let emptyPage: ReadAllPage;
      /** The log as it must read after the seeding below. */
      const expected: RecordedEvent[] = [];
      const outcomes: unknown[] = [];

      beforeAll(async () => {
        log = await openStore(harness, { pollIntervalMs: NO_POLLING_MS });
        all = log.store;
        emptyHead = await all.headPosition();
        emptyPage = await all.readAll({ after: 0 });

        const [g1, g2, g3] = ['g-1', 'g-2', 'g-3'];
        const push = (streamId: string, revision: number, events: EventToAppend[]) => {
          for (const [k, e] of events.entries()) {
            expected.push(recorded(streamId, revision + k, expected.length + 1, e));
          }
        };
        const outcome = async (call: () => Promise<unknown>) => {
          try {
            outcomes.push(await call());
          } catch (error) {
            outcomes.push((error as Error).name);
          }
        };
        // Successful appends interleaved with every kind of failure: none may leave a gap.
        const s1 = [newEvent('A'), newEvent('B')];
        await outcome(() => all.append(g1, s1, { expectedRevision: 'no_stream' }));
        push(g1, 0, s1);
        await outcome(() => all.append(g1, [newEvent('C')], { expectedRevision: 'no_stream' }));
        const s3 = [newEvent('C')];
        await outcome(() => all.append(g2, s3, { expectedRevision: 'any' }));
        push(g2, 0, s3);
        await outcome(() =>
          all.appendMany([
            { streamId: g3, events: [newEvent('A')], expectedRevision: 'any' },
            { streamId: g1, events: [newEvent('B')], expectedRevision: 5 },
          ]),
        );
        const s5a = [newEvent('A'), newEvent('A')];
        const s5b = [newEvent('C')];
        await outcome(() =>
          all.appendMany([
            { streamId: g3, events: s5a, expectedRevision: 'no_stream' },
            { streamId: g1, events: s5b, expectedRevision: 1 },
          ]),
        );
        push(g3, 0, s5a);
        push(g1, 2, s5b);
        await outcome(() =>
          all.append(g2, [{ ...newEvent('A'), id: 'nope' }], { expectedRevision: 'any' }),
        );
        await outcome(() =>
          all.append(g2, [{ ...s3[0], id: s3[0]?.id ?? '', type: 'B', data: {} }], {
            expectedRevision: 'any',
          }),
        );
        const s8 = [newEvent('B'), newEvent('B'), newEvent('C')];
        await outcome(() => all.append(g2, s8, { expectedRevision: 0 }));
        push(g2, 1, s8);
        await outcome(() => all.append(g2, s3, { expectedRevision: 'any' })); // idempotent
        const s10 = [newEvent('A')];
        await outcome(() => all.append(g1, s10, { expectedRevision: 'stream_exists' }));
        push(g1, 3, s10);
      });

      afterAll(async () => {
        await log?.close();
      });

      it('is empty at first: head 0, nothing to read', () => {
        expect({ emptyHead, emptyPage }).toEqual({
          emptyHead: 0,
          emptyPage: { events: [], readUpTo: 0 },
        });
      });

      it('reports every append of the seeding', () => {
        const ok = (nextExpectedRevision: number, position: number, idempotent = false) => ({
          nextExpectedRevision,
          position,
          idempotent,
        });
        expect(outcomes).toEqual([
          ok(1, 2),
          'WrongExpectedRevisionError',
          ok(0, 3),
          'WrongExpectedRevisionError',
          [
            { streamId: 'g-3', ...ok(1, 5) },
            { streamId: 'g-1', ...ok(2, 6) },
          ],
          'InvalidInputError',
          'EventIdConflictError',
          ok(3, 9),
          ok(0, 3, true),
          ok(3, 10),
        ]);
      });

      it('holds dense positions 1..n in order despite failed appends', async () => {
        const page = await all.readAll({ after: 0 });
        expect(page).toEqual({ events: expected, readUpTo: 10 });
        expect(page.events.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(await all.headPosition()).toBe(10);
      });

      it('reads in batches from any position without skipping or repeating', async () => {
        expect(await readAllPages(all, { after: 0, maxCount: 3 })).toEqual([
          { events: expected.slice(0, 3), readUpTo: 3 },
          { events: expected.slice(3, 6), readUpTo: 6 },
          { events: expected.slice(6, 9), readUpTo: 9 },
          { events: expected.slice(9), readUpTo: 10 },
          { events: [], readUpTo: 10 },
        ]);
        expect(await all.readAll({ after: 4, maxCount: 2 })).toEqual({
          events: expected.slice(4, 6),
          readUpTo: 6,
        });
        expect(await all.readAll({ after: 9 })).toEqual({
          events: expected.slice(9),
          readUpTo: 10,
        });
        expect(await all.readAll({ after: 10 })).toEqual({ events: [], readUpTo: 10 });
      });

      it('filters by type; readUpTo moves past skipped events up to the head', async () => {
        const byType = (...types: string[]) => expected.filter((e) => types.includes(e.type));
        expect(byType('C').map((e) => e.position)).toEqual([3, 6, 9]);
        expect(await all.readAll({ after: 0, types: ['A', 'C'] })).toEqual({
          events: byType('A', 'C'),
          readUpTo: 10,
        });
        // The last C is at 9: the reader still moves on to the head.
        expect(await all.readAll({ after: 6, types: ['C'] })).toEqual({
          events: byType('C').slice(2),
          readUpTo: 10,
        });
        expect(await all.readAll({ after: 9, types: ['C'] })).toEqual({ events: [], readUpTo: 10 });
        expect(await all.readAll({ after: 3, maxCount: 1, types: ['A'] })).toEqual({
          events: expected.slice(3, 4),
          readUpTo: 4,
        });
        expect(await all.readAll({ after: 0, types: ['Unknown'] })).toEqual({
          events: [],
          readUpTo: 10,
        });
        expect(await all.readAll({ after: 0, types: [] })).toEqual({ events: [], readUpTo: 10 });
        expect(await all.readAll({ after: 10, types: ['A'] })).toEqual({
          events: [],
          readUpTo: 10,
        });
      });

      it('paging with and without a filter, at every batch size, neither skips nor repeats', async () => {
        const filters = [undefined, ['A'], ['B'], ['C'], ['A', 'B'], ['A', 'B', 'C'], ['Unknown']];
        for (const types of filters) {
          for (const maxCount of [1, 2, 3, 4, 7, 100]) {
            for (const after of [0, 3, 9, 10]) {
              const pages = await readAllPages(
                all,
                types === undefined ? { after, maxCount } : { after, maxCount, types },
              );
              expect({
                types,
                maxCount,
                after,
                events: pages.flatMap((p) => p.events),
                readUpTo: pages.at(-1)?.readUpTo,
              }).toEqual({
                types,
                maxCount,
                after,
                events: expected.filter(
                  (e) => e.position > after && (types === undefined || types.includes(e.type)),
                ),
                readUpTo: 10,
              });
            }
          }
        }
      });

      it('recordedAt never decreases along positions', async () => {
        const { events } = await all.readAll({ after: 0 });
        const times = events.map((e) => e.recordedAt);
        for (const t of times) expect(t).toMatch(ISO_UTC_MS);
        expect([...times].sort()).toEqual(times);
      });

      it('streams read back with their own dense revisions', async () => {
        expect(await all.readStream('g-1')).toEqual(expected.filter((e) => e.streamId === 'g-1'));
        expect((await all.readStream('g-1')).map((e) => [e.revision, e.position])).toEqual([
          [0, 1],
          [1, 2],
          [2, 6],
          [3, 10],
        ]);
        expect(
          await Promise.all(['g-1', 'g-2', 'g-3', 'g-4'].map((s) => all.streamRevision(s))),
        ).toEqual([3, 3, 1, null]);
      });
    });

    describe('subscribeToAll', () => {
      it('delivers history, then live events, then stops on abort', async () => {
        const s = newStreamId('sub');
        const after = await store.headPosition();
        const history = newEvents(3);
        await store.append(s, history, { expectedRevision: 'no_stream' });
        const controller = new AbortController();
        const iterator = subscribe(store, { after, batchSize: 2, signal: controller.signal });
        expect(await take(iterator, 3)).toEqual(recordedRun(s, 0, after + 1, history));

        // Caught up: the next event is appended only now. Polling is a minute away.
        const pending = nextWithin(iterator);
        await sleep(20);
        const live = newEvents(2);
        await store.append(s, live, { expectedRevision: 2 });
        expect((await pending).value).toEqual(recorded(s, 3, after + 4, live[0] ?? newEvent()));
        expect(await take(iterator, 1)).toEqual([recorded(s, 4, after + 5, live[1] ?? newEvent())]);

        controller.abort();
        expect(await nextWithin(iterator, 2000)).toEqual({ done: true, value: undefined });
      });

      it('respects after', async () => {
        const s = newStreamId('sub-after');
        const events = newEvents(4);
        const first = await seedStream(s, events);
        const controller = new AbortController();
        const iterator = subscribe(store, { after: first + 1, signal: controller.signal });
        expect(await take(iterator, 2)).toEqual(recordedRun(s, 2, first + 2, events.slice(2)));
        controller.abort();
        expect(await nextWithin(iterator, 2000)).toEqual({ done: true, value: undefined });
      });

      it('filters by type', async () => {
        const s = newStreamId('sub-types');
        const type = `Only-${randomUUID().slice(0, 8)}`;
        const events = [newEvent('Other'), newEvent(type), newEvent('Other'), newEvent(type)];
        const after = await store.headPosition();
        await store.append(s, events, { expectedRevision: 'no_stream' });
        const controller = new AbortController();
        const iterator = subscribe(store, {
          after,
          types: [type],
          batchSize: 1,
          signal: controller.signal,
        });
        expect(await take(iterator, 2)).toEqual([
          recorded(s, 1, after + 2, events[1] ?? newEvent()),
          recorded(s, 3, after + 4, events[3] ?? newEvent()),
        ]);
        const pending = nextWithin(iterator);
        const live = [newEvent('Other'), newEvent(type)];
        await store.append(s, live, { expectedRevision: 3 });
        expect((await pending).value).toEqual(recorded(s, 5, after + 6, live[1] ?? newEvent()));
        controller.abort();
        expect(await nextWithin(iterator, 2000)).toEqual({ done: true, value: undefined });
      });

      it('is woken by the database notification of an append made elsewhere', async () => {
        // The append does not go through this store object, so only the database's notification
        // (LISTEN/NOTIFY; in-process for PGlite; EventStoreDB's live subscription) can wake it.
        const s = newStreamId('sub-notify');
        const after = await store.headPosition();
        const controller = new AbortController();
        const iterator = subscribe(store, { after, signal: controller.signal });
        const pending = nextWithin(iterator);
        // Let the subscriber read the (empty) log and start waiting: from then on only the
        // notification can deliver the event before the one-minute poll.
        await sleep(300);
        const event = newEvent('Raw', { via: 'sql' });
        await opened.appendElsewhere(s, event);
        expect((await pending).value).toEqual(recorded(s, 0, after + 1, event));
        controller.abort();
        expect(await nextWithin(iterator, 2000)).toEqual({ done: true, value: undefined });
      });

      it('ends promptly without error when aborted while waiting or mid-history', async () => {
        const s = newStreamId('sub-abort');
        const after = await store.headPosition();
        await store.append(s, newEvents(3), { expectedRevision: 'no_stream' });

        const waiting = new AbortController();
        const waiter = subscribe(store, { after: after + 3, signal: waiting.signal });
        const pending = waiter.next();
        await sleep(50);
        const started = Date.now();
        waiting.abort();
        expect(await pending).toEqual({ done: true, value: undefined });
        expect(Date.now() - started).toBeLessThan(2000);

        const midway = new AbortController();
        const reader = subscribe(store, { after, batchSize: 10, signal: midway.signal });
        expect(await take(reader, 1)).toHaveLength(1);
        midway.abort();
        expect(await nextWithin(reader, 2000)).toEqual({ done: true, value: undefined });

        const already = new AbortController();
        already.abort();
        const none: RecordedEvent[] = [];
        for await (const e of store.subscribeToAll({ after, signal: already.signal })) none.push(e);
        expect(none).toEqual([]);
      });
    });
  });
}
