/**
 * The one write path behind both append calls, Streams.Append (classic) and Streams.BatchAppend:
 * turning proposed messages into events, the expected-revision and idempotency check
 * (expected-revision.ts), and the atomic commit. Each call only decodes its own request shape
 * and encodes the outcome in its own answer shape, so both follow exactly the same rules.
 */
import { requiredMetadataPropertyMissing } from './errors.js';
import { checkCommit, type ExpectedRevision } from './expected-revision.js';
import { sharedPb, type SharedPb } from './generated.js';
import type { ContentType, ProposedEvent, TransactionLog } from './log.js';
import { uuidToString } from './uuid.js';

/** What AppendReq.ProposedMessage and BatchAppendReq.ProposedMessage have in common. */
export interface ProposedMessageLike {
  getId(): SharedPb.UUID | undefined;
  getMetadataMap(): { get(key: string): string | undefined };
  getData_asU8(): Uint8Array;
  getCustomMetadata_asU8(): Uint8Array;
}

export interface AppendRequest {
  readonly streamName: string;
  readonly expected: ExpectedRevision;
  readonly events: readonly ProposedEvent[];
}

export type AppendOutcome =
  /**
   * Written, or already there (an idempotent retry writes nothing and answers where the events
   * were written). `currentRevision` is -1 for an empty append to a stream that does not exist.
   */
  | { readonly kind: 'success'; readonly currentRevision: number; readonly position: bigint }
  /** Nothing written. `currentRevision` is -1 when the stream does not exist. */
  | {
      readonly kind: 'wrong_expected_version';
      readonly currentRevision: number;
      readonly expected: ExpectedRevision;
    };

/** Checks the expectation, then commits all the events at once, or none of them. */
export function appendToLog(log: TransactionLog, request: AppendRequest): AppendOutcome {
  const { streamName, expected, events } = request;
  const eventIds = events.map((event) => event.eventId);
  const decision = checkCommit(log.stream(streamName), expected, eventIds);
  switch (decision.kind) {
    case 'wrong_expected_version':
      return {
        kind: 'wrong_expected_version',
        currentRevision: decision.currentRevision,
        expected,
      };
    case 'idempotent':
      return {
        kind: 'success',
        currentRevision: decision.lastEvent.revision,
        position: decision.lastEvent.position,
      };
    case 'append':
      return { kind: 'success', ...commitEvents(log, streamName, events) };
  }
}

/**
 * Writes the events. Zero events are allowed: like EventStoreDB, the fake then writes an empty
 * record (it takes log space, is no event, wakes no subscription) and answers with its position
 * and the stream's unchanged revision.
 */
function commitEvents(
  log: TransactionLog,
  streamName: string,
  events: readonly ProposedEvent[],
): { currentRevision: number; position: bigint } {
  const last = log.commit(streamName, events).at(-1);
  if (last !== undefined) return { currentRevision: last.revision, position: last.position };
  return { currentRevision: log.lastRevision(streamName), position: log.commitEmpty() };
}

/** A proposed message as an event; a message without `type` or `content-type` is refused. */
export function proposedEvent(message: ProposedMessageLike): ProposedEvent {
  const metadata = message.getMetadataMap();
  const eventType = metadata.get('type');
  if (eventType === undefined) throw requiredMetadataPropertyMissing('type');
  const contentType = metadata.get('content-type');
  if (contentType === undefined) throw requiredMetadataPropertyMissing('content-type');
  return {
    eventId: uuidToString(message.getId()),
    eventType,
    contentType: storedContentType(contentType),
    data: message.getData_asU8(),
    customMetadata: message.getCustomMetadata_asU8(),
  };
}

/** The server keeps only "is it JSON": any other content type reads back as octet-stream. */
function storedContentType(contentType: string): ContentType {
  return contentType === 'application/json' ? 'application/json' : 'application/octet-stream';
}

/** A stream identifier's name (UTF-8 bytes on the wire). */
export function streamNameOf(identifier: SharedPb.StreamIdentifier): string {
  return new TextDecoder().decode(identifier.getStreamName_asU8());
}

/** The stream identifier an answer carries. */
export function streamIdentifier(streamName: string): SharedPb.StreamIdentifier {
  return new sharedPb.StreamIdentifier().setStreamName(new TextEncoder().encode(streamName));
}
