import type { ChainedEvent, EventStore } from '../store/port.js';
import { EXPORT_FORMAT, EXPORT_VERSION, type ExportHeader } from './export-format.js';
import { sealingKeys } from './sealer.js';
import { LogVerifier, type VerificationReport, type VerifierOptions } from './verifier.js';

const PAGE = 5000;

export type Progress = (done: number, total: number) => void;

/**
 * Pages of positions from … to, each read while the one before is being processed: the
 * database and this process then work at the same time instead of taking turns. A page that
 * comes back empty (the log ends early) ends the iteration.
 */
async function* pages<T extends { readonly position: number }>(
  from: number,
  to: number,
  readPage: (after: number, maxCount: number) => Promise<readonly T[]>,
): AsyncGenerator<readonly T[]> {
  const read = (after: number) =>
    after >= to ? undefined : readPage(after, Math.min(PAGE, to - after));
  let next = read(from - 1);
  while (next !== undefined) {
    const events = await next;
    if (events.length === 0) {
      yield events;
      return;
    }
    next = read(events[events.length - 1]!.position);
    yield events;
  }
}

interface LineFields {
  position: number;
  streamId: string;
  revision: number;
  eventId: string;
  type: string;
  data: ChainedEvent['data'];
  metadata: ChainedEvent['metadata'];
  recordedAt: string;
  previousHash: string;
  hash: string;
}

/** An event from a line the database wrote; undefined if the line is not one (a damaged row). */
function eventOfLine(line: string): ChainedEvent | undefined {
  try {
    const f = JSON.parse(line) as LineFields;
    return {
      position: f.position,
      streamId: f.streamId,
      revision: f.revision,
      id: f.eventId,
      type: f.type,
      data: f.data,
      metadata: f.metadata,
      recordedAt: f.recordedAt,
      previousHash: f.previousHash,
      hash: f.hash,
    };
  } catch {
    return undefined;
  }
}

/** Verifies the whole log as stored, reading it in position order. */
export async function verifyStore(
  store: EventStore,
  options: VerifierOptions = {},
  onProgress?: Progress,
): Promise<VerificationReport> {
  const verifier = new LogVerifier(options);
  const head = await store.headPosition();
  // The events as export lines: one JSON.parse per event is cheaper than a driver's row parsing
  // (columns, two jsonb values, a timestamp), and verification checks the same fields.
  for await (const lines of pages(1, head, (after, maxCount) =>
    store.readChainedLines({ after, maxCount }),
  )) {
    if (lines.length === 0) {
      verifier.malformed(null, `the log should reach position ${head}, but it ends before`);
      break;
    }
    for (const { position, line } of lines) {
      const event = eventOfLine(line);
      if (event === undefined)
        verifier.malformed(position, `the event at ${position} cannot be read`);
      else verifier.push(event);
    }
    onProgress?.(lines[lines.length - 1]!.position, head);
  }
  return verifier.finish();
}

/**
 * The export's lines (see export-format.ts), streamed: a page of the log at a time, so memory
 * stays flat whatever the log's size. `to` defaults to the head when the export starts.
 */
export async function* exportLines(
  store: EventStore,
  range: { from?: number; to?: number } = {},
  onProgress?: Progress,
): AsyncGenerator<string> {
  const head = await store.headPosition();
  const from = Math.max(1, range.from ?? 1);
  const to = Math.min(head, range.to ?? head);
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    fromPosition: from,
    toPosition: to,
    exportedAt: new Date().toISOString(),
    sealingKeys: (await sealingKeys(store)).map((k) => ({
      keyId: k.keyId,
      publicKey: k.publicKey,
    })),
  };
  yield JSON.stringify(header) + '\n';
  let count = 0;
  for await (const lines of pages(from, to, (after, maxCount) =>
    store.readChainedLines({ after, maxCount }),
  )) {
    if (lines.length === 0) throw new Error(`the log ends before position ${to}`);
    let chunk = '';
    for (const l of lines) chunk += l.line + '\n';
    count += lines.length;
    yield chunk;
    onProgress?.(lines[lines.length - 1]!.position - from + 1, to - from + 1);
  }
  yield JSON.stringify({ end: true, events: count }) + '\n';
}
