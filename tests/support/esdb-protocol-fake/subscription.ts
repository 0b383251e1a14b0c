/**
 * Catch-up subscriptions (`subscription` set): to $all or to one stream.
 *
 * The whole protocol in order: `confirmation` first, then every matching event after the start
 * point from history, then `caught_up`, then live events as appends commit. A single cursor
 * over the log drives both phases, so an event appended while history is being sent is simply
 * reached a little later: delivered once, in log order, never skipped. Filtered $all
 * subscriptions also send a `checkpoint` each time `checkpointInterval` events have been
 * considered (looked at, matching or not), as EventStoreDB does, so a reader of rare events
 * can still save its progress. A cancelled call stops listening to the log at once.
 */
import { isGone, send, type ResponseStream } from './call-writer.js';
import type { StreamsPb } from './generated.js';
import type { LogRecord, TransactionLog } from './log.js';
import {
  caughtUpResponse,
  checkpointResponse,
  confirmationResponse,
  eventResponse,
} from './read-responses.js';
import type { ReadRequest } from './read-request.js';

type ReadResp = StreamsPb.ReadResp;
type SubscribeRequest = Extract<ReadRequest, { kind: 'subscribe-stream' | 'subscribe-all' }>;

interface SubscriptionPlan {
  /** First log index to look at. */
  readonly startIndex: number;
  readonly matches: (record: LogRecord) => boolean;
  /** Set for filtered $all subscriptions only. */
  readonly checkpointInterval: number | undefined;
  readonly structuredIds: boolean;
}

/** Starts serving a subscription; it lives until the client cancels or the server closes. */
export function startSubscription(
  log: TransactionLog,
  request: SubscribeRequest,
  call: ResponseStream<ReadResp>,
): void {
  const plan = request.kind === 'subscribe-all' ? allPlan(log, request) : streamPlan(log, request);
  new Subscription(log, plan, call).start();
}

/** $all: from the start, from the end (live only), or strictly after a position. */
function allPlan(
  log: TransactionLog,
  request: Extract<SubscribeRequest, { kind: 'subscribe-all' }>,
): SubscriptionPlan {
  const { from, filter, structuredIds } = request;
  const startIndex =
    from === 'start' ? 0 : from === 'end' ? log.length : log.firstIndexAfter(from.position);
  return {
    startIndex,
    matches: filter?.matches ?? (() => true),
    checkpointInterval: filter?.checkpointInterval,
    structuredIds,
  };
}

/** A stream: from revision 0, from the end (live only), or strictly after a revision. */
function streamPlan(
  log: TransactionLog,
  request: Extract<SubscribeRequest, { kind: 'subscribe-stream' }>,
): SubscriptionPlan {
  const { streamName, from, structuredIds } = request;
  const firstRevision =
    from === 'start' ? 0 : from === 'end' ? log.lastRevision(streamName) + 1 : from.revision + 1;
  const firstRecord = log.stream(streamName)?.[firstRevision];
  return {
    // Nothing before the first wanted revision can match: start there, or at the log's end.
    startIndex: firstRecord?.index ?? log.length,
    matches: (record) => record.streamName === streamName && record.revision >= firstRevision,
    checkpointInterval: undefined,
    structuredIds,
  };
}

class Subscription {
  private cursor: number;
  private considered = 0;
  private confirmed = false;
  private caughtUp = false;
  private draining = false;
  private closed = false;
  private stopListening: () => void = () => undefined;

  constructor(
    private readonly log: TransactionLog,
    private readonly plan: SubscriptionPlan,
    private readonly call: ResponseStream<ReadResp>,
  ) {
    this.cursor = plan.startIndex;
  }

  start(): void {
    this.stopListening = this.log.onCommit(() => this.wake());
    this.call.once('cancelled', () => this.close());
    this.call.once('close', () => this.close());
    this.wake();
  }

  private wake(): void {
    this.drain().catch(() => this.close());
  }

  /** Sends everything not sent yet; re-entrant calls are folded into the running one. */
  private async drain(): Promise<void> {
    if (this.draining || this.closed) return;
    this.draining = true;
    try {
      await this.deliverUpToEnd();
    } finally {
      this.draining = false;
    }
    // An append may have landed during the last await, after the loop looked at the length.
    if (!this.closed && this.cursor < this.log.length) this.wake();
  }

  private async deliverUpToEnd(): Promise<void> {
    if (!this.confirmed) {
      this.confirmed = true;
      await this.send(confirmationResponse());
    }
    while (!this.closed && this.cursor < this.log.length) {
      const record = this.log.at(this.cursor) as LogRecord;
      this.cursor += 1;
      if (this.plan.matches(record))
        await this.send(eventResponse(record, this.plan.structuredIds));
      await this.countConsidered(record);
    }
    if (!this.caughtUp && !this.closed) {
      this.caughtUp = true;
      await this.send(caughtUpResponse());
    }
  }

  private async countConsidered(record: LogRecord): Promise<void> {
    const interval = this.plan.checkpointInterval;
    if (interval === undefined) return;
    this.considered += 1;
    if (this.considered < interval) return;
    this.considered %= interval;
    await this.send(checkpointResponse(record.position));
  }

  private async send(message: ReadResp): Promise<void> {
    if (isGone(this.call)) {
      this.close();
      return;
    }
    await send(this.call, message);
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopListening();
  }
}
