/**
 * Streams.BatchAppend (bidirectional streaming): the append EventStoreDB 21.10+ advertises, and
 * the one the client then takes (it keeps one such call open per connection and sends every
 * append through it).
 *
 * Each append on the call is named by a correlation id. Its first request carries `options`
 * (stream, expected position, deadline); any request may carry proposed messages; the request
 * with `is_final` closes it. The fake gathers an append's messages until then, commits them all
 * at once through the same path as Streams.Append (commit.ts: same expected-revision and
 * idempotency rules), and answers one BatchAppendResp with the same correlation id and the
 * stream's identifier: `success` (current revision or no_stream, position), or `error`, a
 * google.rpc.Status whose details pack the reason (rpc-status.ts). Several appends may be open
 * on one call at once; each is answered when its own final request arrives.
 *
 * As on the server (Streams.BatchAppend.cs):
 * - a failed append is an answer on the call, never the end of the call;
 * - options without a stream identifier or without an expected position: BadRequest;
 * - a deadline already past when the options arrive: Timeout at once; one that passes before
 *   `is_final`: Timeout then (the correlation id then in structured form), and the append is
 *   forgotten;
 * - requests of a correlation id whose options were never seen (or that was already answered)
 *   are ignored; options repeated for an open correlation id change nothing.
 * Where the server would answer a malformed message and keep the append open, the fake answers
 * BadRequest and forgets the append, so a correlation id is never answered twice (the client
 * cannot take a second answer). A request without a correlation id, which cannot be answered,
 * ends the call with INVALID_ARGUMENT.
 */
import type { handleBidiStreamingCall, ServerDuplexStream } from '@grpc/grpc-js';
import { isGone } from './call-writer.js';
import {
  appendToLog,
  proposedEvent,
  streamIdentifier,
  streamNameOf,
  type AppendOutcome,
} from './commit.js';
import { invalidArgument, toServerError } from './errors.js';
import type { ExpectedRevision } from './expected-revision.js';
import {
  emptyPb,
  sharedPb,
  statusPb,
  streamsPb,
  type SharedPb,
  type StatusPb,
  type StreamsPb,
} from './generated.js';
import type { ProposedEvent, TransactionLog } from './log.js';
import { badRequestStatus, timeoutStatus, wrongExpectedVersionStatus } from './rpc-status.js';
import { uuidMessage, uuidToString } from './uuid.js';

type BatchAppendReq = StreamsPb.BatchAppendReq;
type BatchAppendResp = StreamsPb.BatchAppendResp;
type Options = StreamsPb.BatchAppendReq.Options;
type Success = StreamsPb.BatchAppendResp.Success;
type Call = ServerDuplexStream<BatchAppendReq, BatchAppendResp>;
const { BatchAppendResp } = streamsPb;
const { ExpectedStreamPositionCase } = streamsPb.BatchAppendReq.Options;

/** setTimeout's limit; a later deadline (the client caps its own at one year) never fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function batchAppendHandler(
  log: TransactionLog,
): handleBidiStreamingCall<BatchAppendReq, BatchAppendResp> {
  return (call) => new BatchAppendCall(log, call).start();
}

/** An append whose options have arrived and whose final request has not. */
interface OpenAppend {
  readonly streamName: string;
  readonly expected: ExpectedRevision;
  readonly events: ProposedEvent[];
  readonly timer: NodeJS.Timeout | undefined;
}

class BatchAppendCall {
  /** Keyed by the correlation id as a lower-case UUID string. */
  private readonly open = new Map<string, OpenAppend>();

  constructor(
    private readonly log: TransactionLog,
    private readonly call: Call,
  ) {}

  start(): void {
    this.call.on('data', (request: BatchAppendReq) => {
      try {
        this.receive(request);
      } catch (error) {
        this.fail(error);
      }
    });
    // The client half-closed: appends still open can no longer be finished.
    this.call.on('end', () => {
      this.forgetAll();
      if (!isGone(this.call)) this.call.end();
    });
    this.call.on('cancelled', () => this.forgetAll());
  }

  private receive(request: BatchAppendReq): void {
    const correlation = request.getCorrelationId();
    if (correlation === undefined)
      throw invalidArgument('batch append request without correlation_id');
    const id = uuidToString(correlation);
    const options = request.getOptions();
    if (options !== undefined && !this.open.has(id) && !this.begin(id, correlation, options))
      return;
    const append = this.open.get(id);
    if (append === undefined) return;
    let events: ProposedEvent[];
    try {
      events = request.getProposedMessagesList().map(proposedEvent);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.finish(id, correlation, badRequestStatus(reason));
      return;
    }
    append.events.push(...events);
    if (request.getIsFinal()) this.finish(id, correlation, this.commit(append));
  }

