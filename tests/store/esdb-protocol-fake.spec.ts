/**
 * The EventStoreDB protocol fake, driven through the real `@eventstore/db-client`: every test
 * here is what an adapter would see from a real server, so the fake is only as useful as these
 * assertions are precise. Each test uses streams and event types of its own (random suffixes);
 * tests about $all look only at positions they produced or compare relative to a head they read.
 *
 * The client appends through Streams.BatchAppend when the server advertises it (EventStoreDB
 * 21.10+, and the fake by default) and through the classic Streams.Append otherwise, so every
 * append test runs against both: the default fake and one started with `{ batchAppend: false }`.
 */
import { randomUUID } from 'node:crypto';
import { credentials, status, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import {
  BACKWARDS,
  DeadlineExceededError,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  binaryEvent,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  type AppendResult,
  type CatchupSubscription,
  type Position,
  type ReadableSubscription,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  startEsdbProtocolFake,
  type EsdbProtocolFake,
} from '../support/esdb-protocol-fake/index.js';
import {
  codePb,
  emptyPb,
  serverFeaturesGrpc,
  sharedPb,
  streamsGrpc,
  streamsPb,
  timestampPb,
  type ServerFeaturesPb,
  type SharedPb,
  type StreamsPb,
} from '../support/esdb-protocol-fake/generated.js';
import { FAKE_SERVER_VERSION } from '../support/esdb-protocol-fake/server-features.js';

const DELIVERY_TIMEOUT_MS = 5_000;

let fake: EsdbProtocolFake;
let client: EventStoreDBClient;

beforeAll(async () => {
  fake = await startEsdbProtocolFake();
  client = EventStoreDBClient.connectionString(fake.connectionString);
});

afterAll(async () => {
  await client.dispose();
  await fake.close();
});

const uniqueName = (label: string): string => `${label}-${randomUUID()}`;

function weighing(type: string, tonnes: number) {
  return jsonEvent({
    id: randomUUID(),
    type,
    data: { tonnes, site: 'north' },
    metadata: { actor: 'key-1', correlationId: randomUUID() },
  });
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of source) items.push(item);
  return items;
}

/** The recorded events of a read, failing loudly on a link or an empty resolved event. */
async function readEvents(source: AsyncIterable<ResolvedEvent>) {
  const resolved = await collect(source);
  return resolved.map(({ event }) => {
    if (event === undefined) throw new Error('resolved event without event');
    return event;
  });
}

function positionOf(result: AppendResult): Position {
  if (result.position === undefined) throw new Error('append result without position');
  return result.position;
}

/** Every event of $all, oldest first. */
async function readWholeLog(reader: EventStoreDBClient) {
  return readEvents(reader.readAll({ direction: FORWARDS, fromPosition: START }));
}

/** host:port of a fake, for raw gRPC clients that talk the protocol without the EventStoreDB client. */
const addressOf = (server: EsdbProtocolFake): string =>
  server.connectionString.replace(/^esdb:\/\/([^?]+).*$/, '$1');

/** The lower-case string of a structured UUID (two signed int64 halves, big-endian). */
function structuredUuidString(uuid: SharedPb.UUID | undefined): string {
  const structured = uuid?.getStructured();
  const half = (signed: string | undefined) =>
    BigInt.asUintN(64, BigInt(signed ?? '0'))
      .toString(16)
      .padStart(16, '0');
  const hex =
    half(structured?.getMostSignificantBits()) + half(structured?.getLeastSignificantBits());
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    hex.slice(12, 16),
    hex.slice(16, 20),
    hex.slice(20),
  ].join('-');
}

/** What calls each method received between two snapshots of `fake.calls`. */
function callsSince(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  method: string,
): number {
  return (after.get(method) ?? 0) - (before.get(method) ?? 0);
}

/*
 * The append tests, once per append path. Inside, `fake` and `client` are that mode's own fake
 * and client (they shadow the file's default ones).
 */
