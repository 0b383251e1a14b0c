import type { EventStore, RecordedEvent } from '../store/port.js';
import {
  chainedEventOf,
  exportEventSchema,
  exportHeaderSchema,
  exportTrailerSchema,
} from './export-format.js';

/** The log from the database, in position order, page by page. */
export async function* storeEvents(store: EventStore): AsyncGenerator<RecordedEvent> {
  for (let after = 0; ;) {
    const page = await store.readAll({ after, maxCount: 5000 });
    if (page.events.length === 0) return;
    yield* page.events;
    after = page.readUpTo;
  }
}

/**
 * The events of an export, in its order. Verify the export first (verifyExportLines): this only
 * reads it, and stops at the first line that is not an event, the header or the end line.
 */
export async function* exportEvents(
  lines: AsyncIterable<string> | Iterable<string>,
): AsyncGenerator<RecordedEvent> {
  let lineNo = 0;
  for await (const line of lines) {
    lineNo += 1;
    if (line.trim() === '') continue;
    const value: unknown = JSON.parse(line);
    const event = exportEventSchema.safeParse(value);
    if (event.success) {
      yield chainedEventOf(event.data);
      continue;
    }
    if (exportHeaderSchema.safeParse(value).success) continue;
    if (exportTrailerSchema.safeParse(value).success) return;
    throw new Error(`line ${lineNo} of the export is not an event`);
  }
}
