/**
 * The google.rpc.Status values BatchAppend answers a failed append with, built like the server's
 * (Google.Rpc.Status helpers in EventStoreDB): a code, the reason's name as the message, and the
 * reason itself packed in `details` as a google.protobuf.Any whose type URL ends in the full
 * protobuf name (`type.googleapis.com/event_store.client.WrongExpectedVersion`). The client picks
 * its error by that name (`details.getTypeName()`, then `details.unpack(...)`).
 */
import type { ExpectedRevision } from './expected-revision.js';
import { anyPb, codePb, emptyPb, sharedPb, statusPb, type StatusPb } from './generated.js';

type Status = StatusPb.Status;
const { Code } = codePb;

/** The protobuf package of the client protocol's shared messages (shared.proto). */
const SHARED_PACKAGE = 'event_store.client';

function status(
  code: (typeof Code)[keyof typeof Code],
  reason: string,
  detail: { serializeBinary(): Uint8Array },
): Status {
  const details = new anyPb.Any();
  details.pack(detail.serializeBinary(), `${SHARED_PACKAGE}.${reason}`);
  return new statusPb.Status().setCode(code).setMessage(reason).setDetails(details);
}

/**
 * ALREADY_EXISTS with an `event_store.client.WrongExpectedVersion`: the stream's current
 * revision (`current_stream_revision`, or `current_no_stream` when there is no stream) and what
 * the append expected (`expected_stream_position`, or `expected_any` / `expected_stream_exists`
 * / `expected_no_stream`), the fields WrongExpectedVersionError.fromWrongExpectedVersion reads.
 */
export function wrongExpectedVersionStatus(
  currentRevision: number,
  expected: ExpectedRevision,
): Status {
  const wrong = new sharedPb.WrongExpectedVersion();
  if (currentRevision < 0) wrong.setCurrentNoStream(new emptyPb.Empty());
  else wrong.setCurrentStreamRevision(currentRevision.toString(10));
  switch (expected.kind) {
    case 'any':
      wrong.setExpectedAny(new emptyPb.Empty());
      break;
    case 'stream_exists':
      wrong.setExpectedStreamExists(new emptyPb.Empty());
      break;
    case 'no_stream':
      wrong.setExpectedNoStream(new emptyPb.Empty());
      break;
    case 'revision':
      wrong.setExpectedStreamPosition(expected.revision.toString(10));
      break;
  }
  return status(Code.ALREADY_EXISTS, 'WrongExpectedVersion', wrong);
}

/** DEADLINE_EXCEEDED with an `event_store.client.Timeout`: the client's DeadlineExceededError. */
export function timeoutStatus(): Status {
  return status(Code.DEADLINE_EXCEEDED, 'Timeout', new sharedPb.Timeout());
}

/**
 * INVALID_ARGUMENT with an `event_store.client.BadRequest` carrying the explanation. Client 6.x
 * does not know that type and turns it into an UnknownError ("Could not recognize BadRequest").
 */
export function badRequestStatus(message: string): Status {
  return status(Code.INVALID_ARGUMENT, 'BadRequest', new sharedPb.BadRequest().setMessage(message));
}