describe.each([
  { batchAppend: true, path: 'Streams.BatchAppend' },
  { batchAppend: false, path: 'Streams.Append' },
])('appends through $path (batchAppend: $batchAppend)', ({ batchAppend, path }) => {
  let fake: EsdbProtocolFake;
  let client: EventStoreDBClient;

  beforeAll(async () => {
    fake = await startEsdbProtocolFake({ batchAppend });
    client = EventStoreDBClient.connectionString(fake.connectionString);
  });

  afterAll(async () => {
    await client.dispose();
    await fake.close();
  });

  describe('path', () => {
    it(`advertises ${batchAppend ? 'BatchAppend' : 'Append only'} and the client appends through ${path} only`, async () => {
      const fresh = EventStoreDBClient.connectionString(fake.connectionString);
      const before = fake.calls;
      try {
        await fresh.appendToStream(uniqueName('path'), weighing('A', 1));
        await fresh.appendToStream(uniqueName('path'), [weighing('B', 2), weighing('C', 3)]);
        await Promise.all(
          [1, 2, 3].map((n) => fresh.appendToStream(uniqueName('path'), weighing('D', n))),
        );
      } finally {
        await fresh.dispose();
      }
      const after = fake.calls;

      // BatchAppend is one long-lived call that carries every append of a client.
      expect({
        append: callsSince(before, after, 'Streams.Append'),
        batchAppend: callsSince(before, after, 'Streams.BatchAppend'),
      }).toEqual(batchAppend ? { append: 0, batchAppend: 1 } : { append: 5, batchAppend: 0 });
      expect([...after.keys()].sort()).toEqual([
        'ServerFeatures.GetSupportedMethods',
        'Streams.Append',
        'Streams.BatchAppend',
        'Streams.Delete',
        'Streams.Read',
        'Streams.Tombstone',
      ]);
    });

    it('lists BatchAppend in GetSupportedMethods only when it serves it', async () => {
      const features = new serverFeaturesGrpc.ServerFeaturesClient(
        addressOf(fake),
        credentials.createInsecure(),
      );
      try {
        const supported = await new Promise<ServerFeaturesPb.SupportedMethods>((resolve, reject) =>
          features.getSupportedMethods(new sharedPb.Empty(), (error, response) =>
            error === null ? resolve(response) : reject(error),
          ),
        );

        expect(supported.getEventStoreServerVersion()).toBe(FAKE_SERVER_VERSION);
        expect(
          supported.getMethodsList().map((m) => `${m.getServiceName()}/${m.getMethodName()}`),
        ).toEqual([
          'event_store.client.streams.streams/read',
          'event_store.client.streams.streams/append',
          ...(batchAppend ? ['event_store.client.streams.streams/batchappend'] : []),
          'event_store.client.server_features.serverfeatures/getsupportedmethods',
        ]);
      } finally {
        features.close();
      }
    });

    it(`answers a BatchAppend call ${batchAppend ? 'with OK' : 'UNIMPLEMENTED, like a 20.x server'}`, async () => {
      const streams = new streamsGrpc.StreamsClient(addressOf(fake), credentials.createInsecure());
      try {
        const call = streams.batchAppend();
        const ended = new Promise<StatusObject>((resolve) => call.on('status', resolve));
        // A failing status is also an 'error' event: `ended` is what the test looks at.
        call.on('error', () => undefined);
        call.end();

        expect((await ended).code).toBe(batchAppend ? status.OK : status.UNIMPLEMENTED);
      } finally {
        streams.close();
      }
    });
  });

  describe('append and readStream', () => {
    it('round-trips JSON data, metadata, type, id, revisions, positions and created', async () => {
      const stream = uniqueName('weighing');
      const events = [weighing('WeighingRecorded', 12.5), weighing('WeighingCorrected', 12.25)];
      const before = Date.now();

      const result = await client.appendToStream(stream, events, { expectedRevision: NO_STREAM });

      const position = positionOf(result);
      expect(result).toEqual({ success: true, nextExpectedRevision: 1n, position });
      expect(position.commit).toBe(position.prepare);
      const read = await readEvents(client.readStream(stream));
      const comparable = read.map((e) => ({
        streamId: e.streamId,
        id: e.id,
        revision: e.revision,
        type: e.type,
        data: e.data,
        metadata: e.metadata,
        isJson: e.isJson,
      }));
      expect(comparable).toEqual(
        events.map((event, revision) => ({
          streamId: stream,
          id: event.id,
          revision: BigInt(revision),
          type: event.type,
          data: event.data,
          metadata: event.metadata,
          isJson: true,
        })),
      );
      expect(read[1]?.position).toEqual(position);
      for (const { created } of read) {
        expect(created.getTime()).toBeGreaterThanOrEqual(before - 1);
        expect(created.getTime()).toBeLessThanOrEqual(Date.now() + 1);
      }
    });

    it('round-trips binary data and binary metadata', async () => {
      const stream = uniqueName('blob');
      const data = Uint8Array.from([0, 1, 2, 250, 255]);
      const metadata = Uint8Array.from([9, 8, 7]);
      const event = binaryEvent({ id: randomUUID(), type: 'ScaleSnapshot', data, metadata });

      await client.appendToStream(stream, event);

      const [read] = await readEvents(client.readStream(stream));
      expect(read).toMatchObject({ id: event.id, type: 'ScaleSnapshot', isJson: false });
      expect(Uint8Array.from(read?.data as Uint8Array)).toEqual(data);
      expect(Uint8Array.from(read?.metadata as Uint8Array)).toEqual(metadata);
    });

    it('allows appending zero events, which writes no event', async () => {
      const stream = uniqueName('empty');

      const result = await client.appendToStream(stream, [], { expectedRevision: NO_STREAM });

      expect(result.success).toBe(true);
      // The client reads `current_revision` without checking `no_stream`: "0" is its default.
      expect(result.nextExpectedRevision).toBe(0n);
      expect(positionOf(result).commit).toBe(positionOf(result).prepare);
      await expect(collect(client.readStream(stream))).rejects.toBeInstanceOf(StreamNotFoundError);
    });
  });

  describe('expected revisions', () => {
    it('accepts any, no_stream on a new stream, stream_exists and the exact revision', async () => {
      const stream = uniqueName('expectations');

      const created = await client.appendToStream(stream, weighing('A', 1), {
        expectedRevision: NO_STREAM,
      });
      const exists = await client.appendToStream(stream, weighing('B', 2), {
        expectedRevision: STREAM_EXISTS,
      });
      const exact = await client.appendToStream(stream, weighing('C', 3), {
        expectedRevision: 1n,
      });
      const any = await client.appendToStream(stream, weighing('D', 4));

      expect(
        [created, exists, exact, any].map((result) => [
          result.success,
          result.nextExpectedRevision,
        ]),
      ).toEqual([
        [true, 0n],
        [true, 1n],
        [true, 2n],
        [true, 3n],
      ]);
      const revisions = (await readEvents(client.readStream(stream))).map((e) => e.revision);
      expect(revisions).toEqual([0n, 1n, 2n, 3n]);
    });

    it('rejects no_stream on an existing stream with the current revision', async () => {
      const stream = uniqueName('exists');
      await client.appendToStream(stream, [weighing('A', 1), weighing('B', 2)]);

      const attempt = client.appendToStream(stream, weighing('C', 3), {
        expectedRevision: NO_STREAM,
      });

      await expect(attempt).rejects.toBeInstanceOf(WrongExpectedVersionError);
      await expect(attempt).rejects.toMatchObject({
        streamName: stream,
        expectedVersion: NO_STREAM,
        actualVersion: 1n,
      });
    });

    it('rejects stream_exists and an exact revision on a missing stream with no_stream', async () => {
      const stream = uniqueName('missing');

      await expect(
        client.appendToStream(stream, weighing('A', 1), { expectedRevision: STREAM_EXISTS }),
      ).rejects.toMatchObject({
        streamName: stream,
        expectedVersion: STREAM_EXISTS,
        actualVersion: NO_STREAM,
      });
      await expect(
        client.appendToStream(stream, weighing('A', 1), { expectedRevision: 0n }),
      ).rejects.toMatchObject({ expectedVersion: 0n, actualVersion: NO_STREAM });
      await expect(collect(client.readStream(stream))).rejects.toBeInstanceOf(StreamNotFoundError);
    });

    it('rejects a stale or future exact revision and writes nothing', async () => {
      const stream = uniqueName('stale');
      await client.appendToStream(stream, [weighing('A', 1), weighing('B', 2), weighing('C', 3)]);

      for (const expectedRevision of [0n, 7n]) {
        const attempt = client.appendToStream(stream, weighing('X', 9), { expectedRevision });
        await expect(attempt).rejects.toBeInstanceOf(WrongExpectedVersionError);
        await expect(attempt).rejects.toMatchObject({
          streamName: stream,
          expectedVersion: expectedRevision,
          actualVersion: 2n,
        });
      }
      expect(await readEvents(client.readStream(stream))).toHaveLength(3);
    });

    it('answers success: false instead of throwing when throwOnAppendFailure is off', async () => {
      const lenient = EventStoreDBClient.connectionString(
        `${fake.connectionString}&throwOnAppendFailure=false`,
      );
      try {
        const stream = uniqueName('lenient');
        await lenient.appendToStream(stream, [
          weighing('A', 1),
          weighing('B', 2),
          weighing('C', 3),
        ]);

        const stale = await lenient.appendToStream(stream, weighing('D', 4), {
          expectedRevision: 5n,
        });
        const missing = await lenient.appendToStream(uniqueName('lenient'), weighing('E', 5), {
          expectedRevision: STREAM_EXISTS,
        });

        // Both answers carry the current revision (2, and no stream). The classic path turns it
        // into nextExpectedRevision (2n, -1n). Client 6.2.1's BatchAppend path takes
        // BigInt(hasCurrentStreamRevision()), a boolean, when the stream exists: always 1n,
        // whatever the revision (-1n when it does not exist). The fake's answer is right on
        // both paths (see "Streams.BatchAppend on the wire"); this pins the client's behaviour.
        const [existing, absent] = batchAppend ? [1n, -1n] : [2n, -1n];
        expect(stale).toEqual({
          success: false,
          nextExpectedRevision: existing,
          position: undefined,
        });
        expect(missing).toEqual({
          success: false,
          nextExpectedRevision: absent,
          position: undefined,
        });
        expect(await readEvents(lenient.readStream(stream))).toHaveLength(3);
      } finally {
        await lenient.dispose();
      }
    });
  });

  describe('idempotent appends', () => {
    it('answers a retry with the same ids and expected revision with the original result', async () => {
      const stream = uniqueName('retry');
      const batch = [weighing('A', 1), weighing('B', 2)];
      const first = await client.appendToStream(stream, batch, { expectedRevision: NO_STREAM });
      const logBefore = await readWholeLog(client);

      const retry = await client.appendToStream(stream, batch, { expectedRevision: NO_STREAM });
      // Split into several requests on BatchAppend: the retry is recognised all the same.
      const splitRetry = await client.appendToStream(stream, batch, {
        expectedRevision: NO_STREAM,
        batchAppendSize: 1,
      });

      expect(retry).toEqual(first);
      expect(splitRetry).toEqual(first);
      expect((await readEvents(client.readStream(stream))).map((e) => e.id)).toEqual(
        batch.map((e) => e.id),
      );
      expect(await readWholeLog(client)).toEqual(logBefore);
    });

    it('recognises a retry after later appends, and one with expected revision any', async () => {
      const stream = uniqueName('retry-later');
      const first = [weighing('A', 1)];
      const second = [weighing('B', 2), weighing('C', 3)];
      await client.appendToStream(stream, first, { expectedRevision: NO_STREAM });
      const original = await client.appendToStream(stream, second, { expectedRevision: 0n });
      await client.appendToStream(stream, weighing('D', 4), { expectedRevision: 2n });
      const logBefore = await readWholeLog(client);

      const exactRetry = await client.appendToStream(stream, second, { expectedRevision: 0n });
      const anyRetry = await client.appendToStream(stream, second);

      expect(exactRetry).toEqual(original);
      expect(anyRetry).toEqual(original);
      expect(await readEvents(client.readStream(stream))).toHaveLength(4);
      expect(await readWholeLog(client)).toEqual(logBefore);
    });

    it('rejects a partial retry (same first id, different second) as a wrong expected version', async () => {
      const stream = uniqueName('partial-retry');
      const [a, b] = [weighing('A', 1), weighing('B', 2)];
      await client.appendToStream(stream, [a, b], { expectedRevision: NO_STREAM });

      await expect(
        client.appendToStream(stream, [a, weighing('C', 3)], { expectedRevision: NO_STREAM }),
      ).rejects.toMatchObject({ expectedVersion: NO_STREAM, actualVersion: 1n });
      expect(await readEvents(client.readStream(stream))).toHaveLength(2);
    });
  });

  describe('atomicity', () => {
    it('writes the events of each append at once, at consecutive revisions, adjacent in $all', async () => {
      const streams = [1, 2, 3].map(() => uniqueName('atomic'));
      const batches = streams.map(() => [1, 2, 3, 4].map((n) => weighing('Atomic', n)));

      // batchAppendSize: 1 makes the client send each event in a request of its own (after one
      // with the options alone), so on BatchAppend the three appends' requests interleave on the
      // one call; the classic Append ignores it.
      const results = await Promise.all(
        streams.map((stream, i) =>
          client.appendToStream(stream, batches[i] ?? [], {
            expectedRevision: NO_STREAM,
            batchAppendSize: 1,
          }),
        ),
      );

      const log = await readWholeLog(client);
      for (const [i, stream] of streams.entries()) {
        const first = log.findIndex((event) => event.streamId === stream);
        const written = log.slice(first, first + 4);
        expect(written.map((e) => [e.streamId, e.id, e.revision])).toEqual(
          (batches[i] ?? []).map((event, revision) => [stream, event.id, BigInt(revision)]),
        );
        expect(log.filter((event) => event.streamId === stream)).toHaveLength(4);
        expect(results[i]).toEqual({
          success: true,
          nextExpectedRevision: 3n,
          position: written[3]?.position,
        });
      }
    });

    it('writes nothing of an append that fails its expected revision', async () => {
      const stream = uniqueName('all-or-nothing');
      await client.appendToStream(stream, weighing('A', 1), { expectedRevision: NO_STREAM });
      const logBefore = await readWholeLog(client);

      await expect(
        client.appendToStream(stream, [weighing('B', 2), weighing('C', 3), weighing('D', 4)], {
          expectedRevision: NO_STREAM,
          batchAppendSize: 1,
        }),
      ).rejects.toBeInstanceOf(WrongExpectedVersionError);

      expect(await readWholeLog(client)).toEqual(logBefore);
    });
  });
});

