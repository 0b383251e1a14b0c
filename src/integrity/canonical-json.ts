/**
 * Canonical JSON: RFC 8785 (JSON Canonicalization Scheme) for the values the ledger stores.
 * Object keys sorted by UTF-16 code units, no whitespace, strings and numbers written as
 * ECMAScript's JSON.stringify writes them (which is what RFC 8785 specifies). Any other
 * implementation of RFC 8785 produces the same bytes, which is what lets an auditor recompute
 * an event's hash without this code.
 *
 * Done as "sort the keys, then JSON.stringify": the native serialiser is more than twice as fast
 * as one written in JavaScript, and this runs for every event appended and verified. Keys whose
 * value is `undefined` are left out, as JSON.stringify leaves them out; the store's validation
 * refuses non-finite numbers, so every number here has one JSON form.
 */
export function canonicalJson(value: unknown): string {
  const sorted = withSortedKeys(value);
  // JavaScript lists integer-like keys ("2", "10") first, in numeric order, whatever order an
  // object gets them in: such objects cannot carry the sorted order, so they are written here.
  const text = sorted === INTEGER_KEYS ? written(value) : JSON.stringify(sorted);
  if (text === undefined) throw new TypeError(`${typeof value} has no canonical JSON form`);
  return text;
}

const INTEGER_KEYS = Symbol('integer-like keys');
/** What JavaScript treats as an array index: such keys are listed before all others. */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;
const isArrayIndex = (key: string) => ARRAY_INDEX.test(key) && Number(key) < 4_294_967_295;

/** The slow path: writes the canonical text itself, keys sorted by UTF-16 code units. */
function written(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(value);
  if (Array.isArray(value)) {
    return `[${value.map((item: unknown) => written(item) ?? 'null').join(',')}]`;
  }
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const item = written(record[key]);
    if (item !== undefined) parts.push(`${JSON.stringify(key)}:${item}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * The value with every object's keys in sorted order. Objects already in order (and holding
 * nothing out of order) are returned as they are, so most values are not copied at all.
 */
function withSortedKeys(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i += 1) {
      const item: unknown = value[i];
      const sorted = withSortedKeys(item);
      if (sorted === INTEGER_KEYS) return INTEGER_KEYS;
      if (sorted !== item) {
        copy ??= value.slice();
        copy[i] = sorted;
      }
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  // Integer-like keys come first in Object.keys: checking the first is enough.
  if (keys.length > 0 && isArrayIndex(keys[0]!)) return INTEGER_KEYS;
  let inOrder = true;
  for (let i = 1; i < keys.length; i += 1) {
    // `<` on strings compares UTF-16 code units, as RFC 8785 §3.2.3 asks.
    if (keys[i]! < keys[i - 1]!) {
      inOrder = false;
      break;
    }
  }
  if (inOrder) {
    let copy: Record<string, unknown> | undefined;
    for (const key of keys) {
      const item = record[key];
      const sorted = withSortedKeys(item);
      if (sorted === INTEGER_KEYS) return INTEGER_KEYS;
      if (sorted !== item) {
        copy ??= copyOf(record, keys);
        copy[key] = sorted;
      }
    }
    return copy ?? record;
  }
  keys.sort();
  // No prototype: a key named "__proto__" is then an ordinary property, as in the input.
  const copy = Object.create(null) as Record<string, unknown>;
  for (const key of keys) {
    const sorted = withSortedKeys(record[key]);
    if (sorted === INTEGER_KEYS) return INTEGER_KEYS;
    copy[key] = sorted;
  }
  return copy;
}

function copyOf(record: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const copy = Object.create(null) as Record<string, unknown>;
  for (const key of keys) copy[key] = record[key];
  return copy;
}
