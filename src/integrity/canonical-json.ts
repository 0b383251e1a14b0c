/**
 * Canonical JSON: RFC 8785 (JSON Canonicalization Scheme) for the values the ledger stores.
 * Object keys sorted by UTF-16 code units, no whitespace, strings and numbers written as
 * ECMAScript's JSON.stringify writes them (which is what RFC 8785 specifies). Any other
 * implementation of RFC 8785 produces the same bytes, which is what lets an auditor recompute
 * an event's hash without this code.
 *
 * Keys whose value is `undefined` are left out, as JSON.stringify leaves them out; the store's
 * validation refuses non-finite numbers, so every number here has one JSON form.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
    case 'boolean':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i += 1) {
          if (i > 0) out += ',';
          const item: unknown = value[i];
          out += item === undefined ? 'null' : canonicalJson(item);
        }
        return out + ']';
      }
      const record = value as Record<string, unknown>;
      // Array.prototype.sort compares strings by UTF-16 code units, as RFC 8785 §3.2.3 asks.
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const item = record[key];
        if (item === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += JSON.stringify(key) + ':' + canonicalJson(item);
      }
      return out + '}';
    }
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      break;
  }
  throw new TypeError(`${typeof value} has no canonical JSON form`);
}