describe('readStream', () => {
  const stream = uniqueName('five');

  beforeAll(async () => {
    const events = [1, 2, 3, 4, 5].map((n) => weighing('WeighingRecorded', n));
    await client.appendToStream(stream, events, { expectedRevision: NO_STREAM });
  });

  const revisions = async (options: Parameters<EventStoreDBClient['readStream']>[1]) =>
    (await readEvents(client.readStream(stream, options))).map((e) => Number(e.revision));

  it('reads forwards from a revision, inclusive, up to maxCount', async () => {
    expect(await revisions({ fromRevision: 2n, maxCount: 2 })).toEqual([2, 3]);
    expect(await revisions({ fromRevision: START })).toEqual([0, 1, 2, 3, 4]);
    expect(await revisions({ fromRevision: 9n })).toEqual([]);
    expect(await revisions({ fromRevision: END })).toEqual([]);
  });

  it('reads backwards from the end or from a revision, inclusive', async () => {
    expect(await revisions({ direction: BACKWARDS, fromRevision: END, maxCount: 3 })).toEqual([
      4, 3, 2,
    ]);
    expect(await revisions({ direction: BACKWARDS, fromRevision: 1n })).toEqual([1, 0]);
    expect(await revisions({ direction: BACKWARDS, fromRevision: 40n, maxCount: 1 })).toEqual([4]);
  });

  it('throws StreamNotFoundError for a stream that does not exist', async () => {
    const missing = uniqueName('nowhere');

    const reading = collect(client.readStream(missing));

    await expect(reading).rejects.toBeInstanceOf(StreamNotFoundError);
    await expect(reading).rejects.toMatchObject({ streamName: missing });
  });
});

