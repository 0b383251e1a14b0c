/**
 * Properties of the canonical JSON that the hashes rely on: the text depends only on the value
 * (not on the order its keys were built in), it is JSON that reads back as the same value, and
 * object keys come out in UTF-16 code-unit order, checked here with a comparator of our own.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/integrity/canonical-json.js';

/** Fixed seed: a failure names its seed and path, and the same run comes back every time. */
const SEED = 20_260_511;
const NUM_RUNS = 300;

/** -0 reads back from JSON as 0 (RFC 8785 writes it "0"), so the round trip is checked without it. */
function withoutNegativeZero(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(withoutNegativeZero);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, withoutNegativeZero(v)] as const),
    );
  }
  return value;
}

/** Every object rebuilt with its keys inserted in another order (arrays keep theirs). */
function reordered(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v) => reordered(v, seed));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  // A deterministic shuffle: sort by a hash of key and seed.
  const rank = (key: string) => {
    let h = seed | 0;
    for (let i = 0; i < key.length; i += 1) h = Math.imul(h ^ key.charCodeAt(i), 0x9e3779b1);
    return h;
  };
  entries.sort(([a], [b]) => rank(a) - rank(b));
  return Object.fromEntries(entries.map(([k, v]) => [k, reordered(v, seed)] as const));
}

/** UTF-16 code-unit order, written out rather than relying on Array.prototype.sort. */
function compareUtf16(a: string, b: string): number {
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Any JSON, with strings over the whole of Unicode (astral characters included). */
const json = fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' });

/** Keys biased towards characters where UTF-16 order and code-point order disagree. */
const key = fc.string({
  maxLength: 4,
  unit: fc.oneof(
    fc.constantFrom('a', 'B', '1', '10', '\u0080', '\u00f6', '\u20ac', '\ufb33', '\uffff'),
    fc.constantFrom('\u{1f602}', '\u{10000}', '\u{10ffff}'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
});

describe('canonical JSON properties', () => {
  it('does not depend on the order in which keys were inserted', () => {
    fc.assert(
      fc.property(json, fc.integer(), (value, seed) => {
        expect(canonicalJson(reordered(value, seed))).toBe(canonicalJson(value));
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  it('is JSON that parses back to the same value, and is its own canonical form', () => {
    fc.assert(
      fc.property(json.map(withoutNegativeZero), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  it('writes object members in UTF-16 code-unit order of their keys', () => {
    fc.assert(
      fc.property(fc.dictionary(key, fc.integer(), { maxKeys: 12 }), (record) => {
        const expected = Object.keys(record)
          .sort(compareUtf16)
          .map((k) => `${JSON.stringify(k)}:${record[k]}`)
          .join(',');
        expect(canonicalJson(record)).toBe(`{${expected}}`);
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });
});
