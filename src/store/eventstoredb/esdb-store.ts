import {
  BACKWARDS,
  FORWARDS,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type EventStoreDBClient,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type { Kysely } from 'kysely';
import { InvalidInputError } from '../../domain/errors/catalogue.js';
import { chainHash, GENESIS_HASH } from '../../integrity/event-hash.js';
import { exportEventLine } from '../../audit/export-format.js';
import { EventIdConflictError, WrongExpectedRevisionError } from '../errors.js';
import type {
  AppendResult,
  ChainedEvent,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  ReadAllOptions,
  ReadAllPage,
  ReadStreamOptions,
  RecordedEvent,
  StreamAppend,
  StreamAppendResult,
  SubscribeOptions,
} from '../port.js';
import { AppendSignal } from '../subscription/append-signal.js';
import { catchUpSubscription, DEFAULT_POLL_INTERVAL_MS } from '../subscription/catch-up.js';
import { validateAppends, type EncodedEvent } from '../validation.js';
import {
  chainedEventOf,
  withoutChain,
  type EsdbEventLike,
  type StoredMetadata,
} from './envelope.js';
import { dataDigest, PositionIndex, type AllPosition, type IndexRow } from './position-index.js';

export interface EventStoreDbStoreOptions {
  readonly client: EventStoreDBClient;
  /** Where the position index lives (the read models' PostgreSQL), migrated by the caller. */
  readonly index: Kysely<unknown>;
  /**
   * Prefix of every ledger stream in EventStoreDB (`<namespace>:<streamId>`), so that the
   * ledger's events are told apart from other applications' and from system events.
   */
  readonly namespace: string;
  readonly pollIntervalMs?: number;
}

/** How many times an append is planned again after another writer moved the stream first. */
const MAX_ATTEMPTS = 5;
const READ_PAGE = 1000;

/**
 * The event store on EventStoreDB: the log lives in EventStoreDB (streams named
 * `<namespace>:<streamId>`, the hash chain carried in each event's metadata), and a position
 * index in PostgreSQL maps `$all` to the ledger's dense positions (see position-index.ts).
 *
 * What EventStoreDB cannot do, and what this adapter does instead:
 * - a batch over several streams is not one transaction: `appendMany` checks every expectation
 *   first, then appends stream by stream; a failure part-way (another writer, a crash) leaves the
 *   earlier streams written, and re-sending the batch completes it (each append is idempotent);
 * - EventStoreDB has no index of event ids: idempotency and `streamsOfEventIds` use the
 *   position index, caught up from `$all` before every decision.
 * Appends from one process run one at a time, so recorded times never go backwards along the log.
 */
export class EventStoreDbStore implements EventStore {
  readonly capabilities = { atomicMultiStreamAppend: false } as const;
  readonly #client: EventStoreDBClient;
  readonly #index: PositionIndex;
  readonly #prefix: string;
  readonly #signal = new AppendSignal();
  readonly #pollIntervalMs: number;
  #writing: Promise<unknown> = Promise.resolve();
  #live: { unsubscribe(): Promise<void> } | undefined;
  #closed = false;

  constructor(options: EventStoreDbStoreOptions) {
    this.#client = options.client;
    this.#prefix = `${options.namespace}:`;
    this.#pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.#index = new PositionIndex(
      options.index,
      (from, maxCount) => this.#readAllForwards(from, maxCount),
      this.#prefix,
    );
  }

  async append(
    streamId: string,
    events: readonly EventToAppend[],
    options: { readonly expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    const results = await this.#appendValidated(
      [{ streamId, events, expectedRevision: options.expectedRevision }],
      () => '',
    );
    const [result] = results;
    if (result === undefined) throw new Error('append produced no result');
    return {
      nextExpectedRevision: result.nextExpectedRevision,
      position: result.position,
      idempotent: result.idempotent,
    };
  }

  appendMany(appends: readonly StreamAppend[]): Promise<readonly StreamAppendResult[]> {
    return this.#appendValidated(appends, (i) => `appends[${i}].`);
  }

  #appendValidated(
    appends: readonly StreamAppend[],
    fieldPrefix: (i: number) => string,
  ): Promise<StreamAppendResult[]> {
    if (!Array.isArray(appends)) throw new InvalidInputError('appends', 'must be a list');
    const encoded = validateAppends(appends, fieldPrefix);
    // One append at a time from this process (see the class comment).
    const run = this.#writing.then(() => this.#appendAll(appends, encoded));
    this.#writing = run.catch(() => undefined);
    return run;
  }

  async #appendAll(
    appends: readonly StreamAppend[],
    encoded: EncodedEvent[][],
  ): Promise<StreamAppendResult[]> {
    for (let attempt = 1; ; attempt += 1) {
      await this.#index.catchUp();
      // Every expectation and id is checked before anything is written.
      const plans = await this.#plan(appends, encoded);
      try {
        const recordedAt = await this.#recordedAt();
        const written: { streamId: string; lastRevision: number }[] = [];
        for (const plan of plans) {
          if (plan.kind === 'write') written.push(await this.#write(plan, recordedAt));
        }
        if (written.length === 0) return plans.map((p) => this.#idempotent(p));
        // One catch-up for the whole batch tells every written event's ledger position.
        await this.#index.catchUp();
        const positions = await this.#index.positionsOf(written);
        this.#signal.notify();
        return plans.map((plan) => {
          if (plan.kind === 'idempotent') return plan.result;
          const lastRevision = (plan.current ?? -1) + plan.events.length;
          const position = positions.get(`${plan.streamId}@${lastRevision}`);
          if (position === undefined) {
            throw new Error(
              `stream ${plan.streamId}: the append is not in $all after it succeeded`,
            );
          }
          return {
            streamId: plan.streamId,
            nextExpectedRevision: lastRevision,
            position,
            idempotent: false,
          };
        });
      } catch (error) {
        // Another writer appended to one of the streams between the plan and the write: plan
        // again from what is stored now (which may make this append idempotent, or wrong).
        if (error instanceof WrongExpectedVersionError && attempt < MAX_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  #idempotent(plan: Plan): StreamAppendResult {
    if (plan.kind !== 'idempotent') throw new Error('a write planned as idempotent');
    return plan.result;
  }

  async #recordedAt(): Promise<string> {
    const now = new Date().toISOString();
    const last = await this.#index.lastRecordedAt();
    return last !== undefined && last > now ? last : now;
  }

  /** Decides each stream's append from the index: idempotent, refused, or what to write. */
  async #plan(appends: readonly StreamAppend[], encoded: EncodedEvent[][]): Promise<Plan[]> {
    const streamIds = appends.map((a) => a.streamId);
    const [tails, seen] = await Promise.all([
      this.#index.lastOfStreams(streamIds),
      this.#index.eventsInStreams(
        streamIds,
        appends.flatMap((a) => a.events.map((e) => e.id.toLowerCase())),
      ),
    ]);
    return appends.map((append, i) => {
      const { streamId, events, expectedRevision } = append;
      const last = tails.get(streamId);
      const current = last === undefined ? null : last.revision;
      const ids = events.map((e) => e.id.toLowerCase());
      const byId = new Map((seen.get(streamId) ?? []).map((row) => [row.eventId, row] as const));
      if (ids.some((id) => byId.has(id))) {
        return {
          kind: 'idempotent',
          result: idempotentResult(append, ids, byId, expectedRevision),
        };
      }
      const holds =
        expectedRevision === 'any' ||
        (expectedRevision === 'no_stream' && current === null) ||
        (expectedRevision === 'stream_exists' && current !== null) ||
        (typeof expectedRevision === 'number' && current === expectedRevision);
      if (!holds) throw new WrongExpectedRevisionError(streamId, expectedRevision, current);
      return {
        kind: 'write',
        streamId,
        events,
        encoded: encoded[i] ?? [],
        current,
        previousHash: last?.hash ?? GENESIS_HASH,
      };
    });
  }

  async #write(
    plan: Extract<Plan, { kind: 'write' }>,
    recordedAt: string,
  ): Promise<{ streamId: string; lastRevision: number }> {
    const { streamId, events, encoded, current } = plan;
    let previousHash = plan.previousHash;
    const base = current === null ? 0 : current + 1;
    const esdbEvents = events.map((event, k) => {
      const contentHash = encoded[k]?.contentHash ?? '';
      const hash = chainHash(contentHash, previousHash, recordedAt, base + k);
      const metadata: StoredMetadata = {
        ledger: { v: 1, recordedAt, previousHash, hash },
        metadata: event.metadata ?? {},
      };
      previousHash = hash;
      return jsonEvent({
        id: event.id.toLowerCase(),
        type: event.type,
        data: event.data as never,
        metadata: metadata as never,
      });
    });
    // The exact revision the plan saw: EventStoreDB refuses the write if the stream moved, so
    // the chain always links to the event that is really before it.
    await this.#client.appendToStream(this.#prefix + streamId, esdbEvents, {
      expectedRevision: current === null ? 'no_stream' : BigInt(current),
    });
    return { streamId, lastRevision: base + events.length - 1 };
  }

  async readStream(
    streamId: string,
    options: ReadStreamOptions = {},
  ): Promise<readonly RecordedEvent[]> {
    const direction = options.direction ?? 'forwards';
    if (options.maxCount === 0) return [];
    let resolved: ResolvedEvent[];
    try {
      resolved = await collect(
        this.#client.readStream(this.#prefix + streamId, {
          direction: direction === 'forwards' ? FORWARDS : BACKWARDS,
          fromRevision:
            options.fromRevision === undefined
              ? direction === 'forwards'
                ? START
                : 'end'
              : BigInt(options.fromRevision),
          ...(options.maxCount === undefined ? {} : { maxCount: options.maxCount }),
        }),
      );
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    if (resolved.length === 0) return [];
    await this.#index.catchUp();
    const rows = await this.#index.stream(streamId);
    return resolved.map((r) => {
      const event = eventOf(r);
      const row = rows[Number(event.revision)];
      if (row === undefined) throw new Error(`${streamId}@${event.revision} is not indexed`);
      return withoutChain(chainedEventOf(event, row.position, this.#prefix));
    });
  }

  async readStreams(
    streamIds: readonly string[],
    options: { readonly lastEvents?: number } = {},
  ): Promise<ReadonlyMap<string, readonly RecordedEvent[]>> {
    const { lastEvents } = options;
    if (lastEvents !== undefined && (!Number.isSafeInteger(lastEvents) || lastEvents < 1)) {
      throw new InvalidInputError('lastEvents', 'lastEvents must be a whole number ≥ 1');
    }
    const unique = [...new Set(streamIds)];
    const read = await Promise.all(
      unique.map(async (id) =>
        lastEvents === undefined
          ? this.readStream(id)
          : [
              ...(await this.readStream(id, { direction: 'backwards', maxCount: lastEvents })),
            ].reverse(),
      ),
    );
    return new Map(unique.map((id, i) => [id, read[i] ?? []]));
  }

  async streamsOfEventIds(
    eventIds: readonly string[],
  ): Promise<ReadonlyMap<string, readonly string[]>> {
    await this.#index.catchUp();
    return this.#index.streamsOfEventIds(eventIds);
  }

  async streamRevision(streamId: string): Promise<number | null> {
    await this.#index.catchUp();
    return (await this.#index.lastOf(streamId))?.revision ?? null;
  }

  async readAll(options: ReadAllOptions): Promise<ReadAllPage> {
    const maxCount = options.maxCount ?? READ_PAGE;
    const events = await this.readChained({ after: options.after, maxCount });
    const types = options.types === undefined ? undefined : new Set(options.types);
    const last = events[events.length - 1];
    return {
      events: events
        .filter((e) => types === undefined || types.has(e.type))
        .map((e) => withoutChain(e)),
      readUpTo: last?.position ?? options.after,
    };
  }

  async readChained(options: {
    readonly after: number;
    readonly maxCount?: number;
  }): Promise<readonly ChainedEvent[]> {
    const maxCount = options.maxCount ?? READ_PAGE;
    if (maxCount <= 0) return [];
    await this.#index.catchUp();
    const rows = await this.#index.range(options.after, maxCount);
    const first = rows[0];
    if (first === undefined) return [];
    const byPlace = new Map(rows.map((r) => [placeKey(r), r]));
    const events: ChainedEvent[] = [];
    let from: AllPosition | 'start' = { commit: first.commit, prepare: first.prepare };
    while (events.length < rows.length) {
      // As many as are still wanted: other applications' events in between make a page short
      // of ledger events, and the loop reads on.
      const wanted = Math.min(READ_PAGE, rows.length - events.length + 1);
      const page = await this.#readAllForwards(from, wanted);
      for (const { event, position } of page) {
        const row = byPlace.get(placeKey(position));
        if (row === undefined || row.position <= (events[events.length - 1]?.position ?? 0)) {
          continue;
        }
        events.push(chainedEventOf(event, row.position, this.#prefix));
        if (events.length === rows.length) break;
      }
      const last = page[page.length - 1];
      if (last === undefined || page.length < wanted) break;
      from = last.position;
    }
    if (events.length !== rows.length) {
      throw new Error(
        `EventStoreDB returned ${events.length} of the ${rows.length} indexed events after position ${options.after}`,
      );
    }
    return events;
  }

  async readChainedLines(options: {
    readonly after: number;
    readonly maxCount?: number;
  }): Promise<readonly { readonly position: number; readonly line: string }[]> {
    const events = await this.readChained(options);
    return events.map((e) => ({ position: e.position, line: exportEventLine(e) }));
  }

  async headPosition(): Promise<number> {
    await this.#index.catchUp();
    return this.#index.head();
  }

  subscribeToAll(options: SubscribeOptions): AsyncIterable<RecordedEvent> {
    this.#listen();
    return catchUpSubscription((o) => this.readAll(o), this.#signal, options, this.#pollIntervalMs);
  }

  /**
   * Wakes subscribers when any process appends: a live EventStoreDB subscription to `$all`,
   * filtered server-side to the ledger's streams (so system events never arrive).
   */
  #listen(): void {
    if (this.#live !== undefined || this.#closed) return;
    const subscription = this.#client.subscribeToAll({
      fromPosition: 'end',
      filter: streamNameFilter({ prefixes: [this.#prefix] }),
    });
    subscription.on('data', () => this.#signal.notify());
    // A lost subscription leaves the polling fallback; it is not an error for readers.
    subscription.on('error', () => {
      this.#live = undefined;
    });
    this.#live = subscription;
  }

  async #readAllForwards(
    from: AllPosition | 'start',
    maxCount: number,
  ): Promise<{ event: EsdbEventLike; position: AllPosition }[]> {
    const resolved = await collect<AllStreamResolvedEvent>(
      this.#client.readAll({
        direction: FORWARDS,
        fromPosition: from === 'start' ? START : from,
        maxCount,
      }),
    );
    const out: { event: EsdbEventLike; position: AllPosition }[] = [];
    for (const r of resolved) {
      const event = r.event;
      if (event === undefined) continue;
      const position = event.position;
      if (position === undefined) throw new Error(`$all event ${event.id} has no position`);
      out.push({
        event: {
          streamId: event.streamId,
          id: event.id,
          revision: event.revision,
          type: event.type,
          data: event.data,
          metadata: event.metadata,
        },
        position: { commit: position.commit, prepare: position.prepare },
      });
    }
    return out;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#writing;
    await this.#live?.unsubscribe().catch(() => undefined);
    this.#live = undefined;
    await this.#client.dispose();
  }
}

type Plan =
  | { readonly kind: 'idempotent'; readonly result: StreamAppendResult }
  | {
      readonly kind: 'write';
      readonly streamId: string;
      readonly events: readonly EventToAppend[];
      readonly encoded: readonly EncodedEvent[];
      readonly current: number | null;
      readonly previousHash: string;
    };

function placeKey(p: { commit: bigint; prepare: bigint }): string {
  return `${p.commit}/${p.prepare}`;
}

/**
 * A re-sent append: every event must be stored, in this stream, consecutively, with the same
 * type and data, right where the expectation put them; anything else is a conflict (the rules
 * of the SQL log, so that both adapters pass one contract).
 */
function idempotentResult(
  append: StreamAppend,
  ids: readonly string[],
  byId: ReadonlyMap<string, IndexRow>,
  expectedRevision: ExpectedRevision,
): StreamAppendResult {
  const { streamId, events } = append;
  let start: number | undefined;
  let last: IndexRow | undefined;
  ids.forEach((id, k) => {
    const row = byId.get(id);
    if (row === undefined) {
      throw new EventIdConflictError(
        streamId,
        id,
        'is new, but other events of this append are already stored',
      );
    }
    if (start !== undefined && row.revision !== start + k) {
      throw new EventIdConflictError(
        streamId,
        id,
        'is already stored at another place than this append',
      );
    }
    const event = events[k];
    if (
      event === undefined ||
      row.type !== event.type ||
      row.dataDigest !== dataDigest(event.type, event.data)
    ) {
      throw new EventIdConflictError(streamId, id, 'is already stored with other content');
    }
    start ??= row.revision - k;
    last = row;
  });
  const first = ids[0] ?? '';
  if (
    (typeof expectedRevision === 'number' && start !== expectedRevision + 1) ||
    (expectedRevision === 'no_stream' && start !== 0)
  ) {
    throw new EventIdConflictError(
      streamId,
      first,
      'is already stored at another place than this append',
    );
  }
  if (last === undefined) throw new Error('an idempotent append without events');
  return {
    streamId,
    nextExpectedRevision: last.revision,
    position: last.position,
    idempotent: true,
  };
}

function eventOf(resolved: ResolvedEvent): EsdbEventLike {
  const event = resolved.event;
  if (event === undefined) throw new Error('EventStoreDB returned a link without its event');
  return {
    streamId: event.streamId,
    id: event.id,
    revision: event.revision,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
  };
}

async function collect<T>(read: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of read) out.push(item);
  return out;
}