describe('readAll', () => {
  it('holds system events from the start, at sparse, strictly increasing positions', async () => {
    const log = await collect(client.readAll({ fromPosition: START }));

    const system = log.filter(({ event }) => event?.streamId.startsWith('$'));
    expect(system.map(({ event }) => [event?.streamId, event?.type])).toEqual(
      expect.arrayContaining([
        ['$settings', '$settings'],
        ['$scavenges', '$scavengeStarted'],
      ]),
    );
    const positions = log.map(({ event }) => event?.position);
    for (const [index, position] of positions.entries()) {
      expect(position?.commit).toBe(position?.prepare);
      expect(log[index]?.commitPosition).toBe(position?.commit);
      if (index === 0) continue;
      const gap = (position?.commit ?? 0n) - (positions[index - 1]?.commit ?? 0n);
      expect(gap).toBeGreaterThan(1n);
    }
  });

  it('reads forwards from a position, inclusive, and backwards from it, exclusive', async () => {
    const stream = uniqueName('all');
    const events = [weighing('A', 1), weighing('B', 2), weighing('C', 3)];
    await client.appendToStream(stream, events);
    const mine = (await readEvents(client.readStream(stream))).map((e) => e.position);
    const [first, second, third] = mine as [Position, Position, Position];

    const forwards = await readEvents(client.readAll({ fromPosition: second, maxCount: 2 }));
    const backwards = await readEvents(
      client.readAll({ fromPosition: third, direction: BACKWARDS, maxCount: 2 }),
    );

    expect(forwards.map((e) => e.position)).toEqual([second, third]);
    expect(backwards.map((e) => e.position)).toEqual([second, first]);
  });

  it('reads backwards from the end, newest first', async () => {
    const stream = uniqueName('tail');
    await client.appendToStream(stream, [weighing('A', 1), weighing('B', 2)]);

    const tail = await readEvents(
      client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 2 }),
    );

    expect(tail.map((e) => [e.streamId, e.revision])).toEqual([
      [stream, 1n],
      [stream, 0n],
    ]);
  });
});

