import { createHash } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';

/** Namespace for ids the ledger derives (findings, gate events, master data). */
const LEDGER_NAMESPACE = '6f1d2a4e-8c3b-4f7a-9e51-2b7c0d9a4e10';

/**
 * A derived event id, stable for the same inputs: a retried command derives the same ids for
 * the events it adds besides its own, so the store recognises the retry.
 */
export function derivedEventId(...parts: readonly string[]): string {
  return uuidv5(parts.join('\u001f'), LEDGER_NAMESPACE);
}

/** JSON with sorted keys and no whitespace: one text per value, whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** Digest of what a client sent for an event id: a retry must send the same. */
export function requestDigest(type: string, data: unknown): string {
  return createHash('sha256').update(canonicalJson({ type, data })).digest('hex');
}
