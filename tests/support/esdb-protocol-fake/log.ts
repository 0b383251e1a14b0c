/**
 * The fake's single source of truth: one ordered transaction log, like EventStoreDB's.
 *
 * Every event is a record at a log position that is a byte offset, so positions are sparse and
 * strictly increasing (an adapter must never assume `position + 1` is the next event). Each
 * gRPC append is self-committed, so an event's commit position equals its prepare position.
 * Streams are just an index over the log; nothing is ever stored twice.
 */

/** An event as the log holds it. Positions are bigint because the protocol's are uint64. */
export interface LogRecord {
  /** Index in the log (0-based); lets a subscription resume exactly where it stopped. */
  readonly index: number;
  readonly streamName: string;
  /** 0-based revision within its stream. */
  readonly revision: number;
  /** Lower-case canonical UUID string. */
  readonly eventId: string;
  readonly eventType: string;
  /** EventStoreDB stores only "is JSON", so a read gives back one of these two. */
  readonly contentType: ContentType;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
  /** 100 ns ticks since the Unix epoch, what the server sends as the `created` metadata entry. */
  readonly createdTicks: bigint;
  /** Commit position === prepare position === this byte offset. */
  readonly position: bigint;
}

export type ContentType = 'application/json' | 'application/octet-stream';

/** What an append proposes; the log assigns revision, position and timestamp. */
export interface ProposedEvent {
  readonly eventId: string;
  readonly eventType: string;
  readonly contentType: ContentType;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
}

/** Fixed cost of a record header in the fake's byte accounting (EventStoreDB's is of this order). */
const RECORD_HEADER_BYTES = 100n;
const TICKS_PER_MILLISECOND = 10_000n;
const utf8 = new TextEncoder();

/** The size a record takes in the log, so the next record's offset moves by a realistic amount. */
function recordSize(streamName: string, event: ProposedEvent): bigint {
  const variable =
    utf8.encode(streamName).length +
    utf8.encode(event.eventType).length +
    event.data.length +
    event.customMetadata.length;
  return RECORD_HEADER_BYTES + BigInt(variable);
}

/** Now, as ticks since the Unix epoch (the client divides by 10 000 to get milliseconds). */
function nowInTicks(): bigint {
  return BigInt(Date.now()) * TICKS_PER_MILLISECOND;
}

export class TransactionLog {
  private readonly records: LogRecord[] = [];
  private readonly streams = new Map<string, LogRecord[]>();
  private readonly commitListeners = new Set<() => void>();
  private nextPosition = 0n;

  get length(): number {
    return this.records.length;
  }

  at(index: number): LogRecord | undefined {
    return this.records[index];
  }

  /** The events of one stream in revision order, or undefined when the stream does not exist. */
  stream(streamName: string): readonly LogRecord[] | undefined {
    return this.streams.get(streamName);
  }

  /** Revision of the stream's last event; -1 when the stream does not exist (EventStoreDB's "no stream"). */
  lastRevision(streamName: string): number {
    return (this.streams.get(streamName)?.length ?? 0) - 1;
  }

  /** Index of the first record whose position is >= the given one (log.length when none). */
  firstIndexAtOrAfter(position: bigint): number {
    return this.lowerBound((record) => record.position >= position);
  }

  /** Index of the first record whose position is > the given one (log.length when none). */
  firstIndexAfter(position: bigint): number {
    return this.lowerBound((record) => record.position > position);
  }

  /**
   * Commits events atomically at the end of a stream, then wakes every subscription once.
   * The caller has already checked the expected revision: the log itself never refuses.
   */
  commit(streamName: string, events: readonly ProposedEvent[]): readonly LogRecord[] {
    const stream = this.streams.get(streamName) ?? [];
    const createdTicks = nowInTicks();
    const committed = events.map((event, offset) =>
      this.place(event, {
        streamName,
        revision: stream.length + offset,
        index: this.records.length + offset,
        createdTicks,
      }),
    );
    if (committed.length === 0) return committed;
    this.records.push(...committed);
    stream.push(...committed);
    this.streams.set(streamName, stream);
    for (const listener of [...this.commitListeners]) listener();
    return committed;
  }

  /**
   * Writes the empty record EventStoreDB writes for an append of zero events: it takes log
   * space and has a position, but it is no event (no read returns it). Returns that position.
   */
  commitEmpty(): bigint {
    const position = this.nextPosition;
    this.nextPosition += RECORD_HEADER_BYTES;
    return position;
  }

  /** Registers a listener called after every commit; returns the function that removes it. */
  onCommit(listener: () => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** Number of live listeners; lets tests prove a cancelled subscription let go of the log. */
  get listenerCount(): number {
    return this.commitListeners.size;
  }

  /** Gives an event its byte offset and advances the log's end past it. */
  private place(
    event: ProposedEvent,
    slot: Pick<LogRecord, 'streamName' | 'revision' | 'index' | 'createdTicks'>,
  ): LogRecord {
    const position = this.nextPosition;
    this.nextPosition += recordSize(slot.streamName, event);
    return { ...event, ...slot, position };
  }

  /** Binary search over the log, which is sorted by position. */
  private lowerBound(isAtOrPast: (record: LogRecord) => boolean): number {
    let low = 0;
    let high = this.records.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (isAtOrPast(this.records[middle] as LogRecord)) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}
