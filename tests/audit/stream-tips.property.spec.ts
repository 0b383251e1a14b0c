/**
 * The verifier's table of stream tips (fingerprinted ids over typed arrays) against a plain
 * Map from stream id to tip, for random ids (any Unicode), revisions and hashes, with enough
 * streams to make the index grow several times.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamTips } from '../../src/audit/stream-tips.js';

const SEED = 20_261_124;

type Tip = { revision: number; hash: string };

const hex64 = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => Buffer.from(b).toString('hex'));
/** Mostly what a log holds; sometimes what only a damaged one does. */
const revision = fc.oneof(
  { arbitrary: fc.nat({ max: 100 }), weight: 8 },
  {
    arbitrary: fc.constantFrom(2 ** 32 - 2, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, 0.5),
    weight: 1,
  },
);
const eventHash = fc.oneof(
  { arbitrary: hex64, weight: 8 },
  {
    arbitrary: fc.oneof(
      hex64.map((h) => h.toUpperCase()),
      fc.string({ maxLength: 70 }),
    ),
    weight: 1,
  },
);

/** Everything the table says about each stream of the model, and about some it does not hold. */
function contents(tips: StreamTips, model: ReadonlyMap<string, Tip>, absent: readonly string[]) {
  const found = new Map<string, Tip>();
  for (const id of model.keys()) {
    const entry = tips.find(id);
    if (entry !== -1) found.set(id, { revision: tips.revisionAt(entry), hash: tips.hashAt(entry) });
  }
  return { size: tips.size, found, absent: absent.filter((id) => tips.find(id) !== -1) };
}

describe('StreamTips', () => {
  it('holds what a Map holds, for random ids, revisions and hashes', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: 'grapheme', maxLength: 8 }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.array(fc.tuple(fc.nat(), revision, eventHash), { maxLength: 200 }),
        (ids, writes) => {
          const [absent, used] = [ids.slice(0, 1), ids.slice(1)];
          const tips = new StreamTips();
          const model = new Map<string, Tip>();
          for (const [which, r, h] of used.length === 0 ? [] : writes) {
            const id = used[which % used.length]!;
            // As the verifier writes: update a known entry, set a new stream.
            const entry = tips.find(id);
            if (entry === -1) tips.set(id, r, h);
            else tips.update(entry, r, h);
            model.set(id, { revision: r, hash: h });
          }
          expect(contents(tips, model, absent)).toEqual({
            size: model.size,
            found: model,
            absent: [],
          });
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('grows (1 024 slots at first, doubled past 3/4 full) and keeps every tip', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 700, max: 5_000 }),
        fc.string({ maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(), revision, eventHash), { minLength: 100, maxLength: 2_000 }),
        (streams, prefix, rewrites) => {
          const id = (i: number) => `${prefix}stream-${i}`;
          const hashOf = (i: number) => createHash('sha256').update(`${prefix}${i}`).digest('hex');
          const tips = new StreamTips();
          const model = new Map<string, Tip>();
          for (let i = 0; i < streams; i += 1) {
            tips.set(id(i), 0, hashOf(i));
            model.set(id(i), { revision: 0, hash: hashOf(i) });
          }
          for (const [which, r, h] of rewrites) {
            tips.set(id(which % streams), r, h);
            model.set(id(which % streams), { revision: r, hash: h });
          }
          const absent = [id(streams), id(-1), `${prefix}other`];
          expect(contents(tips, model, absent)).toEqual({
            size: streams,
            found: model,
            absent: [],
          });
        },
      ),
      { seed: SEED, numRuns: 20 },
    );
  });
});
