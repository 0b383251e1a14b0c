/**
 * The verifier's Merkle window (the latest leaves, and a streaming tree for the older ones)
 * against the recursive reference of RFC 6962 (`merkleRootOf`) over the leaves kept whole:
 * seals that come a random number of positions after their ranges end, inside the window and
 * beyond it, and logs whose positions are out of order.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MerkleWindow } from '../../src/integrity/merkle-window.js';
import { MerkleBuilder, merkleRootOf } from '../../src/integrity/merkle.js';

const SEED = 20_261_125;

/** A made-up leaf per position (and per copy, for positions that come twice). */
const leafOf = (position: number, copy = 0) =>
  createHash('sha256').update(`${position}:${copy}`).digest();

describe('MerkleWindow', () => {
  it('gives the root of each seal range when the seal comes inside the window, and no root otherwise', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.record({ more: fc.nat({ max: 60 }), lag: fc.nat({ max: 50 }) }), {
          minLength: 1,
          maxLength: 8,
        }),
        (capacity, seals) => {
          const window = new MerkleWindow(capacity);
          const leaves = [Buffer.alloc(0)]; // leaves[p] is the leaf at position p
          const push = () => {
            const position = leaves.length;
            leaves.push(leafOf(position));
            window.push(position, leaves[position]!);
          };
          let from = 1;
          let previousFits = true;
          const found = [];
          const expected = [];
          for (const { more, lag } of seals) {
            // The sealer seals up to the head it reads; `lag` events come before its seal.
            for (let i = 0; i < more; i += 1) push();
            const to = leaves.length - 1;
            if (to < from) push(); // the range holds at least the previous seal
            const sealTo = leaves.length - 1;
            for (let i = 0; i <= lag; i += 1) push(); // …and the seal event itself
            const fits = lag + 1 <= capacity;
            found.push(window.rangeRoot(from, sealTo));
            // Leaves of the range lost when the previous seal came too late spoil this one too.
            expected.push(
              fits && previousFits
                ? {
                    ok: true,
                    count: sealTo - from + 1,
                    root: merkleRootOf(leaves.slice(from, sealTo + 1)),
                  }
                : { ok: false },
            );
            window.restartAfter(sealTo);
            from = sealTo + 1;
            previousFits = fits;
          }
          expect(found.map((r) => (r.ok ? r : { ok: false }))).toEqual(expected);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('never gives a root other than that of the leaves kept whole, whatever the order of positions', () => {
    const op = fc.oneof(
      { arbitrary: fc.record({ push: fc.integer({ min: 1, max: 30 }) }), weight: 6 },
      {
        arbitrary: fc.record({ from: fc.integer({ min: 1, max: 30 }), span: fc.nat({ max: 20 }) }),
        weight: 2,
      },
      { arbitrary: fc.record({ restartAfter: fc.nat({ max: 30 }) }), weight: 1 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 80 }),
        fc.array(op, { maxLength: 120 }),
        (capacity, ops) => {
          const window = new MerkleWindow(capacity);
          // What the verifier kept before windows: every leaf since the restart, in order.
          let kept: { position: number; leaf: Buffer }[] = [];
          let pushes = 0;
          for (const o of ops) {
            if ('push' in o) {
              const leaf = leafOf(o.push, (pushes += 1));
              window.push(o.push, leaf);
              kept.push({ position: o.push, leaf });
            } else if ('restartAfter' in o) {
              window.restartAfter(o.restartAfter);
              kept = kept.filter((l) => l.position > o.restartAfter);
            } else {
              const to = o.from + o.span;
              const inRange = kept.filter((l) => l.position >= o.from && l.position <= to);
              const reference = {
                ok: true,
                count: inRange.length,
                root: merkleRootOf(inRange.map((l) => l.leaf)),
              };
              const found = window.rangeRoot(o.from, to);
              // With every leaf still in the window, the root is always there.
              if (found.ok || pushes <= capacity) expect(found).toEqual(reference);
              // Asking does not change the window.
              expect(window.rangeRoot(o.from, to)).toEqual(found);
            }
          }
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('crosses the boundaries of its chunks (16 384 leaves each) and folds leaves older than the window', () => {
    const capacity = 20_000;
    const window = new MerkleWindow(capacity);
    const reference: { position: number; leaf: Buffer }[] = [];
    let position = 0;
    let from = 1;
    const roots = [];
    // Ranges of 30 000, 25 000, 5 000 and 40 000 positions, sealed 19 999, 0, 12 000 and 1 positions late.
    for (const [length, lag] of [
      [30_000, 19_999],
      [25_000, 0],
      [5_000, 12_000],
      [40_000, 1],
    ] as const) {
      const to = from + length - 1;
      while (position < to + lag + 1) {
        position += 1;
        const leaf = leafOf(position);
        window.push(position, leaf);
        reference.push({ position, leaf });
      }
      const tree = new MerkleBuilder();
      for (const l of reference) if (l.position >= from && l.position <= to) tree.push(l.leaf);
      roots.push({
        found: window.rangeRoot(from, to),
        expected: { ok: true, count: length, root: tree.root() },
      });
      window.restartAfter(to);
      from = to + 1;
    }
    expect(roots.map((r) => r.found)).toEqual(roots.map((r) => r.expected));
    // The latest 20 000 leaves in chunks of 16 384 (two or three chunks, one kept spare).
    expect(window.bytes).toBeLessThanOrEqual(4 * 16_384 * 40);
  });

  it('refuses a window of no leaves', () => {
    expect(() => new MerkleWindow(0)).toThrow(RangeError);
  });
});
