import { hash } from 'node:crypto';

/**
 * The hash chain every stored event carries (one chain per stream), in two documented steps so
 * that another implementation can recompute it from an export:
 *
 * 1. content hash = SHA-256 of the canonical JSON (RFC 8785) of
 *    `{"data":…,"eventId":…,"metadata":…,"streamId":…,"type":…}` — what the writer chose;
 * 2. event hash = SHA-256 of the canonical JSON of
 *    `{"contentHash":hex,"previousHash":hex,"recordedAt":"…Z","revision":n}` — where the ledger
 *    put it: after which event of its stream, at which revision, when.
 *
 * Hashes are lower-case hex. The first event of a stream has 64 zeros as its previous hash.
 * The global position is not in the hash (an EventStoreDB assigns it only at commit); seals
 * bind positions instead (see merkle.ts). The database computes step 2 inside `ledger_append`
 * (migration 0003) with the same text; `chainHash` here is how verification recomputes it.
 */
export const GENESIS_HASH = '0'.repeat(64);

export function sha256Hex(text: string): string {
  // The one-shot form: for inputs this small, creating a Hash object costs as much as hashing.
  return hash('sha256', text, 'hex');
}

/** Step 1 from the canonical JSON texts of data and metadata (`{}` when there is none). */
export function contentHashOfCanonical(
  streamId: string,
  eventId: string,
  type: string,
  canonicalData: string,
  canonicalMetadata: string,
): string {
  return sha256Hex(
    `{"data":${canonicalData},"eventId":${JSON.stringify(eventId.toLowerCase())},` +
      `"metadata":${canonicalMetadata},"streamId":${JSON.stringify(streamId)},` +
      `"type":${JSON.stringify(type)}}`,
  );
}

/** Step 2. `recordedAt` is ISO 8601 in UTC with milliseconds, as `Date.toISOString` writes it. */
export function chainHash(
  contentHash: string,
  previousHash: string,
  recordedAt: string,
  revision: number,
): string {
  return sha256Hex(
    `{"contentHash":"${contentHash}","previousHash":"${previousHash}",` +
      `"recordedAt":"${recordedAt}","revision":${revision}}`,
  );
}