type Seen = { kind: 'event'; type: string; id: string } | { kind: 'caughtUp' };

/** Records, in arrival order, what a subscription delivers: events and the caught-up signal. */
function record<E extends { event?: { type: string; id: string } }>(
  subscription: ReadableSubscription<E> & CatchupSubscription,
) {
  const seen: Seen[] = [];
  subscription.on('caughtUp', () => seen.push({ kind: 'caughtUp' }));
  subscription.on('data', ({ event }: E) => {
    if (event !== undefined) seen.push({ kind: 'event', type: event.type, id: event.id });
  });
  const ids = () => seen.flatMap((entry) => (entry.kind === 'event' ? [entry.id] : []));
  return { seen, ids };
}

describe('subscribeToAll', () => {
  it('delivers history, then caught_up, then live events, without system events', async () => {
    const type = uniqueName('Live');
    const stream = uniqueName('live');
    const history = weighing(type, 1);
    await client.appendToStream(stream, history);
    const baseline = fake.activeSubscriptions;

    const subscription = client.subscribeToAll({
      fromPosition: START,
      filter: excludeSystemEvents(),
    });
    const { seen, ids } = record(subscription);
    await vi.waitFor(() => expect(ids()).toContain(history.id), DELIVERY_TIMEOUT_MS);
    await vi.waitFor(() => expect(seen.at(-1)).toEqual({ kind: 'caughtUp' }), DELIVERY_TIMEOUT_MS);
    const live = weighing(type, 2);
    await client.appendToStream(stream, live, { expectedRevision: 0n });
    await vi.waitFor(() => expect(ids()).toContain(live.id), DELIVERY_TIMEOUT_MS);

    expect(seen.filter((entry) => entry.kind === 'event' && entry.type.startsWith('$'))).toEqual(
      [],
    );
    expect(new Set(ids()).size).toBe(ids().length);
    expect(seen.slice(-3)).toEqual([
      { kind: 'event', type, id: history.id },
      { kind: 'caughtUp' },
      { kind: 'event', type, id: live.id },
    ]);
    expect(fake.activeSubscriptions).toBe(baseline + 1);
    await subscription.unsubscribe();
    await vi.waitFor(() => expect(fake.activeSubscriptions).toBe(baseline), DELIVERY_TIMEOUT_MS);
  });

  it('never skips nor repeats an event appended while history is being sent', async () => {
    // Enough history that grpc-js's write buffer fills and the fake must wait for the client:
    // the appends below then land while history is still on its way.
    const backlog = Array.from({ length: 300 }, (_, n) => weighing('Backlog', n));
    await client.appendToStream(uniqueName('backlog'), backlog);
    const stream = uniqueName('racing');
    const racing = Array.from({ length: 30 }, (_, n) => weighing('Racing', n));

    const subscription = client.subscribeToAll({ fromPosition: START });
    const { ids } = record(subscription);
    for (const [revision, event] of racing.entries()) {
      const expectedRevision = revision === 0 ? NO_STREAM : BigInt(revision - 1);
      await client.appendToStream(stream, event, { expectedRevision });
    }
    const lastId = racing.at(-1)?.id;
    await vi.waitFor(() => expect(ids().at(-1)).toBe(lastId), DELIVERY_TIMEOUT_MS);
    await subscription.unsubscribe();

    expect(ids()).toEqual((await readWholeLog(client)).map((e) => e.id));
  });

  it('from a position delivers only the events strictly after it', async () => {
    const stream = uniqueName('after');
    const events = [weighing('A', 1), weighing('B', 2), weighing('C', 3)];
    const [firstId, secondId, thirdId] = events.map((e) => e.id);
    await client.appendToStream(stream, events);
    const [firstPosition] = (await readEvents(client.readStream(stream))).map((e) => e.position);

    const subscription = client.subscribeToAll({ fromPosition: firstPosition as Position });
    const { ids } = record(subscription);
    await vi.waitFor(() => expect(ids()).toContain(thirdId), DELIVERY_TIMEOUT_MS);
    await subscription.unsubscribe();

    expect(ids().slice(0, 2)).toEqual([secondId, thirdId]);
    expect(ids()).not.toContain(firstId);
  });

  it('sends checkpoints while filtering, every checkpointInterval × maxSearchWindow events', async () => {
    const type = uniqueName('Rare');
    const checkpoints: Position[] = [];
    const subscription = client.subscribeToAll({
      fromPosition: START,
      filter: eventTypeFilter({
        prefixes: [type],
        maxSearchWindow: 1,
        checkpointInterval: 2,
        checkpointReached: (_subscription, position) => {
          checkpoints.push(position);
        },
      }),
    });
    const { ids } = record(subscription);
    const rare = weighing(type, 1);
    await client.appendToStream(uniqueName('rare'), [weighing('Common', 0), rare]);
    await vi.waitFor(() => expect(ids()).toEqual([rare.id]), DELIVERY_TIMEOUT_MS);

    // A window of 1 times an interval of 2: a checkpoint at every second event considered.
    const log = await readWholeLog(client);
    const everySecond = log.filter((_, index) => index % 2 === 1).map((e) => e.position);
    await vi.waitFor(() => expect(checkpoints).toEqual(everySecond), DELIVERY_TIMEOUT_MS);
    await subscription.unsubscribe();
  });
});

