/**
 * EventStoreDB's commit check: may these events be appended to this stream with this expected
 * revision, are they a retry of an append that already happened (idempotent), or is the
 * expectation wrong? Pure: reads the stream, decides, writes nothing.
 *
 * It follows the server's rules (IndexCommitter.CheckCommit):
 * - `any` / `stream_exists`: if the first event id is already in the stream, the append is a
 *   retry when every id is there; if only some are, it is a wrong expected version.
 * - a revision N (`no_stream` is N = -1) older than the stream's last revision: a retry when the
 *   events at N+1, N+2, … carry exactly these ids; otherwise a wrong expected version.
 * - N newer than the last revision: wrong expected version. N equal to it: append.
 */
import type { LogRecord } from './log.js';

export type ExpectedRevision =
  | { readonly kind: 'any' }
  | { readonly kind: 'stream_exists' }
  | { readonly kind: 'no_stream' }
  | { readonly kind: 'revision'; readonly revision: number };

export type CommitDecision =
  | { readonly kind: 'append' }
  /** The events are already there: answer with where they were written, write nothing. */
  | { readonly kind: 'idempotent'; readonly lastEvent: LogRecord }
  /** `currentRevision` is -1 when the stream does not exist. */
  | { readonly kind: 'wrong_expected_version'; readonly currentRevision: number };

/** Decides what an append of `eventIds` to `stream` (undefined: no such stream) must do. */
export function checkCommit(
  stream: readonly LogRecord[] | undefined,
  expected: ExpectedRevision,
  eventIds: readonly string[],
): CommitDecision {
  const events = stream ?? [];
  const currentRevision = events.length - 1;
  const wrong: CommitDecision = { kind: 'wrong_expected_version', currentRevision };
  switch (expected.kind) {
    case 'stream_exists':
      return currentRevision < 0 ? wrong : checkRetryAnywhere(events, eventIds, wrong);
    case 'any':
      return checkRetryAnywhere(events, eventIds, wrong);
    case 'no_stream':
      return checkAgainstRevision(events, -1, eventIds, wrong);
    case 'revision':
      return checkAgainstRevision(events, expected.revision, eventIds, wrong);
  }
}

/** `any` / `stream_exists`: a retry is recognised by the ids alone, wherever they sit. */
function checkRetryAnywhere(
  events: readonly LogRecord[],
  eventIds: readonly string[],
  wrong: CommitDecision,
): CommitDecision {
  const byId = new Map(events.map((event) => [event.eventId, event]));
  const found = eventIds.map((id) => byId.get(id));
  if (found.length === 0 || found[0] === undefined) return { kind: 'append' };
  const lastEvent = found[found.length - 1];
  if (found.includes(undefined) || lastEvent === undefined) return wrong;
  return { kind: 'idempotent', lastEvent };
}

/** An explicit revision (or `no_stream`): a retry must match the ids right after it, in order. */
function checkAgainstRevision(
  events: readonly LogRecord[],
  expectedRevision: number,
  eventIds: readonly string[],
  wrong: CommitDecision,
): CommitDecision {
  const currentRevision = events.length - 1;
  if (expectedRevision === currentRevision) return { kind: 'append' };
  if (expectedRevision > currentRevision || eventIds.length === 0) return wrong;
  const retried = eventIds.map((id, offset) => {
    const event = events[expectedRevision + 1 + offset];
    return event?.eventId === id ? event : undefined;
  });
  const lastEvent = retried[retried.length - 1];
  if (retried.includes(undefined) || lastEvent === undefined) return wrong;
  return { kind: 'idempotent', lastEvent };
}
