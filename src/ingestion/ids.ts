import { canonicalJson } from '../integrity/canonical-json.js';
import { createHash } from 'node:crypto';

/** Namespace for ids the ledger derives (findings, gate events, master data). */
const LEDGER_NAMESPACE = '6f1d2a4e-8c3b-4f7a-9e51-2b7c0d9a4e10';

/**
 * A derived event id, stable for the same inputs: a retried command derives the same ids for
 * the events it adds besides its own, so the store recognises the retry.
 */
export function derivedEventId(...parts: readonly string[]): string {
  return uuidV5(parts.join('\u001f'));
}

const NAMESPACE_BYTES = Buffer.from(LEDGER_NAMESPACE.replaceAll('-', ''), 'hex');

/**
 * A name-based UUID (RFC 9562 version 5: SHA-1 of namespace and name) computed with node:crypto.
 * The `uuid` package gives the same ids, but with a SHA-1 written in JavaScript, which showed in
 * ingestion profiles (several ids are derived per report). A test checks both agree.
 */
function uuidV5(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE_BYTES).update(name, 'utf8').digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** RFC 8785 canonical JSON, the same the event hashes use (one implementation). */
export { canonicalJson };

/** Digest of what a client sent for an event id: a retry must send the same. */
export function requestDigest(type: string, data: unknown): string {
  return createHash('sha256').update(canonicalJson({ type, data })).digest('hex');
}
