import { InvalidInputError } from '../domain/errors/catalogue.js';
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
 * error naming the field and writes nothing.
 */
export function validateAppends(
  appends: readonly StreamAppend[],
  fieldPrefix: (index: number) => string = (i) => `appends[${i}].`,
): void {
  if (appends.length === 0) throw new InvalidInputError('appends', 'nothing to append');
  const seenStreams = new Set<string>();
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
      const size =
        jsonBytes(event.data) + (event.metadata === undefined ? 0 : jsonBytes(event.metadata));
      if (size > MAX_EVENT_BYTES) {
        throw new InvalidInputError(ef, `event is ${size} bytes; the limit is ${MAX_EVENT_BYTES}`);
      }
    });
  });
}

const MAX_JSON_DEPTH = 64;

/**
 * JSON that PostgreSQL's jsonb stores exactly as sent: finite numbers only (JSON.stringify would
 * silently turn NaN into null), no NUL characters (jsonb refuses them), bounded nesting.
 */
function assertStorableJson(value: unknown, field: string, depth = 0): void {
  if (depth > MAX_JSON_DEPTH)
    throw new InvalidInputError(field, `nested deeper than ${MAX_JSON_DEPTH}`);
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidInputError(field, 'numbers must be finite');
    return;
  }
  if (typeof value === 'string') {
    if (value.includes('\u0000')) throw new InvalidInputError(field, 'strings may not contain NUL');
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertStorableJson(item, `${field}[${i}]`, depth + 1));
    return;
  }
  if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) throw new InvalidInputError(field, 'keys may not contain NUL');
      if (item !== undefined) assertStorableJson(item, `${field}.${key}`, depth + 1);
    }
    return;
  }
  throw new InvalidInputError(field, `${typeof value} is not JSON`);
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}