describe('subscribeToStream', () => {
  it('delivers the stream from a revision, exclusive, then live appends to it only', async () => {
    const stream = uniqueName('followed');
    const events = [weighing('A', 1), weighing('B', 2)];
    await client.appendToStream(stream, events, { expectedRevision: NO_STREAM });

    const subscription = client.subscribeToStream(stream, { fromRevision: 0n });
    const { seen, ids } = record(subscription);
    await vi.waitFor(() => expect(seen.at(-1)).toEqual({ kind: 'caughtUp' }), DELIVERY_TIMEOUT_MS);
    await client.appendToStream(uniqueName('other'), weighing('Other', 0));
    const live = weighing('C', 3);
    await client.appendToStream(stream, live, { expectedRevision: 1n });
    await vi.waitFor(() => expect(ids()).toContain(live.id), DELIVERY_TIMEOUT_MS);
    await subscription.unsubscribe();

    expect(ids()).toEqual([events[1]?.id, live.id]);
  });
});

describe('protocol surface', () => {
  it('answers structured ids (two signed int64 halves) when the reader asks for them', async () => {
    const stream = uniqueName('structured');
    const id = 'f0e1d2c3-b4a5-4687-9a8b-7c6d5e4f3a2b';
    await client.appendToStream(stream, jsonEvent({ id, type: 'A', data: {} }));
    const streams = new streamsGrpc.StreamsClient(addressOf(fake), credentials.createInsecure());
    try {
      const options = new streamsPb.ReadReq.Options()
        .setStream(
          new streamsPb.ReadReq.Options.StreamOptions()
            .setStreamIdentifier(
              new sharedPb.StreamIdentifier().setStreamName(new TextEncoder().encode(stream)),
            )
            .setStart(new sharedPb.Empty()),
        )
        .setCount('10')
        .setNoFilter(new sharedPb.Empty())
        .setUuidOption(
          new streamsPb.ReadReq.Options.UUIDOption().setStructured(new sharedPb.Empty()),
        );

      const [response] = await collect<StreamsPb.ReadResp>(
        streams.read(new streamsPb.ReadReq().setOptions(options)),
      );

      const uuid = response?.getEvent()?.getEvent()?.getId();
      expect(uuid?.getStructured()?.getMostSignificantBits()).toMatch(/^-\d+$/);
      expect(structuredUuidString(uuid)).toBe(id);
    } finally {
      streams.close();
    }
  });

  it('answers UNIMPLEMENTED to calls it does not implement', async () => {
    await expect(client.deleteStream(uniqueName('doomed'))).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
    });
    await expect(client.tombstoneStream(uniqueName('doomed'))).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
    });
  });
});

/*
 * Streams.BatchAppend spoken directly, without the EventStoreDB client, to see what the client
 * cannot show: requests gathered per correlation id, appends interleaved on one call, and the
 * exact shape of the answers.
 */
