/**
 * The streaming builder (O(log n) memory, what seals and the verifier use) against the
 * recursive reference of RFC 6962 §2.1 (`merkleRootOf`), for random leaf counts up to 300.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leafHash, MerkleBuilder, merkleRootOf } from '../../src/integrity/merkle.js';

const SEED = 20_260_512;

/** n leaves as a seal builds them: position i + 1 and a (made-up) event hash. */
function leavesOf(n: number, salt: number): Buffer[] {
  return Array.from({ length: n }, (_, i) =>
    leafHash(i + 1, createHash('sha256').update(`${salt}:${i}`).digest('hex')),
  );
}

describe('MerkleBuilder', () => {
  it('has the RFC 6962 root for random leaf counts from 0 to 300', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer(), (n, salt) => {
        const leaves = leavesOf(n, salt);
        const builder = new MerkleBuilder();
        for (const leaf of leaves) builder.push(leaf);
        expect({ count: builder.count, root: builder.root() }).toEqual({
          count: n,
          root: merkleRootOf(leaves),
        });
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('has, after each push, the root of the leaves pushed so far (every count 0…300)', () => {
    const leaves = leavesOf(300, SEED);
    const builder = new MerkleBuilder();
    const streamed = [builder.root()];
    for (const leaf of leaves) {
      builder.push(leaf);
      streamed.push(builder.root());
    }
    expect(streamed).toEqual(
      Array.from({ length: 301 }, (_, n) => merkleRootOf(leaves.slice(0, n))),
    );
  });
});
