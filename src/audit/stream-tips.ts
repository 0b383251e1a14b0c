import { hash } from 'node:crypto';

/**
 * Entries per chunk: the entries live in chunks that are never moved or copied, so the table
 * grows without a moment holding the old and the new storage at once, and wastes at most one
 * chunk (192 KiB).
 */
const CHUNK_BITS = 12;
const CHUNK_MASK = (1 << CHUNK_BITS) - 1;
/** 32-bit words per entry: three of fingerprint, the revision, eight of event hash (48 bytes). */
const WORDS = 12;
const REVISION = 3;
const HASH_BYTES = 4 * 4;
/** A revision word saying that the tip is in `#odd`. */
const ODD = 0xffff_ffff;
const MAX_LOAD = 0.75;
const HEX_HASH = /^[0-9a-f]{64}$/;

interface Chunk {
  readonly words: Uint32Array;
  /** The same memory, for the hash bytes. */
  readonly bytes: Buffer;
}

/**
 * The last revision and event hash of every stream, for a verifier that reads the log once:
 * about 56 bytes per stream where a Map of strings to objects takes about 300.
 *
 * A stream is known by a 96-bit fingerprint of its id (the first 12 bytes of SHA-256 over its
 * UTF-8), not by the id itself. The index is an open-addressing table (linear probing,
 * power-of-two capacity, at most 3/4 full, doubled when it would be fuller) of 4-byte entry
 * numbers; each entry holds the fingerprint, the revision (4 bytes) and the hash (32 bytes) in
 * chunks of typed arrays. The few tips that do not fit, a revision that is not a 32-bit count
 * or a hash that is not 64 lower-case hex digits (a damaged log), are kept as given in a Map.
 * An id holding a lone surrogate (not Unicode: no database stores one) is hashed with U+FFFD
 * in its place, as UTF-8 encodes it, so two such ids can share a fingerprint: as below, at
 * worst a false alarm.
 *
 * Why a fingerprint collision can only raise a false alarm, never hide a break. Two streams
 * with one fingerprint (probability about n²/2⁹⁷, 3e-17 at 2 M streams) share one entry, so
 * each event of one is checked against the tip of the other whenever that one came last. Where
 * the second of the two streams starts, its event carries revision 0 and the genesis hash, or
 * (in an export of a range) the hash of an event of its own stream, whose content hash holds
 * its own stream id: never the other stream's tip hash. So the check fails there (a false
 * alarm), and the report is not ok. A check can pass against the wrong tip only for an event
 * whose previous hash was written to be that tip, which changes what its own hash must be: if
 * the stored hash was left alone, the hash check reports the event; if it was recomputed too,
 * the event is a forgery that the seal over its position reveals (the tips play no part in
 * seals), and that a forger able to recompute hashes could as well have chained into its own
 * stream, with no collision, before the next seal. Checks of a stream that shares its
 * fingerprint with no other are exactly those of the stream id itself.
 *
 * @example
 * ```ts
 * const entry = tips.find(e.streamId);
 * if (entry === -1) tips.set(e.streamId, e.revision, e.hash); // a new stream
 * else if (e.previousHash === tips.hashAt(entry)) tips.update(entry, e.revision, e.hash);
 * ```
 */
export class StreamTips {
  /** Entry number + 1 per slot; 0 for an empty slot. */
  #slots = new Uint32Array(1024);
  #size = 0;
  readonly #chunks: Chunk[] = [];
  readonly #odd = new Map<number, { readonly revision: number; readonly hash: string }>();
  /** The fingerprint of the id last looked up, kept for `set` after a `find` that failed. */
  #fingerprintOf: string | undefined;
  #f0 = 0;
  #f1 = 0;
  #f2 = 0;

  /** How many streams have a tip. */
  get size(): number {
    return this.#size;
  }

  /** Memory held by the index and the entries (not the rare tips kept in a Map), in bytes. */
  get bytes(): number {
    return this.#slots.byteLength + this.#chunks.length * ((WORDS * 4) << CHUNK_BITS);
  }

