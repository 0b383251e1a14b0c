/**
 * The Merkle tree against RFC 6962 itself: trees of 1, 2 and 3 leaves built by hand with
 * node:crypto, the leaf format (0x00 ‖ position as 8 bytes big-endian ‖ event hash), and the
 * published Certificate Transparency test vectors (roots for the eight reference leaves).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { leafHash, MerkleBuilder, merkleRootOf } from '../../src/integrity/merkle.js';

const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const node = (left: Buffer, right: Buffer) => sha256(Buffer.of(0x01), left, right);

function rootOf(leaves: readonly Buffer[]): string {
  const builder = new MerkleBuilder();
  for (const leaf of leaves) builder.push(leaf);
  return builder.root();
}

describe('Merkle tree (RFC 6962)', () => {
  const eventHash = (n: number) => createHash('sha256').update(`event ${n}`).digest('hex');

  it('hashes a leaf as 0x00, the position in 8 bytes big-endian, then the event hash', () => {
    const position = 0x0102030405;
    const expected = sha256(
      Buffer.of(0x00),
      Buffer.from('0000000102030405', 'hex'),
      Buffer.from(eventHash(1), 'hex'),
    );
    expect(leafHash(position, eventHash(1)).toString('hex')).toBe(expected.toString('hex'));
  });

  it('builds the trees of 0, 1, 2 and 3 leaves as RFC 6962 §2.1 shapes them', () => {
    const [l0, l1, l2] = [1, 2, 3].map((p) => leafHash(p, eventHash(p))) as [
      Buffer,
      Buffer,
      Buffer,
    ];
    const expected = [
      sha256(), // the empty tree: SHA-256 of nothing
      l0, // one leaf: the leaf hash itself
      node(l0, l1),
      node(node(l0, l1), l2), // the left subtree holds the largest power of two below 3
    ].map((b) => b.toString('hex'));
    const prefixes = [[], [l0], [l0, l1], [l0, l1, l2]];
    expect(prefixes.map(rootOf)).toEqual(expected);
    expect(prefixes.map(merkleRootOf)).toEqual(expected);
  });

  it('gives the roots of the Certificate Transparency test vectors', () => {
    const leaves = [
      '',
      '00',
      '10',
      '2021',
      '3031',
      '40414243',
      '5051525354555657',
      '606162636465666768696a6b6c6d6e6f',
    ].map((hex) => sha256(Buffer.of(0x00), Buffer.from(hex, 'hex')));
    const roots = [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
      '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
      'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    ];
    // root() at any moment is the root of the leaves pushed so far.
    const builder = new MerkleBuilder();
    const streamed = leaves.map((leaf) => {
      builder.push(leaf);
      return builder.root();
    });
    expect(streamed).toEqual(roots);
    expect(leaves.map((_, i) => merkleRootOf(leaves.slice(0, i + 1)))).toEqual(roots);
  });
});
