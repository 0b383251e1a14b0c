/**
 * One-shot reads (`count` set): a stream or $all, forwards or backwards, at most `count`
 * events, then the call ends.
 *
 * Start points follow EventStoreDB: a stream read includes its start revision; an $all read
 * forwards includes events at or after the position, backwards gives those strictly before it
 * (or from the very end). A missing stream is answered in-band with `stream_not_found`.
 */
import { isGone, send, type ResponseStream } from './call-writer.js';
import type { StreamsPb } from './generated.js';
import type { LogRecord, TransactionLog } from './log.js';
import { eventResponse, streamNotFoundResponse } from './read-responses.js';
import type { ReadRequest } from './read-request.js';

type ReadResp = StreamsPb.ReadResp;
type StreamRead = Extract<ReadRequest, { kind: 'read-stream' }>;
type AllRead = Extract<ReadRequest, { kind: 'read-all' }>;

/** Streams the answer to a read, respecting backpressure, then ends the call. */
export async function answerRead(
  log: TransactionLog,
  request: StreamRead | AllRead,
  call: ResponseStream<ReadResp>,
): Promise<void> {
  const responses =
    request.kind === 'read-stream' ? streamRead(log, request) : allRead(log, request);
  for (const response of responses) {
    if (isGone(call)) return;
    await send(call, response);
  }
  if (!isGone(call)) call.end();
}

function* streamRead(log: TransactionLog, request: StreamRead): Generator<ReadResp> {
  const events = log.stream(request.streamName);
  if (events === undefined) {
    yield streamNotFoundResponse(request.streamName);
    return;
  }
  const selected =
    request.direction === 'forwards' ? forwards(events, request) : backwards(events, request);
  for (const record of take(selected, request.count)) {
    yield eventResponse(record, request.structuredIds);
  }
}

function forwards(events: readonly LogRecord[], { from }: StreamRead): Iterable<LogRecord> {
  const first = from === 'start' ? 0 : from === 'end' ? events.length : from.revision;
  return events.slice(first);
}

/** Backwards from a revision past the end starts at the last event, as on the server. */
function backwards(events: readonly LogRecord[], { from }: StreamRead): Iterable<LogRecord> {
  const last = events.length - 1;
  const first = from === 'start' ? 0 : from === 'end' ? last : Math.min(from.revision, last);
  return events.slice(0, first + 1).reverse();
}

function* allRead(log: TransactionLog, request: AllRead): Generator<ReadResp> {
  const records =
    request.direction === 'forwards' ? allForwards(log, request) : allBackwards(log, request);
  const matching = request.filter === undefined ? records : keep(records, request.filter.matches);
  for (const record of take(matching, request.count)) {
    yield eventResponse(record, request.structuredIds);
  }
}

function* allForwards(log: TransactionLog, { from }: AllRead): Generator<LogRecord> {
  const first =
    from === 'start' ? 0 : from === 'end' ? log.length : log.firstIndexAtOrAfter(from.position);
  for (let index = first; index < log.length; index += 1) yield log.at(index) as LogRecord;
}

function* allBackwards(log: TransactionLog, { from }: AllRead): Generator<LogRecord> {
  const end =
    from === 'start' ? 0 : from === 'end' ? log.length : log.firstIndexAtOrAfter(from.position);
  for (let index = end - 1; index >= 0; index -= 1) yield log.at(index) as LogRecord;
}

function* take<T>(items: Iterable<T>, count: number): Generator<T> {
  if (count <= 0) return;
  let taken = 0;
  for (const item of items) {
    yield item;
    taken += 1;
    if (taken >= count) return;
  }
}

function* keep<T>(items: Iterable<T>, predicate: (item: T) => boolean): Generator<T> {
  for (const item of items) if (predicate(item)) yield item;
}
