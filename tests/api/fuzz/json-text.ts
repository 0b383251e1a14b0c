/**
 * JSON as a hostile client writes it. A body is a plain value tree that may also hold text
 * JSON.stringify cannot produce (`NaN`, `-0`, `1e999`, documents cut short or nested thousands
 * deep), a field written twice, or a field left out; `jsonText` writes it.
 *
 * @example
 * jsonText({ grossKg: new RawJson('NaN'), tareKg: LEFT_OUT }); // '{"grossKg":NaN}'
 */

/** Text written as is where a JSON value goes. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A field written twice: JSON.parse keeps the last, so `last` is what the server sees. */
export class WrittenTwice {
  constructor(
    readonly first: unknown,
    readonly last: unknown,
  ) {}
}

/** A field left out of its object. */
export const LEFT_OUT: unique symbol = Symbol('left out');

/** Writes a value tree as JSON text (object keys in insertion order, own keys only). */
export function jsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === LEFT_OUT ? 'null' : jsonText(item))).join(',')}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const members: string[] = [];
    for (const [key, item] of Object.entries(value)) {
      if (item === LEFT_OUT || item === undefined) continue;
      const name = JSON.stringify(key);
      if (item instanceof WrittenTwice) {
        members.push(`${name}:${jsonText(item.first)}`, `${name}:${jsonText(item.last)}`);
      } else {
        members.push(`${name}:${jsonText(item)}`);
      }
    }
    return `{${members.join(',')}}`;
  }
  // Strings (lone surrogates come out escaped), finite numbers, booleans, null.
  return JSON.stringify(value) ?? 'null';
}

/**
 * A copy of `value` with the field at `path` replaced (LEFT_OUT removes it). Keys are set as own
 * properties, so `__proto__` and `constructor` are written as fields, not as prototypes.
 */
export function withField(value: unknown, path: readonly string[], replacement: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return replacement;
  const record =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) {
    Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true });
  }
  Object.defineProperty(copy, head, {
    value: withField(record[head], rest, replacement),
    enumerable: true,
    writable: true,
  });
  return copy;
}

/** The field at `path`, or undefined. */
export function fieldAt(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** `depth` arrays or objects inside each other, closed or (when `cut`) cut short. */
export function deepJson(depth: number, shape: 'array' | 'object', cut = false): RawJson {
  const open = shape === 'array' ? '[' : '{"a":';
  const close = shape === 'array' ? ']' : '}';
  const middle = shape === 'array' ? '' : '1';
  return new RawJson(open.repeat(depth) + middle + (cut ? '' : close.repeat(depth)));
}