  /** Opens an append from its options; answers at once and returns false if it cannot be. */
  private begin(id: string, correlation: SharedPb.UUID, options: Options): boolean {
    const identifier = options.getStreamIdentifier();
    if (identifier === undefined) {
      // The server leaves the answer's identifier unset here; client 6.x would then crash
      // reading its name, so the fake sends an empty one.
      this.send(correlation, '', badRequestStatus('Required field StreamIdentifier not set.'));
      return false;
    }
    const streamName = streamNameOf(identifier);
    const expected = expectedPositionOf(options);
    if (expected === undefined) {
      this.send(correlation, streamName, badRequestStatus('Expected stream position not set.'));
      return false;
    }
    const remainingMs = millisecondsLeft(options);
    if (remainingMs <= 0) {
      this.send(correlation, streamName, timeoutStatus());
      return false;
    }
    const timer =
      remainingMs <= MAX_TIMER_MS ? setTimeout(() => this.expire(id), remainingMs) : undefined;
    this.open.set(id, { streamName, expected, events: [], timer });
    return true;
  }

  private commit(append: OpenAppend): Success | StatusPb.Status {
    return respond(appendToLog(this.log, append));
  }

  /** Answers an open append and forgets it: a correlation id is answered once. */
  private finish(id: string, correlation: SharedPb.UUID, result: Success | StatusPb.Status): void {
    const append = this.open.get(id);
    if (append === undefined) return;
    clearTimeout(append.timer);
    this.open.delete(id);
    this.send(correlation, append.streamName, result);
  }

  /** The deadline passed before the final request: Timeout, as the server's timer answers. */
  private expire(id: string): void {
    this.finish(id, uuidMessage(id, true), timeoutStatus());
  }

  private send(
    correlation: SharedPb.UUID,
    streamName: string,
    result: Success | StatusPb.Status,
  ): void {
    if (isGone(this.call)) return;
    const response = new BatchAppendResp()
      .setCorrelationId(correlation)
      .setStreamIdentifier(streamIdentifier(streamName));
    if (result instanceof statusPb.Status) response.setError(result);
    else response.setSuccess(result);
    this.call.write(response);
  }

  private fail(error: unknown): void {
    this.forgetAll();
    this.call.emit('error', toServerError(error));
  }

  private forgetAll(): void {
    for (const append of this.open.values()) clearTimeout(append.timer);
    this.open.clear();
  }
}

function respond(outcome: AppendOutcome): Success | StatusPb.Status {
  switch (outcome.kind) {
    case 'wrong_expected_version':
      return wrongExpectedVersionStatus(outcome.currentRevision, outcome.expected);
    case 'success':
      return success(outcome.currentRevision, outcome.position);
  }
}

/** `position` is where the last event (or the empty record) sits: commit === prepare. */
function success(currentRevision: number, position: bigint): Success {
  const value = position.toString(10);
  const result = new BatchAppendResp.Success().setPosition(
    new sharedPb.AllStreamPosition().setCommitPosition(value).setPreparePosition(value),
  );
  if (currentRevision < 0) result.setNoStream(new emptyPb.Empty());
  else result.setCurrentRevision(currentRevision.toString(10));
  return result;
}

function expectedPositionOf(options: Options): ExpectedRevision | undefined {
  switch (options.getExpectedStreamPositionCase()) {
    case ExpectedStreamPositionCase.ANY:
      return { kind: 'any' };
    case ExpectedStreamPositionCase.NO_STREAM:
      return { kind: 'no_stream' };
    case ExpectedStreamPositionCase.STREAM_EXISTS:
      return { kind: 'stream_exists' };
    case ExpectedStreamPositionCase.STREAM_POSITION:
      return { kind: 'revision', revision: Number(options.getStreamPosition()) };
    case ExpectedStreamPositionCase.EXPECTED_STREAM_POSITION_NOT_SET:
      return undefined;
  }
}

/** Time left before the append's deadline; no deadline means no limit. */
function millisecondsLeft(options: Options): number {
  const deadline = options.getDeadline();
  if (deadline === undefined) return Number.POSITIVE_INFINITY;
  return deadline.toDate().getTime() - Date.now();
}