describe('Streams.BatchAppend on the wire', () => {
  type BatchAppendReq = StreamsPb.BatchAppendReq;
  type BatchAppendResp = StreamsPb.BatchAppendResp;
  type ProposedMessage = StreamsPb.BatchAppendReq.ProposedMessage;
  const utf8 = new TextEncoder();

  type Expected = 'any' | 'no_stream' | bigint;

  function batchOptions(stream: string, expected: Expected, deadline?: Date) {
    const options = new streamsPb.BatchAppendReq.Options().setStreamIdentifier(
      new sharedPb.StreamIdentifier().setStreamName(utf8.encode(stream)),
    );
    if (expected === 'any') options.setAny(new emptyPb.Empty());
    else if (expected === 'no_stream') options.setNoStream(new emptyPb.Empty());
    else options.setStreamPosition(expected.toString(10));
    if (deadline !== undefined) options.setDeadline(timestampPb.Timestamp.fromDate(deadline));
    return options;
  }

  /** A proposed JSON event; `type: null` leaves the required `type` metadata out. */
  function proposed(id: string, type: string | null = 'Wired'): ProposedMessage {
    const message = new streamsPb.BatchAppendReq.ProposedMessage()
      .setId(new sharedPb.UUID().setString(id))
      .setData(utf8.encode(JSON.stringify({ id })));
    if (type !== null) message.getMetadataMap().set('type', type);
    message.getMetadataMap().set('content-type', 'application/json');
    return message;
  }

  function request(
    correlationId: string,
    parts: {
      options?: StreamsPb.BatchAppendReq.Options;
      messages?: ProposedMessage[];
      final?: boolean;
    },
  ): BatchAppendReq {
    return new streamsPb.BatchAppendReq()
      .setCorrelationId(new sharedPb.UUID().setString(correlationId))
      .setOptions(parts.options)
      .setProposedMessagesList(parts.messages ?? [])
      .setIsFinal(parts.final ?? false);
  }

  /** One raw BatchAppend call: send requests, await answers in order, end it cleanly. */
  async function withBatchAppendCall(
    body: (call: {
      send(request: BatchAppendReq): void;
      answer(n: number): Promise<BatchAppendResp>;
      readonly answers: readonly BatchAppendResp[];
    }) => Promise<void>,
  ): Promise<void> {
    const streams = new streamsGrpc.StreamsClient(addressOf(fake), credentials.createInsecure());
    const call: ClientDuplexStream<BatchAppendReq, BatchAppendResp> = streams.batchAppend();
    const answers: BatchAppendResp[] = [];
    call.on('data', (response: BatchAppendResp) => answers.push(response));
    const ended = new Promise<StatusObject>((resolve) => call.on('status', resolve));
    // A failing status is also an 'error' event: `ended` is what the tests look at.
    call.on('error', () => undefined);
    try {
      await body({
        send: (message) => void call.write(message),
        answer: async (n) => {
          await vi.waitFor(
            () => expect(answers.length).toBeGreaterThanOrEqual(n),
            DELIVERY_TIMEOUT_MS,
          );
          return answers[n - 1] as BatchAppendResp;
        },
        answers,
      });
      call.end();
      // The fake ends the call once the client half-closes, with OK: nothing failed the call.
      expect((await ended).code).toBe(status.OK);
    } finally {
      streams.close();
    }
  }

  const streamOf = (response: BatchAppendResp) =>
    new TextDecoder().decode(response.getStreamIdentifier()?.getStreamName_asU8());

  function successOf(response: BatchAppendResp) {
    const success = response.getSuccess();
    return {
      correlationId: response.getCorrelationId()?.getString(),
      stream: streamOf(response),
      currentRevision: success?.hasCurrentRevision() ? success.getCurrentRevision() : 'no_stream',
      position: success?.getPosition()?.toObject(),
    };
  }

  /** The error's details unpacked as the client unpacks them (unpackError.js). */
  const wrongExpectedVersionOf = (response: BatchAppendResp) =>
    response
      .getError()
      ?.getDetails()
      ?.unpack(
        (bytes) => sharedPb.WrongExpectedVersion.deserializeBinary(bytes),
        'event_store.client.WrongExpectedVersion',
      );

  it('gathers each correlation id until is_final, with several appends in flight on one call', async () => {
    const [streamA, streamB] = [uniqueName('wired-a'), uniqueName('wired-b')];
    const [idA, idB] = [randomUUID(), randomUUID()];
    const [a1, a2, a3, b1, b2] = [1, 2, 3, 4, 5].map(() => randomUUID()) as [
      string,
      string,
      string,
      string,
      string,
    ];

    await withBatchAppendCall(async (call) => {
      call.send(
        request(idA, { options: batchOptions(streamA, 'no_stream'), messages: [proposed(a1)] }),
      );
      call.send(
        request(idB, {
          options: batchOptions(streamB, 'any'),
          messages: [proposed(b1), proposed(b2)],
          final: true,
        }),
      );

      const first = await call.answer(1);
      const written = await readEvents(client.readStream(streamB));
      expect(successOf(first)).toEqual({
        correlationId: idB,
        stream: streamB,
        currentRevision: '1',
        position: {
          commitPosition: written[1]?.position?.commit.toString(),
          preparePosition: written[1]?.position?.prepare.toString(),
        },
      });
      // A's first event is held until A's final request: nothing of A is written yet.
      await expect(collect(client.readStream(streamA))).rejects.toBeInstanceOf(StreamNotFoundError);

      call.send(request(idA, { messages: [proposed(a2)] }));
      call.send(request(idA, { messages: [proposed(a3)], final: true }));

      const second = await call.answer(2);
      expect(successOf(second)).toMatchObject({
        correlationId: idA,
        stream: streamA,
        currentRevision: '2',
      });
      expect(call.answers).toHaveLength(2);
    });

    const log = await readWholeLog(client);
    const start = log.findIndex((event) => event.streamId === streamA);
    expect(log.slice(start, start + 3).map((e) => [e.streamId, e.id, e.revision])).toEqual([
      [streamA, a1, 0n],
      [streamA, a2, 1n],
      [streamA, a3, 2n],
    ]);
  });

  it('answers a wrong expected version with a google.rpc.Status packing WrongExpectedVersion', async () => {
    const existing = uniqueName('wired-wrong');
    const missing = uniqueName('wired-missing');
    await client.appendToStream(existing, [weighing('A', 1), weighing('B', 2)]);
    const [idStale, idMissing] = [randomUUID(), randomUUID()];

    await withBatchAppendCall(async (call) => {
      call.send(
        request(idStale, {
          options: batchOptions(existing, 5n),
          messages: [proposed(randomUUID())],
          final: true,
        }),
      );
      call.send(
        request(idMissing, {
          options: batchOptions(missing, 'no_stream'),
          messages: [proposed(randomUUID())],
        }),
      );
      call.send(request(idMissing, { options: batchOptions(missing, 0n), final: true }));

      const stale = await call.answer(1);
      const absent = await call.answer(2);

      expect(stale.hasSuccess()).toBe(false);
      expect(stale.getCorrelationId()?.getString()).toBe(idStale);
      expect(streamOf(stale)).toBe(existing);
      const error = stale.getError();
      expect(error?.getCode()).toBe(codePb.Code.ALREADY_EXISTS);
      expect(error?.getMessage()).toBe('WrongExpectedVersion');
      expect(error?.getDetails()?.getTypeUrl()).toBe(
        'type.googleapis.com/event_store.client.WrongExpectedVersion',
      );
      const details = wrongExpectedVersionOf(stale);
      expect(details?.toObject()).toMatchObject({
        currentStreamRevision: '1',
        expectedStreamPosition: '5',
      });
      expect(details?.hasCurrentNoStream()).toBe(false);

      // Options repeated for an open correlation id change nothing: no_stream still applies,
      // and the stream does not exist, so this one is written.
      expect(successOf(absent)).toMatchObject({
        correlationId: idMissing,
        stream: missing,
        currentRevision: '0',
      });
    });
    expect(await readEvents(client.readStream(existing))).toHaveLength(2);
  });

  it('reports no stream and the expectation in WrongExpectedVersion for a missing stream', async () => {
    const missing = uniqueName('wired-none');
    const id = randomUUID();

    await withBatchAppendCall(async (call) => {
      call.send(
        request(id, {
          options: batchOptions(missing, 3n),
          messages: [proposed(randomUUID())],
          final: true,
        }),
      );

      const details = wrongExpectedVersionOf(await call.answer(1));
      expect(details?.hasCurrentNoStream()).toBe(true);
      expect(details?.hasCurrentStreamRevision()).toBe(false);
      expect(details?.getExpectedStreamPosition()).toBe('3');
    });
  });

  it('answers Timeout when the deadline passes before is_final, and forgets the append', async () => {
    const stream = uniqueName('wired-late');
    const id = randomUUID();

    await withBatchAppendCall(async (call) => {
      call.send(
        request(id, {
          options: batchOptions(stream, 'any', new Date(Date.now() + 50)),
          messages: [proposed(randomUUID())],
        }),
      );

      const timeout = await call.answer(1);
      // The server's timer answers with the correlation id in structured form.
      expect(timeout.getCorrelationId()?.hasStructured()).toBe(true);
      expect(structuredUuidString(timeout.getCorrelationId())).toBe(id);
      expect(streamOf(timeout)).toBe(stream);
      expect(timeout.getError()?.getCode()).toBe(codePb.Code.DEADLINE_EXCEEDED);
      expect(timeout.getError()?.getDetails()?.getTypeName()).toBe('event_store.client.Timeout');

      // The rest of a forgotten append is ignored: no second answer, nothing written.
      call.send(request(id, { messages: [proposed(randomUUID())], final: true }));
      const after = randomUUID();
      call.send(
        request(after, { options: batchOptions(uniqueName('wired-after'), 'any'), final: true }),
      );
      expect((await call.answer(2)).getCorrelationId()?.getString()).toBe(after);
      expect(call.answers).toHaveLength(2);
    });
    await expect(collect(client.readStream(stream))).rejects.toBeInstanceOf(StreamNotFoundError);
  });

  it('answers BadRequest for a message without a type, and the call goes on', async () => {
    const stream = uniqueName('wired-bad');
    const [bad, good] = [randomUUID(), randomUUID()];

    await withBatchAppendCall(async (call) => {
      call.send(
        request(bad, {
          options: batchOptions(stream, 'any'),
          messages: [proposed(randomUUID()), proposed(randomUUID(), null)],
          final: true,
        }),
      );
      call.send(
        request(good, {
          options: batchOptions(stream, 'no_stream'),
          messages: [proposed(randomUUID())],
          final: true,
        }),
      );

      const refused = await call.answer(1);
      expect(refused.getCorrelationId()?.getString()).toBe(bad);
      expect(refused.getError()?.getCode()).toBe(codePb.Code.INVALID_ARGUMENT);
      expect(refused.getError()?.getDetails()?.getTypeName()).toBe('event_store.client.BadRequest');
      expect(successOf(await call.answer(2))).toMatchObject({
        correlationId: good,
        currentRevision: '0',
      });
    });
    expect(await readEvents(client.readStream(stream))).toHaveLength(1);
  });

  it('gives the client DeadlineExceededError for a deadline already past', async () => {
    const stream = uniqueName('late');

    await expect(
      client.appendToStream(stream, weighing('A', 1), { deadline: 0 }),
    ).rejects.toBeInstanceOf(DeadlineExceededError);
    await expect(collect(client.readStream(stream))).rejects.toBeInstanceOf(StreamNotFoundError);
  });
});
