/**
 * The EventStoreDB protocol fake, driven through the real `@eventstore/db-client`: every test
 * here is what an adapter would see from a real server, so the fake is only as useful as these
 * assertions are precise. Each test uses streams and event types of its own (random suffixes);
 * tests about $all look only at positions they produced or compare relative to a head they read.
 */
import { randomUUID } from 'node:crypto';
import { credentials, status } from '@grpc/grpc-js';
import {
  BACKWARDS,
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
  serverFeaturesGrpc,
  sharedPb,
  streamsGrpc,
  streamsPb,
  type ServerFeaturesPb,
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
async function readWholeLog() {
  return readEvents(client.readAll({ direction: FORWARDS, fromPosition: START }));
}

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
      [created, exists, exact, any].map((result) => [result.success, result.nextExpectedRevision]),
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
      await lenient.appendToStream(stream, weighing('A', 1));

      const result = await lenient.appendToStream(stream, weighing('B', 2), {
        expectedRevision: 5n,
      });

      expect(result).toEqual({ success: false, nextExpectedRevision: 0n, position: undefined });
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
    const headBefore = (await readWholeLog()).at(-1);

    const retry = await client.appendToStream(stream, batch, { expectedRevision: NO_STREAM });

    expect(retry).toEqual(first);
    expect((await readEvents(client.readStream(stream))).map((e) => e.id)).toEqual(
      batch.map((e) => e.id),
    );
    expect((await readWholeLog()).at(-1)).toEqual(headBefore);
  });

  it('recognises a retry after later appends, and one with expected revision any', async () => {
    const stream = uniqueName('retry-later');
    const first = [weighing('A', 1)];
    const second = [weighing('B', 2), weighing('C', 3)];
    await client.appendToStream(stream, first, { expectedRevision: NO_STREAM });
    const original = await client.appendToStream(stream, second, { expectedRevision: 0n });
    await client.appendToStream(stream, weighing('D', 4), { expectedRevision: 2n });

    const exactRetry = await client.appendToStream(stream, second, { expectedRevision: 0n });
    const anyRetry = await client.appendToStream(stream, second);

    expect(exactRetry).toEqual(original);
    expect(anyRetry).toEqual(original);
    expect(await readEvents(client.readStream(stream))).toHaveLength(4);
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

    expect(ids()).toEqual((await readWholeLog()).map((e) => e.id));
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
    const log = await readWholeLog();
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

/** host:port of the fake, for raw gRPC clients that talk the protocol without the EventStoreDB client. */
const fakeAddress = (): string => fake.connectionString.replace(/^esdb:\/\/([^?]+).*$/, '$1');

describe('protocol surface', () => {
  it('advertises Read and Append but not BatchAppend, with the fake version', async () => {
    const features = new serverFeaturesGrpc.ServerFeaturesClient(
      fakeAddress(),
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
        'event_store.client.server_features.serverfeatures/getsupportedmethods',
      ]);
    } finally {
      features.close();
    }
  });

  it('answers structured ids (two signed int64 halves) when the reader asks for them', async () => {
    const stream = uniqueName('structured');
    const id = 'f0e1d2c3-b4a5-4687-9a8b-7c6d5e4f3a2b';
    await client.appendToStream(stream, jsonEvent({ id, type: 'A', data: {} }));
    const streams = new streamsGrpc.StreamsClient(fakeAddress(), credentials.createInsecure());
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

      const structured = response?.getEvent()?.getEvent()?.getId()?.getStructured();
      const half = (signed: string | undefined) =>
        BigInt.asUintN(64, BigInt(signed ?? '0'))
          .toString(16)
          .padStart(16, '0');
      expect(structured?.getMostSignificantBits()).toMatch(/^-\d+$/);
      expect(
        half(structured?.getMostSignificantBits()) + half(structured?.getLeastSignificantBits()),
      ).toBe(id.replaceAll('-', ''));
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
