/**
 * Decoding a `ReadReq` into what it asks for. One Read RPC covers four operations, chosen by
 * the options' oneofs: stream or $all, count (a read) or subscription, with or without a filter.
 * Combinations EventStoreDB refuses (a filter on a stream, a backwards subscription) are
 * refused here too. `resolve_links` is accepted and has no effect (the fake holds no links), and
 * `control_option.compatibility` is ignored (client 6.2.1 never sets it).
 */
import { invalidArgument } from './errors.js';
import { checkpointInterval, eventFilter, type EventFilter } from './filter.js';
import { streamsPb, type StreamsPb } from './generated.js';

export type Direction = 'forwards' | 'backwards';
export type StreamStart = 'start' | 'end' | { readonly revision: number };
export type AllStart = 'start' | 'end' | { readonly position: bigint };

export interface AllFilter {
  readonly matches: EventFilter;
  /** Considered events between two checkpoints (subscriptions only). */
  readonly checkpointInterval: number;
}

export type ReadRequest = { readonly structuredIds: boolean } & (
  | {
      readonly kind: 'read-stream';
      readonly streamName: string;
      readonly from: StreamStart;
      readonly direction: Direction;
      readonly count: number;
    }
  | {
      readonly kind: 'read-all';
      readonly from: AllStart;
      readonly direction: Direction;
      readonly count: number;
      readonly filter: AllFilter | undefined;
    }
  | { readonly kind: 'subscribe-stream'; readonly streamName: string; readonly from: StreamStart }
  | {
      readonly kind: 'subscribe-all';
      readonly from: AllStart;
      readonly filter: AllFilter | undefined;
    }
);

type Options = StreamsPb.ReadReq.Options;
const { ReadDirection, CountOptionCase } = streamsPb.ReadReq.Options;

/** What every kind of read shares, decoded once. */
interface Shape {
  readonly structuredIds: boolean;
  readonly isSubscription: boolean;
  readonly direction: Direction;
}

export function parseReadRequest(request: StreamsPb.ReadReq): ReadRequest {
  const options = request.getOptions();
  if (options === undefined) throw invalidArgument('read without options');
  const shape: Shape = {
    // The server answers with structured ids unless the reader asked for strings.
    structuredIds: !(options.getUuidOption()?.hasString() ?? false),
    isSubscription: countCase(options) === CountOptionCase.SUBSCRIPTION,
    direction: directionOf(options),
  };
  if (shape.isSubscription && shape.direction === 'backwards') {
    throw invalidArgument('a subscription can only go forwards');
  }
  const stream = options.getStream();
  if (stream !== undefined) return streamRequest(options, stream, shape);
  const all = options.getAll();
  if (all !== undefined) return allRequest(options, all, shape);
  throw invalidArgument('read of neither a stream nor $all');
}

function streamRequest(
  options: Options,
  stream: StreamsPb.ReadReq.Options.StreamOptions,
  { structuredIds, isSubscription, direction }: Shape,
): ReadRequest {
  if (options.hasFilter()) throw invalidArgument('a filter applies to $all only');
  const identifier = stream.getStreamIdentifier();
  if (identifier === undefined) throw invalidArgument('stream read without stream_identifier');
  const streamName = new TextDecoder().decode(identifier.getStreamName_asU8());
  const from = streamStart(stream);
  if (isSubscription) return { kind: 'subscribe-stream', structuredIds, streamName, from };
  const count = countOf(options);
  return { kind: 'read-stream', structuredIds, streamName, from, direction, count };
}

function allRequest(
  options: Options,
  all: StreamsPb.ReadReq.Options.AllOptions,
  { structuredIds, isSubscription, direction }: Shape,
): ReadRequest {
  const from = allStart(all);
  const filter = filterOf(options);
  if (isSubscription) return { kind: 'subscribe-all', structuredIds, from, filter };
  return { kind: 'read-all', structuredIds, from, direction, count: countOf(options), filter };
}

function countCase(options: Options): StreamsPb.ReadReq.Options.CountOptionCase {
  const countCase = options.getCountOptionCase();
  if (countCase === CountOptionCase.COUNT_OPTION_NOT_SET) {
    throw invalidArgument('read without count nor subscription');
  }
  return countCase;
}

function directionOf(options: Options): Direction {
  return options.getReadDirection() === ReadDirection.BACKWARDS ? 'backwards' : 'forwards';
}

/** uint64 as a decimal string; any value above 2^53 means "no limit" in practice. */
function countOf(options: Options): number {
  return Number(options.getCount());
}

function streamStart(stream: StreamsPb.ReadReq.Options.StreamOptions): StreamStart {
  if (stream.hasStart()) return 'start';
  if (stream.hasEnd()) return 'end';
  return { revision: Number(stream.getRevision()) };
}

function allStart(all: StreamsPb.ReadReq.Options.AllOptions): AllStart {
  if (all.hasStart()) return 'start';
  if (all.hasEnd()) return 'end';
  const position = all.getPosition();
  if (position === undefined) throw invalidArgument('$all read without a start');
  // Commit and prepare positions are equal in this log; the commit position orders it.
  return { position: BigInt(position.getCommitPosition()) };
}

function filterOf(options: Options): AllFilter | undefined {
  const filter = options.getFilter();
  if (filter === undefined) return undefined;
  return { matches: eventFilter(filter), checkpointInterval: checkpointInterval(filter) };
}
