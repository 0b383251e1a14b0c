import fc from 'fast-check';
import { v5 as uuidv5, validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { canonicalJson, derivedEventId, requestDigest } from '../../src/ingestion/ids.js';

const LEDGER_NAMESPACE = '6f1d2a4e-8c3b-4f7a-9e51-2b7c0d9a4e10';

describe('derived event ids', () => {
  it('are the RFC 9562 version-5 UUIDs the uuid package computes for the same name', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 4 }),
        (parts) => {
          const id = derivedEventId(...parts);
          expect(id).toBe(uuidv5(parts.join('\u001f'), LEDGER_NAMESPACE));
          expect(validate(id) && version(id)).toBe(5);
        },
      ),
      { seed: 20261123, numRuns: 500 },
    );
  });

  it('differ when the parts differ', () => {
    expect(derivedEventId('a', 'ticket', '1')).not.toBe(derivedEventId('a', 'ticket', '2'));
    expect(derivedEventId('a', 'ticket', '1')).not.toBe(derivedEventId('a', 'gate', '1'));
  });
});

describe('request digests', () => {
  const shuffled = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(shuffled);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, shuffled(v)]),
    );
  };

  it('do not depend on the order of keys, only on the content', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(shuffled(value))).toBe(canonicalJson(value));
        expect(requestDigest('T', shuffled(value))).toBe(requestDigest('T', value));
      }),
      { seed: 20261123, numRuns: 300 },
    );
  });

  it('change when a value changes', () => {
    expect(requestDigest('T', { grossKg: 1000 })).not.toBe(requestDigest('T', { grossKg: 1001 }));
    expect(requestDigest('T', { a: 1 })).not.toBe(requestDigest('U', { a: 1 }));
  });

  it('is JSON with sorted keys and no whitespace', () => {
    expect(canonicalJson({ b: [1, { d: 'x', c: null }], a: true, u: undefined })).toBe(
      '{"a":true,"b":[1,{"c":null,"d":"x"}]}',
    );
  });
});
