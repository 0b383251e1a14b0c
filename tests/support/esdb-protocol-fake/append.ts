/**
 * Streams.Append (client streaming): one `options` message (stream, expected revision), then
 * zero or more proposed events; one answer once the client half-closes. A wrong expected
 * revision is an answer (`wrong_expected_version`), not a gRPC error, exactly as on the server.
 */
import type { handleClientStreamingCall } from '@grpc/grpc-js';
import { appendToLog, proposedEvent, streamNameOf, type AppendOutcome } from './commit.js';
import { invalidArgument, toServerError } from './errors.js';
import type { ExpectedRevision } from './expected-revision.js';
import { sharedPb, streamsPb, type StreamsPb } from './generated.js';
import type { TransactionLog } from './log.js';

type AppendReq = StreamsPb.AppendReq;
type AppendResp = StreamsPb.AppendResp;
type Options = StreamsPb.AppendReq.Options;
const { AppendResp } = streamsPb;
const { ExpectedStreamRevisionCase } = streamsPb.AppendReq.Options;

export function appendHandler(
  log: TransactionLog,
): handleClientStreamingCall<AppendReq, AppendResp> {
  return (call, callback) => {
    const requests: AppendReq[] = [];
    call.on('data', (request: AppendReq) => requests.push(request));
    call.on('end', () => {
      try {
        callback(null, append(log, requests));
      } catch (error) {
        callback(toServerError(error));
      }
    });
  };
}

function append(log: TransactionLog, requests: readonly AppendReq[]): AppendResp {
  const [header, ...entries] = requests;
  const options = header?.getOptions();
  if (options === undefined) throw invalidArgument('the first append message must be options');
  const identifier = options.getStreamIdentifier();
  if (identifier === undefined) throw invalidArgument('append without stream_identifier');
  const outcome = appendToLog(log, {
    streamName: streamNameOf(identifier),
    expected: expectedRevisionOf(options),
    events: entries.map(proposedMessageOf).map(proposedEvent),
  });
  return respond(outcome);
}

function respond(outcome: AppendOutcome): AppendResp {
  switch (outcome.kind) {
    case 'wrong_expected_version':
      return wrongExpectedVersion(outcome.currentRevision, outcome.expected);
    case 'success':
      return success(outcome.currentRevision, outcome.position);
  }
}

/** `position` is where the last event (or the empty record) sits: commit === prepare. */
function success(currentRevision: number, position: bigint): AppendResp {
  const result = new AppendResp.Success().setPosition(appendPosition(position));
  if (currentRevision < 0) result.setNoStream(new sharedPb.Empty());
  else result.setCurrentRevision(currentRevision.toString(10));
  return new AppendResp().setSuccess(result);
}

function appendPosition(position: bigint): StreamsPb.AppendResp.Position {
  const value = position.toString(10);
  return new AppendResp.Position().setCommitPosition(value).setPreparePosition(value);
}

/**
 * Both the current fields and the deprecated `*_20_6_0` ones are filled, as today's server does,
 * so older clients understand the answer too (the 20.6.0 "expected no stream" is uint64 max,
 * which google-protobuf cannot write from a JS number, so that one alone is left out).
 */
function wrongExpectedVersion(currentRevision: number, expected: ExpectedRevision): AppendResp {
  const wrong = new AppendResp.WrongExpectedVersion();
  if (currentRevision < 0) {
    wrong.setCurrentNoStream(new sharedPb.Empty()).setNoStream2060(new sharedPb.Empty());
  } else {
    wrong.setCurrentRevision(currentRevision.toString(10)).setCurrentRevision2060(currentRevision);
  }
  switch (expected.kind) {
    case 'any':
      wrong.setExpectedAny(new sharedPb.Empty()).setAny2060(new sharedPb.Empty());
      break;
    case 'stream_exists':
      wrong.setExpectedStreamExists(new sharedPb.Empty()).setStreamExists2060(new sharedPb.Empty());
      break;
    case 'no_stream':
      wrong.setExpectedNoStream(new sharedPb.Empty());
      break;
    case 'revision':
      wrong
        .setExpectedRevision(expected.revision.toString(10))
        .setExpectedRevision2060(expected.revision);
      break;
  }
  return new AppendResp().setWrongExpectedVersion(wrong);
}

function expectedRevisionOf(options: Options): ExpectedRevision {
  switch (options.getExpectedStreamRevisionCase()) {
    case ExpectedStreamRevisionCase.ANY:
      return { kind: 'any' };
    case ExpectedStreamRevisionCase.NO_STREAM:
      return { kind: 'no_stream' };
    case ExpectedStreamRevisionCase.STREAM_EXISTS:
      return { kind: 'stream_exists' };
    case ExpectedStreamRevisionCase.REVISION:
      return { kind: 'revision', revision: Number(options.getRevision()) };
    case ExpectedStreamRevisionCase.EXPECTED_STREAM_REVISION_NOT_SET:
      throw invalidArgument('append without expected stream revision');
  }
}

function proposedMessageOf(request: AppendReq): StreamsPb.AppendReq.ProposedMessage {
  const message = request.getProposedMessage();
  if (message === undefined) throw invalidArgument('append message after options is not an event');
  return message;
}
