import type { EventStore } from '../store/port.js';
import {
  exportEventLine,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  type ExportHeader,
} from './export-format.js';
import { sealingKeys } from './sealer.js';
import { LogVerifier, type VerificationReport, type VerifierOptions } from './verifier.js';

const PAGE = 5000;

export type Progress = (done: number, total: number) => void;

/** Verifies the whole log as stored, reading it in position order. */
export async function verifyStore(
  store: EventStore,
  options: VerifierOptions = {},
  onProgress?: Progress,
): Promise<VerificationReport> {
  const verifier = new LogVerifier(options);
  const head = await store.headPosition();
  for (let after = 0; after < head;) {
    const events = await store.readChained({ after, maxCount: Math.min(PAGE, head - after) });
    if (events.length === 0) {
      verifier.malformed(
        after,
        `the log should reach position ${head}, but nothing follows ${after}`,
      );
      break;
    }
    for (const e of events) verifier.push(e);
    after = events[events.length - 1]!.position;
    onProgress?.(after, head);
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
  for (let after = from - 1; after < to;) {
    const events = await store.readChained({ after, maxCount: Math.min(PAGE, to - after) });
    if (events.length === 0) throw new Error(`the log has no event after position ${after}`);
    let chunk = '';
    for (const e of events) chunk += exportEventLine(e) + '\n';
    count += events.length;
    yield chunk;
    after = events[events.length - 1]!.position;
    onProgress?.(after - from + 1, to - from + 1);
  }
  yield JSON.stringify({ end: true, events: count }) + '\n';
}
