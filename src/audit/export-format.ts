import { z } from 'zod';
import type { ChainedEvent, EventMetadata, JsonObject } from '../store/port.js';

/**
 * The export file: NDJSON, one JSON object per line, UTF-8.
 *
 * - line 1, the header: `{"format":"waste-ledger-export","version":1,"fromPosition":…,
 *   "toPosition":…,"exportedAt":…,"sealingKeys":[{keyId, publicKey}]}`;
 * - one line per event in position order: `{"position","streamId","revision","eventId","type",
 *   "data","metadata","recordedAt","previousHash","hash"}`;
 * - the last line: `{"end":true,"events":n}`, so that a file cut short is seen as cut short.
 *
 * Key order inside a line does not matter: hashes are recomputed over canonical JSON.
 */
export const EXPORT_FORMAT = 'waste-ledger-export';
export const EXPORT_VERSION = 1;

export const exportHeaderSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  fromPosition: z.number().int().min(1),
  toPosition: z.number().int().min(0),
  exportedAt: z.string(),
  sealingKeys: z.array(z.object({ keyId: z.string(), publicKey: z.string() })),
});
export type ExportHeader = z.infer<typeof exportHeaderSchema>;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
export const exportEventSchema = z
  .object({
    position: z.number().int().min(1),
    streamId: z.string().min(1),
    revision: z.number().int().min(0),
    eventId: z.string(),
    type: z.string().min(1),
    data: z.record(z.string(), z.unknown()),
    metadata: z.record(z.string(), z.unknown()),
    recordedAt: z.string(),
    previousHash: hex64,
    hash: hex64,
  })
  .strict();

export const exportTrailerSchema = z.object({
  end: z.literal(true),
  events: z.number().int().min(0),
});

export function exportEventLine(e: ChainedEvent): string {
  return JSON.stringify({
    position: e.position,
    streamId: e.streamId,
    revision: e.revision,
    eventId: e.id,
    type: e.type,
    data: e.data,
    metadata: e.metadata,
    recordedAt: e.recordedAt,
    previousHash: e.previousHash,
    hash: e.hash,
  });
}

export function chainedEventOf(parsed: z.infer<typeof exportEventSchema>): ChainedEvent {
  return {
    position: parsed.position,
    streamId: parsed.streamId,
    revision: parsed.revision,
    id: parsed.eventId,
    type: parsed.type,
    data: parsed.data as JsonObject,
    metadata: parsed.metadata as EventMetadata,
    recordedAt: parsed.recordedAt,
    previousHash: parsed.previousHash,
    hash: parsed.hash,
  };
}
