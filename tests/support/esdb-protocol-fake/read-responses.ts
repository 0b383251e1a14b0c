/**
 * The messages a Read call streams back (`ReadResp`), built the way EventStoreDB builds them.
 *
 * Every recorded event carries: its id (string or structured, as the reader asked), stream name,
 * stream revision, commit and prepare positions (equal: appends are self-committed), and a
 * metadata map with `type`, `content-type` and `created` (ticks since the Unix epoch, as a
 * decimal string). The enclosing ReadEvent repeats the commit position.
 */
import { randomUUID } from 'node:crypto';
import { sharedPb, streamsPb, type StreamsPb } from './generated.js';
import type { LogRecord } from './log.js';
import { uuidMessage } from './uuid.js';

type ReadResp = StreamsPb.ReadResp;
const { ReadResp } = streamsPb;

export function eventResponse(record: LogRecord, structuredIds: boolean): ReadResp {
  const position = record.position.toString(10);
  const readEvent = new ReadResp.ReadEvent()
    .setEvent(recordedEvent(record, structuredIds))
    .setCommitPosition(position);
  return new ReadResp().setEvent(readEvent);
}

function recordedEvent(record: LogRecord, structuredIds: boolean) {
  const position = record.position.toString(10);
  const event = new ReadResp.ReadEvent.RecordedEvent()
    .setId(uuidMessage(record.eventId, structuredIds))
    .setStreamIdentifier(streamIdentifier(record.streamName))
    .setStreamRevision(record.revision.toString(10))
    .setCommitPosition(position)
    .setPreparePosition(position)
    .setData(record.data)
    .setCustomMetadata(record.customMetadata);
  event
    .getMetadataMap()
    .set('type', record.eventType)
    .set('content-type', record.contentType)
    .set('created', record.createdTicks.toString(10));
  return event;
}

export function streamIdentifier(streamName: string) {
  return new sharedPb.StreamIdentifier().setStreamName(new TextEncoder().encode(streamName));
}

export function streamNotFoundResponse(streamName: string): ReadResp {
  const notFound = new ReadResp.StreamNotFound().setStreamIdentifier(streamIdentifier(streamName));
  return new ReadResp().setStreamNotFound(notFound);
}

/** The first message of every subscription; the id is the server's, random like its Guid. */
export function confirmationResponse(): ReadResp {
  const confirmation = new ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID());
  return new ReadResp().setConfirmation(confirmation);
}

/** Sent once a subscription has delivered all history and is now live. */
export function caughtUpResponse(): ReadResp {
  return new ReadResp().setCaughtUp(new ReadResp.CaughtUp());
}

/** "Everything up to this position has been looked at": lets filtered readers save progress. */
export function checkpointResponse(position: bigint): ReadResp {
  const value = position.toString(10);
  const checkpoint = new ReadResp.Checkpoint().setCommitPosition(value).setPreparePosition(value);
  return new ReadResp().setCheckpoint(checkpoint);
}
