import { InvalidInputError } from '../domain/errors/catalogue.js';
import { canonicalJson } from '../integrity/canonical-json.js';
import { contentHashOfCanonical } from '../integrity/event-hash.js';
import type { ExpectedRevision, StreamAppend } from './port.js';

/** An event's data and metadata together may not exceed this many bytes of JSON. */
export const MAX_EVENT_BYTES = 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_STREAM_ID_LENGTH = 200;
const MAX_TYPE_LENGTH = 100;

/** Revisions and positions are JS numbers: exact up to 2^53, far beyond any ledger's log. */
function isRevision(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

export function validateExpectedRevision(value: unknown, field: string): ExpectedRevision {
  if (value === 'any' || value === 'no_stream' || value === 'stream_exists') return value;
  if (typeof value === 'number' && isRevision(value)) return value;
  throw new InvalidInputError(
    field,
    `expectedRevision must be 'any', 'no_stream', 'stream_exists' or a revision ≥ 0, got ${JSON.stringify(value) ?? String(value)}`,
  );
}

/**
 * Checks a whole batch before anything is sent to the database, so that bad input raises a typed
 * error naming the field and writes nothing. Returns each event's data and metadata as JSON (per
 * append, per event), so the adapter does not encode them a second time.
 */
export function validateAppends(
  appends: readonly StreamAppend[],
  fieldPrefix: (index: number) => string = (i) => `appends[${i}].`,
): EncodedEvent[][] {
  if (appends.length === 0) throw new InvalidInputError('appends', 'nothing to append');
  const seenStreams = new Set<string>();
  const encoded: EncodedEvent[][] = [];
  appends.forEach((append, i) => {
    // `at` ends with a dot, or is empty for a single-stream append.
    const at = fieldPrefix(i);
    const { streamId } = append;
    if (
      typeof streamId !== 'string' ||
      streamId.length === 0 ||
      streamId.length > MAX_STREAM_ID_LENGTH
    ) {
      throw new InvalidInputError(
        `${at}streamId`,
        `streamId must be 1–${MAX_STREAM_ID_LENGTH} characters`,
      );
    }
    if (streamId.startsWith('$')) {
      throw new InvalidInputError(`${at}streamId`, 'stream ids starting with $ are reserved');
    }
    if (seenStreams.has(streamId)) {
      throw new InvalidInputError(`${at}streamId`, `stream ${streamId} appears twice in one batch`);
    }
    seenStreams.add(streamId);
    validateExpectedRevision(append.expectedRevision, `${at}expectedRevision`);
    // Callers from JavaScript or the API may pass anything, whatever the types say.
    const events: unknown = append.events;
    if (!Array.isArray(events) || events.length === 0) {
      throw new InvalidInputError(`${at}events`, 'at least one event is required');
    }
    const seenIds = new Set<string>();
    const encodedEvents: EncodedEvent[] = [];
    append.events.forEach((event, j) => {
      const ef = `${at}events[${j}]`;
      if (typeof event.id !== 'string' || !UUID.test(event.id)) {
        throw new InvalidInputError(`${ef}.id`, 'event id must be a UUID');
      }
      const id = event.id.toLowerCase();
      if (seenIds.has(id)) throw new InvalidInputError(`${ef}.id`, `event id ${id} appears twice`);
      seenIds.add(id);
      if (
        typeof event.type !== 'string' ||
        event.type.trim().length === 0 ||
        event.type.length > MAX_TYPE_LENGTH
      ) {
        throw new InvalidInputError(
          `${ef}.type`,
          `event type must be 1–${MAX_TYPE_LENGTH} characters`,
        );
      }
      if (typeof event.data !== 'object' || event.data === null || Array.isArray(event.data)) {
        throw new InvalidInputError(`${ef}.data`, 'event data must be a JSON object');
      }
      assertStorableJson(event.data, `${ef}.data`);
      if (event.metadata !== undefined) assertStorableJson(event.metadata, `${ef}.metadata`);
      // Canonical JSON (RFC 8785): the same text is stored and hashed.
      const data = canonicalJson(event.data);
      const metadata = event.metadata === undefined ? '{}' : canonicalJson(event.metadata);
      // The limit is on what the caller sent: absent metadata counts for nothing.
      const size = exceedsEventLimit(data, event.metadata === undefined ? '' : metadata);
      if (size !== undefined) {
        throw new InvalidInputError(ef, `event is ${size} bytes; the limit is ${MAX_EVENT_BYTES}`);
      }
      const contentHash = contentHashOfCanonical(streamId, id, event.type, data, metadata);
      encodedEvents.push({ data, metadata, contentHash });
    });
    encoded.push(encodedEvents);
  });
  return encoded;
}

const MAX_JSON_DEPTH = 64;

/** A surrogate not in a pair (with the `u` flag, a pair is one code point outside this range). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

interface Unstorable {
  /** Keys from the value's root down to the bad part, filled in on the way back up. */
  readonly path: (string | number)[];
  readonly message: string;
}

/**
 * JSON that PostgreSQL's jsonb stores exactly as sent: finite numbers only (JSON.stringify would
 * silently turn NaN into null), no NUL characters and no lone surrogates (jsonb refuses both),
 * bounded nesting.
 */
function assertStorableJson(value: unknown, field: string): void {
  const bad = findUnstorable(value, 0);
  if (bad === undefined) return;
  const at = bad.path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${key}`),
    field,
  );
  throw new InvalidInputError(at, bad.message);
}

/** The first part of a value jsonb would not store as sent. Walks every event on every append, so
 * it builds no field names unless something is wrong. */
function findUnstorable(value: unknown, depth: number): Unstorable | undefined {
  if (depth > MAX_JSON_DEPTH) return { path: [], message: `nested deeper than ${MAX_JSON_DEPTH}` };
  switch (typeof value) {
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { path: [], message: 'numbers must be finite' };
    case 'string':
      if (value.includes('\u0000')) return { path: [], message: 'strings may not contain NUL' };
      return LONE_SURROGATE.test(value)
        ? { path: [], message: 'strings may not contain a lone UTF-16 surrogate' }
        : undefined;
    case 'object': {
      if (value === null) return undefined;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i += 1) {
          const bad = findUnstorable(value[i], depth + 1);
          if (bad !== undefined) {
            bad.path.unshift(i);
            return bad;
          }
        }
        return undefined;
      }
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (key.includes('\u0000')) return { path: [], message: 'keys may not contain NUL' };
        if (LONE_SURROGATE.test(key)) {
          return { path: [], message: 'keys may not contain a lone UTF-16 surrogate' };
        }
        const item = record[key];
        if (item === undefined) continue;
        const bad = findUnstorable(item, depth + 1);
        if (bad !== undefined) {
          bad.path.unshift(key);
          return bad;
        }
      }
      return undefined;
    }
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      return { path: [], message: `${typeof value} is not JSON` };
  }
}

/** An event's data and metadata as canonical JSON text, encoded once: checked, hashed, sent. */
export interface EncodedEvent {
  readonly data: string;
  readonly metadata: string;
  /** Step 1 of the event's hash (see integrity/event-hash.ts); the database does step 2. */
  readonly contentHash: string;
}

/** UTF-8 takes at most 3 bytes per UTF-16 code unit: count exactly only near the limit. */
function exceedsEventLimit(data: string, metadata: string): number | undefined {
  if ((data.length + metadata.length) * 3 <= MAX_EVENT_BYTES) return undefined;
  const size = Buffer.byteLength(data, 'utf8') + Buffer.byteLength(metadata, 'utf8');
  return size > MAX_EVENT_BYTES ? size : undefined;
}
