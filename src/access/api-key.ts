import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * An API key as a client holds it: `wl_<keyId>_<secret>`. The key id (16 hex digits) names the
 * key in lists, logs and the `actor` of every event it writes; the secret (32 random bytes,
 * base64url, 43 characters) is what proves it. Only an scrypt hash of the whole key is stored,
 * so a copy of the database does not let anyone call the API.
 *
 * @example
 * const { keyId, key } = generateApiKey(); // key = 'wl_3f9c0a1b2c3d4e5f_q8Zr…'
 * const stored = await hashApiKey(key);
 * await verifyApiKey(key, stored); // true
 */
export const API_KEY_PATTERN = /^wl_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** Says what a key looks like, for configuration and usage errors. */
export const API_KEY_SHAPE = 'wl_<16 hex digits>_<43 base64url characters>';

export interface StoredHash {
  /** base64, 16 random bytes per key: equal keys never hash alike, no table of hashes helps. */
  readonly salt: string;
  /** base64 scrypt output. */
  readonly hash: string;
}

/**
 * scrypt's cost: N = 2^14, r = 8 (16 MiB, tens of ms per hash here), as node:crypto defaults
 * and OWASP's minimum for scrypt. The parameters are fixed, not stored per key: changing them
 * would mean rehashing on the next successful use, which no key needs yet.
 */
const SCRYPT = { N: 16_384, r: 8, p: 1 } as const;
const HASH_BYTES = 32;

export function generateApiKey(): { keyId: string; key: string } {
  const keyId = randomBytes(8).toString('hex');
  return { keyId, key: `wl_${keyId}_${randomBytes(32).toString('base64url')}` };
}

/** The key id of a well-formed key, or undefined: nothing else is read before the hash check. */
export function parseApiKey(text: string): { keyId: string } | undefined {
  const match = API_KEY_PATTERN.exec(text);
  return match?.[1] === undefined ? undefined : { keyId: match[1] };
}

function scryptHash(key: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(key, salt, HASH_BYTES, SCRYPT, (error, derived) =>
      error === null ? resolve(derived) : reject(error),
    );
  });
}

export async function hashApiKey(key: string): Promise<StoredHash> {
  const salt = randomBytes(16);
  const hash = await scryptHash(key, salt);
  return { salt: salt.toString('base64'), hash: hash.toString('base64') };
}

/** Recomputes the hash with the key's salt and compares in constant time. */
export async function verifyApiKey(key: string, stored: StoredHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const actual = await scryptHash(key, Buffer.from(stored.salt, 'base64'));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * SHA-256 of a presented key: the verification cache is keyed by it, so the cache never holds
 * a key itself. (Fast on purpose: only keys that already passed scrypt are cached under it.)
 */
export function presentedKeyDigest(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
