import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  API_KEY_PATTERN,
  generateApiKey,
  hashApiKey,
  parseApiKey,
  presentedKeyDigest,
  verifyApiKey,
} from '../../src/access/api-key.js';
import { admits, type Role } from '../../src/access/roles.js';
import { VerificationCache } from '../../src/access/verification-cache.js';

/** Fixed seed: a failure names its seed and path, and the same run comes back every time. */
const SEED = 20261123;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('API key format', () => {
  it('is wl_<16 hex digits>_<43 base64url characters>, and the key id is its middle', () => {
    const { keyId, key } = generateApiKey();
    expect(key).toMatch(API_KEY_PATTERN);
    expect(key.length).toBe(3 + 16 + 1 + 43);
    expect(key.startsWith(`wl_${keyId}_`)).toBe(true);
    expect(parseApiKey(key)).toEqual({ keyId });
  });

  it('draws a new id and secret each time', () => {
    const keys = Array.from({ length: 50 }, () => generateApiKey());
    expect(new Set(keys.map((k) => k.keyId)).size).toBe(50);
    expect(new Set(keys.map((k) => k.key.slice(20))).size).toBe(50);
  });

  it.each([
    '',
    'wl_',
    'Bearer wl_0123456789abcdef_' + 'A'.repeat(43),
    'wl_0123456789ABCDEF_' + 'A'.repeat(43),
    'wl_0123456789abcde_' + 'A'.repeat(44),
    'wl_0123456789abcdef_' + 'A'.repeat(42),
    'wl_0123456789abcdef_' + 'A'.repeat(44),
    'wl_0123456789abcdef_' + 'A'.repeat(42) + '=',
    'xx_0123456789abcdef_' + 'A'.repeat(43),
  ])('refuses a malformed key %j before any hashing', (text) => {
    expect(parseApiKey(text)).toBeUndefined();
  });
});

describe('API key hash (scrypt, salt per key)', () => {
  it('stores neither the key nor the same hash twice', async () => {
    const { key } = generateApiKey();
    const first = await hashApiKey(key);
    const second = await hashApiKey(key);
    expect(Buffer.from(first.salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(first.hash, 'base64')).toHaveLength(32);
    expect(first.salt).not.toBe(second.salt);
    expect(first.hash).not.toBe(second.hash);
    expect(JSON.stringify(first)).not.toContain(key.slice(20));
    expect(await verifyApiKey(key, first)).toBe(true);
    expect(await verifyApiKey(key, second)).toBe(true);
  });

  it('refuses another key, and a hash stored for another key', async () => {
    const a = generateApiKey().key;
    const b = generateApiKey().key;
    const stored = await hashApiKey(a);
    expect(await verifyApiKey(b, stored)).toBe(false);
    expect(await verifyApiKey(a, await hashApiKey(b))).toBe(false);
    expect(await verifyApiKey(a, { salt: stored.salt, hash: '' })).toBe(false);
  });

  it('property: a key verifies, and no key one character away from it does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 3 + 16 + 1 + 43 - 1 }),
        fc.constantFrom(...BASE64URL),
        async (at, replacement) => {
          const { key } = generateApiKey();
          const changed = `${key.slice(0, at)}${replacement}${key.slice(at + 1)}`;
          fc.pre(changed !== key);
          const stored = await hashApiKey(key);
          expect(await verifyApiKey(key, stored)).toBe(true);
          expect(await verifyApiKey(changed, stored)).toBe(false);
        },
      ),
      { seed: SEED, numRuns: 30 },
    );
  });

  it('keys the verification cache by a digest, never by the key', () => {
    const { key } = generateApiKey();
    const digest = presentedKeyDigest(key);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(digest).not.toContain(key.slice(20, 30));
  });
});

describe('verification cache', () => {
  const principal = { keyId: 'k1', role: 'admin', sites: [], districts: [] } as const;

  it('answers until the TTL is over, then forgets', () => {
    const cache = new VerificationCache(30_000);
    cache.set('d1', principal, 1_000);
    expect(cache.get('d1', 30_999)).toEqual(principal);
    expect(cache.get('d1', 31_000)).toBeUndefined();
    expect(cache.get('d1', 1_000)).toBeUndefined();
  });

  it('drops every entry of a revoked key at once', () => {
    const cache = new VerificationCache(30_000);
    cache.set('d1', principal, 0);
    cache.set('d2', { ...principal, keyId: 'k2' }, 0);
    cache.dropKey('k1');
    expect(cache.get('d1', 1)).toBeUndefined();
    expect(cache.get('d2', 1)).toMatchObject({ keyId: 'k2' });
  });

  it('holds at most its bound, dropping the oldest', () => {
    const cache = new VerificationCache(30_000, 2);
    cache.set('d1', principal, 0);
    cache.set('d2', principal, 0);
    cache.set('d3', principal, 0);
    expect([cache.get('d1', 1), cache.get('d2', 1), cache.get('d3', 1)]).toEqual([
      undefined,
      principal,
      principal,
    ]);
  });
});

describe('roles', () => {
  const every: readonly Role[] = ['station', 'regulator', 'auditor', 'admin'];

  it('admits admin everywhere, others only where listed, everyone on public routes', () => {
    for (const role of every) expect(admits('public', role)).toBe(true);
    expect(every.filter((role) => admits({ roles: ['auditor'] }, role))).toEqual([
      'auditor',
      'admin',
    ]);
    expect(every.filter((role) => admits({ roles: [] }, role))).toEqual(['admin']);
  });
});
