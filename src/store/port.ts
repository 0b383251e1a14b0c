/**
 * The event-store port: what the ledger needs from a log of events, with EventStoreDB's
 * semantics so that every adapter (PostgreSQL, PGlite, EventStoreDB) fits one contract.
 *
 * @example
 * ```ts
 * const result = await store.append('weighing-S1-000123', [event], { expectedRevision: 'no_stream' });
 * // result.nextExpectedRevision === 0, result.position === the event's global position
 * for await (const e of store.subscribeToAll({ after: checkpoint, signal })) project(e);
 * ```
 */

/** A JSON value as stored in `data` and `metadata`. */
export type Json =
  null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };
export type JsonObject = { readonly [k: string]: Json };

/**
 * What the caller believes about the stream before appending:
 * - `any`: no check;
 * - `no_stream`: the stream must not exist;
 * - `stream_exists`: the stream must have at least one event;
 * - a number: the revision of the stream's last event (0-based, as EventStoreDB numbers them).
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

/** Who and what caused an event; recorded with it, never used to decide idempotency. */
export interface EventMetadata {
  readonly correlationId?: string;
  readonly causationId?: string;
  /** The API key (actor) that wrote the event. */
  readonly actor?: string;
  /** The weighbridge terminal or device that produced the event. */
  readonly sourceDevice?: string;
  readonly [key: string]: Json | undefined;
}

export interface EventToAppend {
  /**
   * UUID chosen by the producer; a retry sends the same id, which makes appends idempotent.
   * Stored as a PostgreSQL uuid, so it reads back in lower case.
   */
  readonly id: string;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata?: EventMetadata;
}

export interface RecordedEvent {
  readonly streamId: string;
  /** 0-based position of the event within its stream. */
  readonly revision: number;
  /** 1-based position in the global log; dense (no gaps) and commit-ordered. */
  readonly position: number;
  readonly id: string;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: EventMetadata;
  /** When the ledger recorded the event: server clock, UTC, ISO 8601 with milliseconds. */
  readonly recordedAt: string;
}

/** An event with its link in its stream's hash chain (see integrity/event-hash.ts). */
export interface ChainedEvent extends RecordedEvent {
  /** Lower-case hex SHA-256; 64 zeros for a stream's first event. */
  readonly previousHash: string;
  readonly hash: string;
}

export interface AppendResult {
  /** The revision of the stream's last event after the append: pass it as the next expectation. */
  readonly nextExpectedRevision: number;
  /** Global position of the last event of this append. */
  readonly position: number;
  /** True when every event was already stored at this place, so nothing was written. */
  readonly idempotent: boolean;
}

export interface StreamAppend {
  readonly streamId: string;
  readonly events: readonly EventToAppend[];
  readonly expectedRevision: ExpectedRevision;
}

export interface StreamAppendResult extends AppendResult {
  readonly streamId: string;
}

/*
 * Within one stream of an append, events take consecutive positions (the SQL adapters assign
 * positions stream by stream, in the order given), so the position of event k of n is
 * `position - (n - 1 - k)`.
 */

export interface ReadStreamOptions {
  readonly direction?: 'forwards' | 'backwards';
  /** Inclusive; defaults to the first (forwards) or the last (backwards) revision. */
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Read events strictly after this global position (0 reads from the start). */
  readonly after: number;
  readonly maxCount?: number;
  /**
   * Only these event types; the others are skipped (their positions still count). A filtered
   * page covers at most `maxCount` positions, so it may hold fewer events, even none, before the
   * head: page on from `readUpTo` until it equals the head.
   */
  readonly types?: readonly string[];
}

export interface ReadAllPage {
  readonly events: readonly RecordedEvent[];
  /**
   * The position a reader has now read up to: the last event's position or, when a type filter
   * skipped events, further. Passing it as the next `after` neither skips nor repeats anything.
   */
  readonly readUpTo: number;
}

export interface SubscribeOptions {
  readonly after: number;
  readonly batchSize?: number;
  readonly types?: readonly string[];
  /** Stops the subscription; the iterator then ends without error. */
  readonly signal?: AbortSignal;
}

export interface StoreCapabilities {
  /**
   * True when `appendMany` writes all streams in one transaction (all or nothing). EventStoreDB
   * cannot: its adapter appends stream by stream and reports per-item outcomes.
   */
  readonly atomicMultiStreamAppend: boolean;
}

export interface EventStore {
  readonly capabilities: StoreCapabilities;

  /**
   * Appends events to one stream, all or none. Throws `WrongExpectedRevisionError` when the
   * expectation does not hold, `EventIdConflictError` when an id is stored with other content or
   * elsewhere, `InvalidInputError` for bad input. Re-sending stored events returns the original
   * outcome with `idempotent: true`.
   */
  append(
    streamId: string,
    events: readonly EventToAppend[],
    options: { readonly expectedRevision: ExpectedRevision },
  ): Promise<AppendResult>;

  /** Appends to many streams, each with its own expectation; atomic when the capability says so. */
  appendMany(appends: readonly StreamAppend[]): Promise<readonly StreamAppendResult[]>;

  readStream(streamId: string, options?: ReadStreamOptions): Promise<readonly RecordedEvent[]>;

  /**
   * Several whole streams at once, forwards (one round trip where the adapter can): a stream
   * that does not exist maps to an empty list. With `lastEvents`, only each stream's last n
   * events (still in revision order): what a long-lived stream's current state needs.
   */
  readStreams(
    streamIds: readonly string[],
    options?: { readonly lastEvents?: number },
  ): Promise<ReadonlyMap<string, readonly RecordedEvent[]>>;

  /** For each of these event ids that is stored, the streams that hold it (any stream). */
  streamsOfEventIds(eventIds: readonly string[]): Promise<ReadonlyMap<string, readonly string[]>>;

  /** The revision of the stream's last event, or `null` when the stream does not exist. */
  streamRevision(streamId: string): Promise<number | null>;

  /** One page of the global log, forwards, in commit order. */
  readAll(options: ReadAllOptions): Promise<ReadAllPage>;

  /**
   * Events at positions (after, after + maxCount] with their hashes, in order: what auditors
   * verify and export. No type filter: an audit sees everything.
   */
  readChained(options: {
    readonly after: number;
    readonly maxCount?: number;
  }): Promise<readonly ChainedEvent[]>;

  /**
   * The same events as `readChained`, each already written as one line of the export format
   * (audit/export-format.ts): PostgreSQL writes the JSON itself, which makes an export several
   * times cheaper than parsing rows and writing them again.
   */
  readChainedLines(options: {
    readonly after: number;
    readonly maxCount?: number;
  }): Promise<readonly { readonly position: number; readonly line: string }[]>;

  /** The position of the last committed event (0 for an empty log). */
  headPosition(): Promise<number>;

  /** History, then live events, in global order; woken by notifications, polling as a fallback. */
  subscribeToAll(options: SubscribeOptions): AsyncIterable<RecordedEvent>;

  close(): Promise<void>;
}
