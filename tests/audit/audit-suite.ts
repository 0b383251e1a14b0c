/**
 * The audit trail, run unchanged on PGlite (audit.int.spec.ts) and PostgreSQL
 * (audit.e2e.spec.ts): the write-once log, seals and key rotation, detection and location of
 * tampering (a seeded property), the export and its offline verification, and the hashing of
 * logs written before migration 0003.
 *
 * One store per database serves every test: each test starts from an empty log (TRUNCATE as a
 * superuser), because opening PGlite costs seconds.
 */
import { createHash, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { exportLines, verifyStore } from '../../src/audit/log-audit.js';
import { keyEndorsementText, KEYS_STREAM, SEALING_KEY_ADDED } from '../../src/audit/seal-events.js';
import { Sealer } from '../../src/audit/sealer.js';
import { verifyExportLines } from '../../src/audit/verify-export.js';
import { generateSigningKey, signText } from '../../src/integrity/signing.js';
import type { EventStore, EventToAppend, StreamAppend } from '../../src/store/port.js';
import type { OpenedStore, StoreHarness } from '../support/databases.js';
import { legacyAppend, openLegacyLog } from './legacy-log.js';
import {
  buildLog,
  locates,
  logPlan,
  readLog,
  resetLog,
  tamper,
  tamperChoice,
  TAMPERINGS,
} from './tampering.js';

/** Fixed seeds: a failure names its seed and path, and the same run comes back every time. */
const SEED = 20_260_520;
/**
 * Runs per tampering kind and database: 13 kinds × 2 ≈ 25 logs per database in CI. A longer
 * soak takes a flag: `LEDGER_TAMPER_RUNS=20 npx vitest run tests/audit/audit`.
 */
const RUNS_PER_KIND = Number(process.env.LEDGER_TAMPER_RUNS ?? 2);

/** Ed25519 keys: the ledger's first key (the one auditors trust), its successors, an intruder's. */
const first = generateSigningKey();
const second = generateSigningKey();
const third = generateSigningKey();
const rogue = generateSigningKey();
const trustedKeys = [first.publicKey];

/** A short lower-case word unique to n, so that a test can find it inside an export line. */
const note = (n: number) =>
  [...createHash('sha256').update(String(n)).digest().subarray(0, 10)]
    .map((byte) => String.fromCharCode(97 + (byte % 26)))
    .join('');

let eventCount = 0;
function event(): EventToAppend {
  eventCount += 1;
  return {
    id: randomUUID(),
    type: 'WeighingRecorded',
    data: { note: note(eventCount), tonnes: eventCount / 4 },
    metadata: { actor: 'station-1' },
  };
}

/** One append over three streams, as ingestion writes a weighing with its trip and site. */
function appendBatch(store: EventStore) {
  const appends: StreamAppend[] = ['weighing-1', 'trip-1', 'site-1'].map((streamId, i) => ({
    streamId,
    expectedRevision: 'any',
    events: Array.from({ length: i + 1 }, event),
  }));
  return store.appendMany(appends);
}

/** Indices of a JSON text's own syntax: braces, brackets, colons, commas, string quotes. */
function jsonSyntax(text: string): number[] {
  const found: number[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (inString && c === '\\') i += 1;
    else if (c === '"') {
      inString = !inString;
      found.push(i);
    } else if (!inString && '{}[]:,'.includes(c)) found.push(i);
  }
  return found;
}

/** The export as lines (without their newlines), as a file would be read. */
async function exportAll(store: EventStore): Promise<string[]> {
  let text = '';
  for await (const chunk of exportLines(store)) text += chunk;
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

export function describeAuditSuite(harness: StoreHarness): void {
  describe(`audit trail (${harness.name})`, () => {
    let opened: OpenedStore;
    beforeAll(async () => {
      opened = await harness.open();
    });
    afterAll(() => opened.close());
    beforeEach(() => resetLog(opened.db));

    /** A sealed log with a rotation: two seals, the second signed by the rotated key. */
    async function sealedLog() {
      const { store } = opened;
      await appendBatch(store);
      const sealer = new Sealer(store, first);
      await sealer.registerKey();
      const firstSeal = (await sealer.seal())!;
      await appendBatch(store);
      const rotated = await sealer.rotateTo(second);
      await appendBatch(store);
      const secondSeal = (await rotated.seal())!;
      return { firstSeal, secondSeal };
    }

    describe('write-once log', () => {
      it.each([
        ['UPDATE', sql`UPDATE events SET data = '{}' WHERE position = 1`],
        ['DELETE', sql`DELETE FROM events WHERE position = 2`],
        ['TRUNCATE', sql`TRUNCATE events`],
      ])('refuses %s on events with LW004 and leaves the log as it was', async (_, statement) => {
        await appendBatch(opened.store);
        const before = await readLog(opened.store);
        await expect(statement.execute(opened.db)).rejects.toMatchObject({ code: 'LW004' });
        expect(await readLog(opened.store)).toEqual(before);
      });
    });

    describe('seals and keys', () => {
      it('verifies several streams, two seals and a rotation, trusting only the first key', async () => {
        const { firstSeal, secondSeal } = await sealedLog();
        expect(secondSeal.seal).toMatchObject({
          keyId: second.keyId,
          fromPosition: firstSeal.seal.toPosition + 1,
          previousRoot: firstSeal.seal.root,
        });
        expect(await verifyStore(opened.store, { trustedKeys })).toMatchObject({
          ok: true,
          breaks: [],
          sealsVerified: 2,
          sealedUpTo: secondSeal.seal.toPosition,
          lastPosition: secondSeal.position,
          streams: 5,
          keys: [
            { keyId: first.keyId, trustedBecause: 'given by the auditor' },
            { keyId: second.keyId, trustedBecause: `endorsed by ${first.keyId}` },
          ],
        });
      });

      it('reports a key nobody endorsed (`key`) and a seal signed with it (`seal`)', async () => {
        await sealedLog();
        // An intruder records a key of their own, "endorsed" with that same key.
        const body = {
          keyId: rogue.keyId,
          previousKeyId: second.keyId,
          publicKey: rogue.publicKey,
        };
        const keyRecord = await opened.store.append(
          KEYS_STREAM,
          [
            {
              id: randomUUID(),
              type: SEALING_KEY_ADDED,
              data: { ...body, endorsement: signText(rogue, keyEndorsementText(body)) },
            },
          ],
          { expectedRevision: 'stream_exists' },
        );
        await appendBatch(opened.store);
        const forged = (await new Sealer(opened.store, rogue).seal())!;

        const report = await verifyStore(opened.store, { trustedKeys });
        expect(report.breaks.map(({ kind, position }) => ({ kind, position }))).toEqual([
          { kind: 'key', position: keyRecord.position },
          { kind: 'seal', position: forged.position },
        ]);
        expect(report.breaks[1]!.message).toContain(rogue.keyId);
      });
    });

    describe('tampering as a superuser', () => {
      const keys = [first, second, third];

      // The smallest case of the `swap` kind below: three appends with three recorded times.
      it('locates two swapped rows at one of them, not at the untouched row between them', async () => {
        const sleep = () => new Promise((resolve) => setTimeout(resolve, 3));
        const sealer = new Sealer(opened.store, first);
        await sealer.registerKey(); // position 1
        for (const streamId of ['weighing-1', 'trip-1', 'site-1']) {
          await sleep(); // each append gets a later recorded time: positions 2, 3, 4
          await opened.store.append(streamId, [event()], { expectedRevision: 'no_stream' });
        }
        const seal = (await sealer.seal())!; // position 5, sealing 1…4
        const log = {
          events: await readLog(opened.store),
          seals: [
            { position: seal.position, root: seal.seal.root, toPosition: seal.seal.toPosition },
          ],
        };
        const tampered = await tamper(opened.db, log, 'swap', { a: 1, b: 2, deltaMs: 1 });
        expect(tampered.what).toBe('swapped positions 2 and 4');

        const report = await verifyStore(opened.store, { trustedKeys });
        // Position 2 now holds the latest event: the row to blame is 2 (or 4), or the seal.
        expect(locates(report.firstBreak, tampered), JSON.stringify(report.firstBreak)).toBe(true);
      });

      it.each(TAMPERINGS.map((kind, i) => [kind, i] as const))(
        '%s: every tampering is detected, and the first break points at it',
        async (kind, i) => {
          const tally = { generated: 0, detected: 0, located: 0 };
          await fc.assert(
            fc.asyncProperty(logPlan, tamperChoice, async (plan, choice) => {
              await resetLog(opened.db);
              const log = await buildLog(opened.store, plan, keys);
              // Untampered, the log verifies (also: the random payloads survive jsonb).
              expect((await verifyStore(opened.store, { trustedKeys })).breaks).toEqual([]);

              const tampered = await tamper(opened.db, log, kind, choice);
              const report = await verifyStore(opened.store, {
                trustedKeys,
                ...(tampered.heldSeals === undefined ? {} : { heldSeals: tampered.heldSeals }),
              });
              const located = locates(report.firstBreak, tampered);
              tally.generated += 1;
              if (!report.ok) tally.detected += 1;
              if (located) tally.located += 1;
              const b = report.firstBreak;
              expect({
                tampering: tampered.what,
                outcome: located
                  ? 'detected and located'
                  : b === null
                    ? 'not detected'
                    : `first break elsewhere: ${b.kind} at ${b.position} (${b.message})`,
              }).toEqual({ tampering: tampered.what, outcome: 'detected and located' });
            }),
            // Shrinking would rebuild many logs; the seed and path replay the failing one.
            { seed: SEED + i, numRuns: RUNS_PER_KIND, endOnFailure: true },
          );
          expect(tally).toEqual({
            generated: RUNS_PER_KIND,
            detected: RUNS_PER_KIND,
            located: RUNS_PER_KIND,
          });
        },
      );
    });

    describe('export', () => {
      /** The lines of the events holding a `note` (domain events), with their positions. */
      const noteLines = (lines: readonly string[]) =>
        lines.flatMap((line, i) => {
          const parsed = JSON.parse(line) as { position?: number; data?: { note?: string } };
          return parsed.data?.note === undefined
            ? []
            : [{ i, position: parsed.position!, note: parsed.data.note }];
        });

      it('verifies offline; a byte changed inside a data value is a hash break at its event', async () => {
        await sealedLog();
        const lines = await exportAll(opened.store);
        expect(await verifyExportLines(lines, { trustedKeys })).toMatchObject({
          ok: true,
          sealsVerified: 2,
        });

        const candidates = noteLines(lines);
        await fc.assert(
          fc.asyncProperty(
            fc.nat(),
            fc.nat(),
            fc.integer({ min: 1, max: 25 }),
            async (which, offset, shift) => {
              const { i, position, note: value } = candidates[which % candidates.length]!;
              // One letter of the note, replaced by another letter: the line stays valid JSON.
              // The database writes the lines, with a space after the colon.
              const key = /"note":\s*"/.exec(lines[i]!)!;
              const at = key.index + key[0].length + (offset % value.length);
              const letter = String.fromCharCode(
                97 + ((lines[i]!.charCodeAt(at) - 97 + shift) % 26),
              );
              const flipped = lines.with(
                i,
                lines[i]!.slice(0, at) + letter + lines[i]!.slice(at + 1),
              );
              const report = await verifyExportLines(flipped, { trustedKeys });
              expect(report.firstBreak).toMatchObject({ kind: 'hash', position });
            },
          ),
          { seed: SEED, numRuns: 40 },
        );
      });

      it('a byte that breaks the JSON of a line is a format break naming that line', async () => {
        await sealedLog();
        const lines = await exportAll(opened.store);
        const last = lines.length - 2; // lines: header, events 1…n, trailer
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 1, max: last }), fc.nat(), async (i, which) => {
            const syntax = jsonSyntax(lines[i]!);
            const at = syntax[which % syntax.length]!;
            const broken = lines[i]!.slice(0, at) + '#' + lines[i]!.slice(at + 1);
            expect(() => JSON.parse(broken) as unknown).toThrow();
            const report = await verifyExportLines(lines.with(i, broken), { trustedKeys });
            // Line i + 1 of the file holds position i; the break names the position before it.
            expect(report.firstBreak).toMatchObject({
              kind: 'format',
              position: i === 1 ? null : i - 1,
              message: expect.stringContaining(`line ${i + 1} `) as string,
            });
          }),
          { seed: SEED, numRuns: 40 },
        );
      });

      it('a file missing its last line is reported as cut short', async () => {
        const { secondSeal } = await sealedLog();
        const lines = await exportAll(opened.store);
        const report = await verifyExportLines(lines.slice(0, -1), { trustedKeys });
        expect(report.ok).toBe(false);
        expect(report.breaks).toEqual([
          expect.objectContaining({
            kind: 'format',
            position: secondSeal.position,
            message: expect.stringContaining('cut short') as string,
          }),
        ]);
      });
    });

    describe('migration 0003 on an existing log', () => {
      it('hashes the events stored before it, and new appends continue their chains', async () => {
        const legacy = await openLegacyLog(harness);
        try {
          // More than one backfill page (2000 events), payloads whose keys are out of order.
          const many = (streamId: string, count: number) => ({
            streamId,
            events: Array.from({ length: count }, (_, k) => ({
              id: randomUUID(),
              type: 'WeighingRecorded',
              data: {
                z: k,
                a: { 'é€': [1.5, 1e21, -0.25, 'x'], b: null },
                ticket: `${streamId}-${k}`,
              },
            })),
          });
          await legacyAppend(legacy.db, [many('weighing-1', 1100), many('trip-1', 1000)]);
          await legacyAppend(legacy.db, [many('weighing-1', 3), many('site-1', 2)]);

          const store = await legacy.upgrade();
          const backfilled = await readLog(store);
          expect(await verifyStore(store)).toMatchObject({ ok: true, events: 2105, streams: 3 });

          const tip = backfilled.filter((e) => e.streamId === 'weighing-1').at(-1)!;
          const next = event();
          await store.append('weighing-1', [next], { expectedRevision: tip.revision });
          await store.appendMany([
            { streamId: 'trip-1', expectedRevision: 999, events: [event()] },
            { streamId: 'site-2', expectedRevision: 'no_stream', events: [event()] },
          ]);
          const sealer = new Sealer(store, first);
          await sealer.registerKey();
          await sealer.seal();

          const appended = (await readLog(store)).find((e) => e.id === next.id);
          expect(appended).toMatchObject({ revision: tip.revision + 1, previousHash: tip.hash });
          expect(await verifyStore(store, { trustedKeys })).toMatchObject({
            ok: true,
            events: 2105 + 3 + 2,
            sealsVerified: 1,
          });
        } finally {
          await legacy.close();
        }
      });
    });
  });
}
