import { createHash, hash } from 'node:crypto';

/**
 * Merkle trees over a range of the global log, as RFC 6962 (Certificate Transparency) builds
 * them: leaf = SHA-256(0x00 ‖ leaf data), node = SHA-256(0x01 ‖ left ‖ right), the left subtree
 * holding the largest power of two below the count. A leaf's data is the event's global position
 * (8 bytes, big-endian) followed by its 32-byte event hash, so a seal binds both what each event
 * is and where it stands in the log.
 *
 * The builder is streaming: O(log n) memory, one pass, and `root()` at any moment equals the
 * RFC 6962 root of the leaves pushed so far.
 */
export function leafHash(position: number, eventHashHex: string): Buffer {
  const data = Buffer.allocUnsafe(1 + 8 + 32);
  data[0] = 0x00;
  data.writeBigUInt64BE(BigInt(position), 1);
  data.write(eventHashHex, 9, 'hex');
  return hash('sha256', data, 'buffer');
}

function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(Buffer.of(0x01)).update(left).update(right).digest();
}

export class MerkleBuilder {
  /** Roots of complete subtrees, left to right, with their sizes (strictly decreasing powers of two). */
  readonly #stack: { size: number; hash: Buffer }[] = [];
  #count = 0;

  get count(): number {
    return this.#count;
  }

  /** A builder in the same state that goes on by itself: O(log n), the nodes are never changed. */
  clone(): MerkleBuilder {
    const copy = new MerkleBuilder();
    copy.#stack.push(...this.#stack);
    copy.#count = this.#count;
    return copy;
  }

  push(leaf: Buffer): void {
    let node = { size: 1, hash: leaf };
    let top = this.#stack.at(-1);
    while (top !== undefined && top.size === node.size) {
      this.#stack.pop();
      node = { size: top.size * 2, hash: nodeHash(top.hash, node.hash) };
      top = this.#stack.at(-1);
    }
    this.#stack.push(node);
    this.#count += 1;
  }

  /** Hex root; the empty tree's root is SHA-256 of nothing, as in RFC 6962. */
  root(): string {
    if (this.#stack.length === 0) return createHash('sha256').digest('hex');
    let hash = this.#stack[this.#stack.length - 1]!.hash;
    for (let i = this.#stack.length - 2; i >= 0; i -= 1)
      hash = nodeHash(this.#stack[i]!.hash, hash);
    return hash.toString('hex');
  }
}

/** The root over leaves given at once (reference implementation of RFC 6962 §2.1, for tests). */
export function merkleRootOf(leaves: readonly Buffer[]): string {
  const mth = (items: readonly Buffer[]): Buffer => {
    if (items.length === 1) return items[0]!;
    let k = 1;
    while (k * 2 < items.length) k *= 2;
    return nodeHash(mth(items.slice(0, k)), mth(items.slice(k)));
  };
  return leaves.length === 0 ? createHash('sha256').digest('hex') : mth(leaves).toString('hex');
}
