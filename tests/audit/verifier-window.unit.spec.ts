/**
 * The verifier with a bounded Merkle window, on logs built in memory: seals that come after
 * their ranges end (events appended while the sealer computed them) verify as long as they come
 * inside the window; one that comes later is a `window` break that says which option to raise,
 * never a silent pass; a forgery only a seal reveals is found and located whatever the window.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SEALS_STREAM } from '../../src/audit/seal-events.js';
import { LogVerifier, type VerifierOptions } from '../../src/audit/verifier.js';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { chainHash, contentHashOfCanonical } from '../../src/integrity/event-hash.js';
import { generateSigningKey } from '../../src/integrity/signing.js';
import type { ChainedEvent } from '../../src/store/port.js';
import { SyntheticLog } from './synthetic-log.js';

const SEED = 20_261_126;
const key = generateSigningKey();
const trustedKeys = [key.publicKey];

function verify(events: readonly ChainedEvent[], options: VerifierOptions = {}) {
  const verifier = new LogVerifier({ trustedKeys, ...options });
  for (const e of events) verifier.push(e);
  return verifier.finish();
}

/** A log plan: batches of events over a few streams, each batch sealed `lag` events late. */
const plan = fc.array(
  fc.record({
    events: fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 25 }),
    lag: fc.array(fc.nat({ max: 5 }), { maxLength: 12 }),
  }),
  { minLength: 1, maxLength: 6 },
);

type Plan = typeof plan extends fc.Arbitrary<infer P> ? P : never;

function build(batches: Plan) {
  const log = new SyntheticLog(key);
  const seals: { position: number; toPosition: number }[] = [];
  for (const batch of batches) {
    for (const s of batch.events) log.append(`weighing-${s}`);
    const seal = log.takeSeal();
    // Appended while the seal was being computed: before it in the log.
    for (const s of batch.lag) log.append(`weighing-${s}`);
    seals.push({ position: log.appendSeal(seal).position, toPosition: seal.toPosition });
  }
  return { events: log.events, seals };
}

describe('LogVerifier with a Merkle window', () => {
  it('verifies seals that come after their ranges end, with any window they fit in, as the default window does', () => {
    fc.assert(
      fc.property(plan, fc.nat({ max: 10 }), (batches, extra) => {
        const { events, seals } = build(batches);
        const lag = Math.max(...seals.map((s) => s.position - s.toPosition));
        const report = verify(events, { merkleWindow: lag + extra });
        expect(report).toEqual(verify(events));
        expect(report).toMatchObject({
          ok: true,
          breakCount: 0,
          sealsVerified: seals.length,
          sealedUpTo: seals.at(-1)!.toPosition,
          streams: new Set(events.map((e) => e.streamId)).size,
        });
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('reports a seal that comes later than the window holds as a `window` break naming the option', () => {
    const log = new SyntheticLog(key);
    for (let i = 0; i < 6; i += 1) log.append(`weighing-${i % 2}`); // positions 2…7
    const first = log.takeSeal(); // 1…7
    for (let i = 0; i < 9; i += 1) log.append(`weighing-${i % 3}`); // positions 8…16
    const late = log.appendSeal(first); // 17: ten positions after 7
    log.append('trip-1'); // 18
    const second = log.appendSeal(log.takeSeal()); // 19, sealing 8…18 at once
    log.append('trip-1'); // 20
    const third = log.appendSeal(log.takeSeal()); // 21, sealing 19…20

    const breaks = [
      {
        kind: 'window',
        position: late.position,
        streamId: SEALS_STREAM,
        revision: 0,
        message:
          'the root over positions 1…7 was not recomputed: the seal comes 10 positions after ' +
          'its range ends, and the verification window keeps the latest 4 leaves ' +
          '(raise it to at least 10: --merkle-window, or merkleWindow on GET /v1/audit/verify)',
      },
      {
        // Leaves 8…13 left the window before the first seal came and were let go with it
        // (14 and 15 left it since): the tree of 8…18 cannot be rebuilt.
        kind: 'window',
        position: second.position,
        streamId: SEALS_STREAM,
        revision: 1,
        message:
          'the root over positions 8…18 was not recomputed: leaves at positions 8…15 had left ' +
          'the verification window (the latest 4 leaves) before this seal came ' +
          '(raise it: --merkle-window, or merkleWindow on GET /v1/audit/verify)',
      },
    ];
    expect(verify(log.events, { merkleWindow: 4 })).toEqual({
      ok: false,
      events: 21,
      streams: 6,
      firstPosition: 1,
      lastPosition: 21,
      // The third seal checks out, but the first two were not: nothing is covered.
      sealsVerified: 1,
      sealedUpTo: 0,
      keys: [{ keyId: key.keyId, trustedBecause: 'given by the auditor' }],
      firstBreak: breaks[0],
      breaks,
      breakCount: 2,
      notes: [
        'positions 21…21 are not sealed yet: their chains are checked, but a removal of events ' +
          'at the end of the log would not show until they are',
      ],
    });
    expect(third.position).toBe(21);
    // With a window of 10 leaves, every seal checks out.
    expect(verify(log.events, { merkleWindow: 10 })).toMatchObject({ ok: true, sealsVerified: 3 });
  });

  it('finds and locates a forgery only a seal reveals (a stream rehashed from one event on), whatever the window', () => {
    fc.assert(
      fc.property(plan, fc.nat(), fc.nat({ max: 10 }), (batches, which, extra) => {
        const { events, seals } = build(batches);
        const sealedTo = seals.at(-1)!.toPosition;
        const domain = events.filter(
          (e) => e.streamId.startsWith('weighing-') && e.position <= sealedTo,
        );
        const target = domain[which % domain.length]!;
        // The forger changes the event's data and recomputes its hash, and those of the rest
        // of its stream, so that every chain links: only the seal over it can tell.
        let previous = target.previousHash;
        const forged = events.map((e) => {
          if (e.streamId !== target.streamId || e.position < target.position) return e;
          const data = e === target ? { ...e.data, forged: true } : e.data;
          const content = contentHashOfCanonical(
            e.streamId,
            e.id,
            e.type,
            canonicalJson(data),
            canonicalJson(e.metadata),
          );
          const hash = chainHash(content, previous, e.recordedAt, e.revision);
          const changed = { ...e, data, previousHash: previous, hash };
          previous = hash;
          return changed;
        });
        const lag = Math.max(...seals.map((s) => s.position - s.toPosition));
        const report = verify(forged, { merkleWindow: lag + extra });
        expect(report).toEqual(verify(forged));
        const range = /positions (\d+)…(\d+)/.exec(report.firstBreak?.message ?? '');
        expect({
          kind: report.firstBreak?.kind,
          covers:
            range !== null &&
            Number(range[1]) <= target.position &&
            target.position <= Number(range[2]),
        }).toEqual({ kind: 'seal', covers: true });
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});
