import type { Principal } from './roles.js';

/**
 * Keys that passed scrypt recently, so that a client's every request does not pay tens of ms
 * of hashing. Keyed by the SHA-256 of the presented key (never the key itself), for `ttlMs`
 * after the check. Revoking a key here drops its entries at once; a key revoked by another
 * process (the CLI, another server) stops working here when its entry expires, that is within
 * the TTL.
 */
export class VerificationCache {
  readonly #entries = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly ttlMs: number,
    /** Bounds memory under a flood of distinct valid keys; the oldest entry goes first. */
    private readonly maxEntries = 10_000,
  ) {}

  get(digest: string, now: number): Principal | undefined {
    const entry = this.#entries.get(digest);
    if (entry === undefined) return undefined;
    if (entry.until <= now) {
      this.#entries.delete(digest);
      return undefined;
    }
    return entry.principal;
  }

  set(digest: string, principal: Principal, now: number): void {
    if (this.ttlMs <= 0) return;
    this.#entries.delete(digest);
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(digest, { principal, until: now + this.ttlMs });
  }

  dropKey(keyId: string): void {
    for (const [digest, entry] of this.#entries) {
      if (entry.principal.keyId === keyId) this.#entries.delete(digest);
    }
  }
}
