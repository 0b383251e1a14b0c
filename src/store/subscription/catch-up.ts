import type { ReadAllOptions, ReadAllPage, RecordedEvent, SubscribeOptions } from '../port.js';
import type { AppendSignal } from './append-signal.js';

export const DEFAULT_SUBSCRIPTION_BATCH = 1000;
/** How long a caught-up subscriber waits for a notification before it polls anyway. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;

/**
 * A catch-up subscription to the global log: pages through history with `readAll`, then waits
 * for appends and reads again. Because positions are dense and commit-ordered, resuming from
 * the last position read never skips or repeats an event.
 */
export async function* catchUpSubscription(
  readAll: (options: ReadAllOptions) => Promise<ReadAllPage>,
  appended: AppendSignal,
  options: SubscribeOptions,
  pollIntervalMs = DEFAULT_POLL_INTERVAL_MS,
): AsyncGenerator<RecordedEvent> {
  const batchSize = options.batchSize ?? DEFAULT_SUBSCRIPTION_BATCH;
  const { signal, types } = options;
  // A function, not a narrowed property: the signal changes while the generator is suspended.
  const aborted = (): boolean => signal?.aborted === true;
  let after = options.after;
  while (!aborted()) {
    const seen = appended.version;
    const page = await readAll(
      types ? { after, maxCount: batchSize, types } : { after, maxCount: batchSize },
    );
    for (const event of page.events) {
      if (aborted()) return;
      yield event;
    }
    // Caught up only when a page moves the reader no further: a filtered page may be short
    // (or empty) and still not be at the head.
    const moved = page.readUpTo !== after;
    after = page.readUpTo;
    if (!moved) await appended.waitForNewerThan(seen, pollIntervalMs, signal);
  }
}
