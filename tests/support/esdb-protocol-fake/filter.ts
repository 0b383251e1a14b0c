/**
 * Server-side filtering of $all reads and subscriptions (`FilterOptions`): on the event type or
 * on the stream name, by regular expression or by a list of prefixes. EventStoreDB uses the
 * regex when one is given and the prefixes otherwise; so does this.
 */
import type { StreamsPb } from './generated.js';
import type { LogRecord } from './log.js';

export type EventFilter = (record: LogRecord) => boolean;

type FilterOptions = StreamsPb.ReadReq.Options.FilterOptions;
type Expression = StreamsPb.ReadReq.Options.FilterOptions.Expression;

/** EventStoreDB's default search window when the client does not set `max` (its read batch). */
const DEFAULT_MAX_SEARCH_WINDOW = 32;

/** The predicate a filter option describes. */
export function eventFilter(options: FilterOptions): EventFilter {
  if (options.hasEventType()) {
    const matches = expressionMatcher(options.getEventType() as Expression);
    return (record) => matches(record.eventType);
  }
  if (options.hasStreamIdentifier()) {
    const matches = expressionMatcher(options.getStreamIdentifier() as Expression);
    return (record) => matches(record.streamName);
  }
  throw new Error('filter without event_type nor stream_identifier');
}

/**
 * How many considered (scanned, matching or not) events separate two checkpoints:
 * `checkpointIntervalMultiplier × max search window`, as EventStoreDB computes it.
 */
export function checkpointInterval(options: FilterOptions): number {
  const window = options.hasMax() ? options.getMax() : DEFAULT_MAX_SEARCH_WINDOW;
  return Math.max(1, options.getCheckpointintervalmultiplier()) * window;
}

function expressionMatcher(expression: Expression): (value: string) => boolean {
  const regex = expression.getRegex();
  if (regex !== '') {
    const pattern = new RegExp(regex);
    return (value) => pattern.test(value);
  }
  const prefixes = expression.getPrefixList();
  return (value) => prefixes.some((prefix) => value.startsWith(prefix));
}
