import type { ChainedEvent, EventMetadata, JsonObject, RecordedEvent } from '../port.js';

/**
 * What the ledger stores in an EventStoreDB event's custom metadata: the caller's metadata and,
 * beside it, the ledger's own part (recorded time and the hash chain link). EventStoreDB's own
 * `created` stamp is set after the hash is computed, so the ledger carries its recorded time
 * itself; wrapping (rather than adding keys) leaves every caller's metadata key free.
 */
export interface StoredMetadata {
  readonly ledger: LedgerPart;
  readonly metadata: EventMetadata;
}

export interface LedgerPart {
  /** Envelope version, so that a later format can be told apart. */
  readonly v: 1;
  readonly recordedAt: string;
  readonly previousHash: string;
  readonly hash: string;
}

/** The parts of an EventStoreDB event the adapter reads, as `@eventstore/db-client` gives them. */
export interface EsdbEventLike {
  readonly streamId: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
}

const HEX64 = /^[0-9a-f]{64}$/;
const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The ledger part of a stored event, or undefined for an event the ledger did not write. */
export function ledgerPartOf(metadata: unknown): StoredMetadata | undefined {
  if (!isObject(metadata) || !isObject(metadata.ledger) || !isObject(metadata.metadata)) {
    return undefined;
  }
  const part = metadata.ledger;
  if (
    part.v !== 1 ||
    typeof part.recordedAt !== 'string' ||
    !ISO_UTC_MS.test(part.recordedAt) ||
    typeof part.previousHash !== 'string' ||
    !HEX64.test(part.previousHash) ||
    typeof part.hash !== 'string' ||
    !HEX64.test(part.hash)
  ) {
    return undefined;
  }
  return metadata as unknown as StoredMetadata;
}

/**
 * Turns a stored EventStoreDB event into the port's event. `position` is the ledger's dense
 * position (from the position index) and `namespace` the stream-name prefix to strip.
 */
export function chainedEventOf(
  event: EsdbEventLike,
  position: number,
  namespacePrefix: string,
): ChainedEvent {
  const stored = ledgerPartOf(event.metadata);
  if (stored === undefined) {
    throw new Error(
      `EventStoreDB event ${event.id} in ${event.streamId} carries no ledger metadata: it was not written by the ledger`,
    );
  }
  if (!event.streamId.startsWith(namespacePrefix)) {
    throw new Error(`EventStoreDB stream ${event.streamId} is outside ${namespacePrefix}`);
  }
  return {
    streamId: event.streamId.slice(namespacePrefix.length),
    revision: Number(event.revision),
    position,
    id: event.id.toLowerCase(),
    type: event.type,
    data: event.data as JsonObject,
    metadata: stored.metadata,
    recordedAt: stored.ledger.recordedAt,
    previousHash: stored.ledger.previousHash,
    hash: stored.ledger.hash,
  };
}

/** The port's event without its hash chain link. */
export function withoutChain(event: ChainedEvent): RecordedEvent {
  return {
    streamId: event.streamId,
    revision: event.revision,
    position: event.position,
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    recordedAt: event.recordedAt,
  };
}