  /** The entry number of the stream's tip, or −1 when the stream has none yet. */
  find(streamId: string): number {
    this.#fingerprint(streamId);
    const entry = this.#slots[this.#probe()]!;
    return entry - 1;
  }

  /** Records the tip of a stream; returns its entry number. */
  set(streamId: string, revision: number, eventHash: string): number {
    const found = this.find(streamId);
    if (found !== -1) {
      this.update(found, revision, eventHash);
      return found;
    }
    if (this.#size + 1 > this.#slots.length * MAX_LOAD) this.#grow();
    const entry = this.#size;
    this.#size += 1;
    if (entry >>> CHUNK_BITS === this.#chunks.length) {
      const memory = new ArrayBuffer((WORDS * 4) << CHUNK_BITS);
      this.#chunks.push({ words: new Uint32Array(memory), bytes: Buffer.from(memory) });
    }
    const { words } = this.#chunks[entry >>> CHUNK_BITS]!;
    const w = (entry & CHUNK_MASK) * WORDS;
    words[w] = this.#f0;
    words[w + 1] = this.#f1;
    words[w + 2] = this.#f2;
    this.#slots[this.#probe()] = entry + 1;
    this.update(entry, revision, eventHash);
    return entry;
  }

  revisionAt(entry: number): number {
    const { words } = this.#chunks[entry >>> CHUNK_BITS]!;
    const revision = words[(entry & CHUNK_MASK) * WORDS + REVISION]!;
    return revision === ODD ? this.#odd.get(entry)!.revision : revision;
  }

  /** The tip's event hash as lower-case hex (or as given, for an odd one). */
  hashAt(entry: number): string {
    const { words, bytes } = this.#chunks[entry >>> CHUNK_BITS]!;
    const w = (entry & CHUNK_MASK) * WORDS;
    if (words[w + REVISION] === ODD) return this.#odd.get(entry)!.hash;
    const at = w * 4 + HASH_BYTES;
    return bytes.toString('hex', at, at + 32);
  }

  update(entry: number, revision: number, eventHash: string): void {
    const { words, bytes } = this.#chunks[entry >>> CHUNK_BITS]!;
    const w = (entry & CHUNK_MASK) * WORDS;
    if (words[w + REVISION] === ODD) this.#odd.delete(entry);
    if (Number.isInteger(revision) && revision >= 0 && revision < ODD && HEX_HASH.test(eventHash)) {
      words[w + REVISION] = revision;
      bytes.write(eventHash, w * 4 + HASH_BYTES, 32, 'hex');
    } else {
      words[w + REVISION] = ODD;
      this.#odd.set(entry, { revision, hash: eventHash });
    }
  }

  #fingerprint(streamId: string): void {
    if (streamId === this.#fingerprintOf) return;
    // 'binary' (Latin-1) output, one character per byte: measured 3× faster than a Buffer's.
    const digest = hash('sha256', streamId, 'binary');
    const word = (i: number) =>
      (digest.charCodeAt(i) |
        (digest.charCodeAt(i + 1) << 8) |
        (digest.charCodeAt(i + 2) << 16) |
        (digest.charCodeAt(i + 3) << 24)) >>>
      0;
    this.#f0 = word(0);
    this.#f1 = word(4);
    this.#f2 = word(8);
    this.#fingerprintOf = streamId;
  }

  /** The slot holding the current fingerprint, or the empty slot where it would go. */
  #probe(): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    for (let slot = this.#f0 & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot]! - 1;
      if (entry === -1) return slot;
      const { words } = this.#chunks[entry >>> CHUNK_BITS]!;
      const w = (entry & CHUNK_MASK) * WORDS;
      if (words[w] === this.#f0 && words[w + 1] === this.#f1 && words[w + 2] === this.#f2)
        return slot;
    }
  }

  #grow(): void {
    const slots = new Uint32Array(this.#slots.length * 2);
    const mask = slots.length - 1;
    for (let entry = 0; entry < this.#size; entry += 1) {
      const { words } = this.#chunks[entry >>> CHUNK_BITS]!;
      let slot = words[(entry & CHUNK_MASK) * WORDS]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = entry + 1;
    }
    this.#slots = slots;
  }
}
