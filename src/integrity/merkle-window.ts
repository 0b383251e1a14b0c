import { MerkleBuilder } from './merkle.js';

/** Leaves per chunk of the window: 512 KiB of leaves and 128 KiB of positions. */
const CHUNK_BITS = 14;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

interface Chunk {
  /** 32 bytes per leaf. */
  readonly leaves: Buffer;
  readonly positions: Float64Array;
}

/** A range's root, or why it could not be computed. */
export type RangeRoot =
  | { readonly ok: true; readonly count: number; readonly root: string }
  | {
      readonly ok: false;
      /**
       * Lowest and highest positions of the leaves that left the window since the last
       * restart: some of them are outside the range, or were let go at the restart.
       */
      readonly left: { readonly from: number; readonly to: number };
    };

/**
 * Merkle roots for seals that arrive after the range they seal ends, in bounded memory. The
 * sealer seals the log up to the head it reads, and the events appended while it builds the
 * tree come before the seal in the log: when the seal arrives, the leaves after its range have
 * already been seen.
 *
 * Holds the leaves pushed since the last `restartAfter`: the latest `capacity` with their
 * positions, in order (40 bytes each, in chunks allocated as needed), and the older ones folded
 * into a streaming builder (O(log n)) that lags behind by the window. A range's root is that
 * builder's state, cloned, with the window's leaves of the range pushed on. It equals the root
 * over every leaf since the restart whose position is in the range, in push order, as long as
 * every folded leaf is in the range, which holds when the seal comes at most `capacity`
 * positions after its range ends; otherwise the root is reported as not computable, never as
 * anything else.
 *
 * @example
 * ```ts
 * window.push(event.position, leafHash(event.position, event.hash)); // every event, in order
 * const tree = window.rangeRoot(seal.fromPosition, seal.toPosition); // at a seal
 * const sealed = tree.ok && tree.root === seal.root && tree.count === seal.count;
 * window.restartAfter(seal.toPosition);
 * ```
 */
export class MerkleWindow {
  readonly #capacity: number;
  readonly #chunks: Chunk[] = [];
  #spare: Chunk | undefined;
  /** Index of the oldest leaf in `#chunks[0]`. */
  #head = 0;
  #length = 0;
  #folded = new MerkleBuilder();
  /** Lowest and highest positions folded since the restart (including those let go). */
  #foldedFrom = Number.POSITIVE_INFINITY;
  #foldedTo = Number.NEGATIVE_INFINITY;
  /** Whether folded leaves were let go at a restart: `#folded` is then not all of them. */
  #incomplete = false;

  /** @param capacity how many of the latest leaves to keep (at least 1) */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`a Merkle window holds at least one leaf, not ${capacity}`);
    this.#capacity = capacity;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Memory held by the window's leaves and positions, in bytes. */
  get bytes(): number {
    return (this.#chunks.length + (this.#spare === undefined ? 0 : 1)) * CHUNK * (32 + 8);
  }

  push(position: number, leaf: Buffer): void {
    if (this.#length === this.#capacity) this.#foldOldest();
    const i = this.#head + this.#length;
    let chunk = this.#chunks[i >>> CHUNK_BITS];
    if (chunk === undefined) {
      chunk = this.#spare ?? {
        leaves: Buffer.alloc(CHUNK * 32),
        positions: new Float64Array(CHUNK),
      };
      this.#spare = undefined;
      this.#chunks.push(chunk);
    }
    const at = i & CHUNK_MASK;
    leaf.copy(chunk.leaves, at * 32, 0, 32);
    chunk.positions[at] = position;
    this.#length += 1;
  }

  /** The root and count over the leaves since the restart whose positions are in from…to. */
  rangeRoot(from: number, to: number): RangeRoot {
    if (
      this.#incomplete ||
      (this.#folded.count > 0 && (this.#foldedFrom < from || this.#foldedTo > to))
    )
      return { ok: false, left: { from: this.#foldedFrom, to: this.#foldedTo } };
    const tree = this.#folded.clone();
    for (let k = 0; k < this.#length; k += 1) {
      const i = this.#head + k;
      const chunk = this.#chunks[i >>> CHUNK_BITS]!;
      const at = i & CHUNK_MASK;
      const position = chunk.positions[at]!;
      // A view is enough: the tree lives only until its root is taken.
      if (position >= from && position <= to)
        tree.push(chunk.leaves.subarray(at * 32, at * 32 + 32));
    }
    return { ok: true, count: tree.count, root: tree.root() };
  }

  /** Lets go of the leaves at positions up to `to`, as a new range starts after it. */
  restartAfter(to: number): void {
    // Keep the later leaves in order, moved towards the newest end: in a log read in position
    // order they already are the newest, and nothing moves.
    let write = this.#length - 1;
    for (let read = this.#length - 1; read >= 0; read -= 1) {
      const r = this.#head + read;
      const source = this.#chunks[r >>> CHUNK_BITS]!;
      const position = source.positions[r & CHUNK_MASK]!;
      if (position <= to) continue;
      if (write !== read) {
        const w = this.#head + write;
        const target = this.#chunks[w >>> CHUNK_BITS]!;
        const [from, into] = [(r & CHUNK_MASK) * 32, (w & CHUNK_MASK) * 32];
        source.leaves.copy(target.leaves, into, from, from + 32);
        target.positions[w & CHUNK_MASK] = position;
      }
      write -= 1;
    }
    this.#dropOldest(write + 1);

    if (this.#folded.count > 0 || this.#incomplete) {
      // Folded leaves after `to` belong to the next range, but cannot be taken out of the
      // builder: the next range is then incomplete until a restart passes them all.
      this.#incomplete = this.#foldedTo > to;
      this.#folded = new MerkleBuilder();
      if (this.#incomplete) this.#foldedFrom = Math.max(this.#foldedFrom, to + 1);
      else {
        this.#foldedFrom = Number.POSITIVE_INFINITY;
        this.#foldedTo = Number.NEGATIVE_INFINITY;
      }
    }
  }

  #foldOldest(): void {
    const chunk = this.#chunks[0]!;
    const position = chunk.positions[this.#head]!;
    // A copy: the builder keeps it, and the window's memory is reused.
    this.#folded.push(Buffer.from(chunk.leaves.subarray(this.#head * 32, this.#head * 32 + 32)));
    this.#foldedFrom = Math.min(this.#foldedFrom, position);
    this.#foldedTo = Math.max(this.#foldedTo, position);
    this.#dropOldest(1);
  }

  #dropOldest(count: number): void {
    this.#head += count;
    this.#length -= count;
    while (this.#head >= CHUNK || (this.#length === 0 && this.#chunks.length > 0)) {
      this.#spare = this.#chunks.shift();
      this.#head = Math.max(0, this.#head - CHUNK);
    }
    if (this.#length === 0) this.#head = 0;
  }
}
