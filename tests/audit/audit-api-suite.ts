/**
 * The auditors' HTTP routes (src/api/audit/audit-routes.ts) over a real store, run unchanged on
 * PGlite (audit-api.int.spec.ts) and PostgreSQL (audit-api.e2e.spec.ts).
 *
 * One log per database serves the whole describe, and the tests build on each other in order:
 * five events, no key yet → the first key → two seals → a rotation → a seal with the new key.
 * Every position is therefore known exactly:
 *
 *   1…5   weighbridge events          8…10  weighbridge events
 *   6     SealingKeyAdded (first)     11    LogSealed 7…10 (first key)
 *   7     LogSealed 1…6 (first key)   12    SealingKeyAdded (second, endorsed by first)
 *                                     13    LogSealed 11…12 (second key)
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorization, buildTestApp } from '../support/access.js';
import { exportEventLine } from '../../src/audit/export-format.js';
import {
  keyEndorsementText,
  sealSigningText,
  type LogSealed,
} from '../../src/audit/seal-events.js';
import { Sealer } from '../../src/audit/sealer.js';
import type { VerificationReport } from '../../src/audit/verifier.js';
import { verifyExportLines } from '../../src/audit/verify-export.js';
import { leafHash, MerkleBuilder } from '../../src/integrity/merkle.js';
import {
  generateSigningKey,
  normalisePublicKey,
  publicKeyId,
  verifyText,
} from '../../src/integrity/signing.js';
import type { EventStore, EventToAppend } from '../../src/store/port.js';
import { get, post, problemBody, TIME_ZONE } from '../api/fixtures.js';
import type { OpenedStore, StoreHarness } from '../support/databases.js';

const first = generateSigningKey();
const second = generateSigningKey();
const rogue = generateSigningKey();

const HEX64 = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

interface SealEntry {
  readonly position: number;
  readonly seal: LogSealed;
}

interface Key {
  readonly keyId: string;
  readonly publicKey: string;
  readonly publicKeyPem: string;
  readonly previousKeyId: string | null;
  readonly endorsement: string | null;
}

let weighed = 0;
function weighing(): EventToAppend {
  weighed += 1;
  return {
    id: randomUUID(),
    type: 'VehicleWeighedOnePass',
    data: { ticketNo: `T${weighed}`, netKg: 1000 * weighed },
    metadata: { actor: 'station-1' },
  };
}

/** Appends n events, alternating over two weighbridge streams, one append each. */
async function appendWeighings(store: EventStore, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) {
    await store.append(`weighing-${i % 2}`, [weighing()], { expectedRevision: 'any' });
  }
}

/** The Merkle root of positions from…to as the auditor recomputes it from the raw log. */
async function rootOf(store: EventStore, from: number, to: number): Promise<string> {
  const tree = new MerkleBuilder();
  for (const e of await store.readChained({ after: from - 1, maxCount: to - from + 1 }))
    tree.push(leafHash(e.position, e.hash));
  expect(tree.count).toBe(to - from + 1);
  return tree.root();
}

async function raw(app: FastifyInstance, method: 'GET' | 'POST', url: string) {
  const response = await app.inject({ method, url, headers: authorization(app) });
  return {
    statusCode: response.statusCode,
    contentType: response.headers['content-type'] as string | undefined,
    body: response.body,
  };
}

const q = encodeURIComponent;

export function describeAuditApiSuite(harness: StoreHarness): void {
  describe(`audit API (${harness.name})`, () => {
    let opened: OpenedStore;
    /** No sealer: what a replica or a read-only server runs. */
    let plain: FastifyInstance;
    /** Sealing with the first key, then (after the rotation) with the second. */
    let sealing: FastifyInstance;
    let rotated: FastifyInstance | undefined;
    let sealer: Sealer;
    const seals: SealEntry[] = [];

    const build = (s?: Sealer) =>
      buildTestApp({
        store: opened.store,
        db: opened.db as never,
        timeZone: TIME_ZONE,
        ...(s === undefined ? {} : { sealer: s }),
      });

    const verify = async (query = ''): Promise<VerificationReport> => {
      const response = await get(plain, `/v1/audit/verify${query}`);
      expect(response.statusCode).toBe(200);
      expect(response.contentType).toMatch(/^application\/json/);
      return response.body as VerificationReport;
    };

    beforeAll(async () => {
      opened = await harness.open();
      plain = await build();
      sealer = new Sealer(opened.store, first);
      sealing = await build(sealer);
      await appendWeighings(opened.store, 5);
    });
    afterAll(async () => {
      await plain.close();
      await sealing.close();
      await rotated?.close();
      await opened.close();
    });

    it('GET /v1/audit/keys: no key on record yet', async () => {
      const response = await get(plain, '/v1/audit/keys');
      expect(response.statusCode).toBe(200);
      expect(response.body).toEqual({ currentKeyId: null, keys: [] });
    });

    it('POST /v1/audit/seals without a sealer: 503 problem+json, nothing appended', async () => {
      const response = await post(plain, '/v1/audit/seals', undefined);
      expect(response.statusCode).toBe(503);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      expect(response.body).toEqual(
        problemBody(
          'LEDGER_ERR_SEALING_UNAVAILABLE',
          'This server holds no sealing key',
          503,
          'this server holds no sealing key: seal where LEDGER_SEAL_KEY_FILE is, or run `npm run audit -- seal`',
          { instance: '/v1/audit/seals' },
        ),
      );
      expect(await opened.store.headPosition()).toBe(5);
    });

    it('GET /v1/audit/seals before any seal: an empty list', async () => {
      const response = await get(plain, '/v1/audit/seals');
      expect(response.statusCode).toBe(200);
      expect(response.body).toEqual({ seals: [] });
    });

    it('GET /v1/audit/keys lists the registered key with its PEM', async () => {
      await sealer.registerKey();
      expect(await opened.store.headPosition()).toBe(6);
      const response = await get(plain, '/v1/audit/keys');
      expect(response.statusCode).toBe(200);
      const body = response.body as { currentKeyId: string | null; keys: Key[] };
      expect(body.currentKeyId).toBe(first.keyId);
      expect(body.keys).toHaveLength(1);
      const [key] = body.keys as [Key];
      expect(key).toEqual({
        keyId: first.keyId,
        publicKey: first.publicKey,
        publicKeyPem: expect.stringMatching(
          /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/,
        ) as unknown,
        previousKeyId: null,
        endorsement: null,
      });
      // The PEM is the same key as the base64 DER, and its id is the DER's digest.
      expect(normalisePublicKey(key.publicKeyPem)).toBe(first.publicKey);
      expect(publicKeyId(key.publicKey)).toBe(first.keyId);
    });

    it('POST /v1/audit/seals with a sealer: 201 and a seal over positions 1…head', async () => {
      const rootBefore = await rootOf(opened.store, 1, 6);
      const response = await post(sealing, '/v1/audit/seals', undefined);
      expect(response.statusCode).toBe(201);
      const entry = response.body as SealEntry;
      expect(entry).toEqual({
        position: 7,
        seal: {
          fromPosition: 1,
          toPosition: 6,
          count: 6,
          root: rootBefore,
          previousRoot: null,
          keyId: first.keyId,
          signature: expect.stringMatching(BASE64) as unknown,
        },
      });
      const { signature, ...body } = entry.seal;
      expect(verifyText(first.publicKey, sealSigningText(body), signature)).toBe(true);
      expect(verifyText(rogue.publicKey, sealSigningText(body), signature)).toBe(false);
      expect(await opened.store.headPosition()).toBe(7);
      seals.push(entry);
    });

    it('POST /v1/audit/seals right after: 200, sealed false, the last seal, nothing appended', async () => {
      const response = await post(sealing, '/v1/audit/seals', undefined);
      expect(response.statusCode).toBe(200);
      expect(response.body).toEqual({
        sealed: false,
        reason: 'nothing was appended since the last seal',
        last: seals[0],
      });
      expect(await opened.store.headPosition()).toBe(7);
    });

    it('a second seal starts after the first (covering the first seal event) and chains to its root', async () => {
      await appendWeighings(opened.store, 3);
      const response = await post(sealing, '/v1/audit/seals', undefined);
      expect(response.statusCode).toBe(201);
      const entry = response.body as SealEntry;
      expect(entry.position).toBe(11);
      expect(entry.seal).toMatchObject({
        fromPosition: 7,
        toPosition: 10,
        count: 4,
        root: await rootOf(opened.store, 7, 10),
        previousRoot: seals[0]!.seal.root,
        keyId: first.keyId,
      });
      expect(entry.seal.root).toMatch(HEX64);
      expect(entry.seal.root).not.toBe(seals[0]!.seal.root);
      seals.push(entry);
    });

    it('GET /v1/audit/seals lists the seals newest first; limit keeps the newest', async () => {
      const all = await get(plain, '/v1/audit/seals');
      expect(all.statusCode).toBe(200);
      expect(all.body).toEqual({ seals: [seals[1], seals[0]] });
      const one = await get(plain, '/v1/audit/seals?limit=1');
      expect(one.statusCode).toBe(200);
      expect(one.body).toEqual({ seals: [seals[1]] });
    });

    it.each([
      ['0', 'Too small: expected number to be >=1'],
      ['1001', 'Too big: expected number to be <=1000'],
      ['2.5', 'Invalid input: expected int, received number'],
      ['many', 'Invalid input: expected number, received NaN'],
    ])('GET /v1/audit/seals?limit=%s: 400 problem naming the field', async (limit, message) => {
      const response = await get(plain, `/v1/audit/seals?limit=${limit}`);
      expect(response.statusCode).toBe(400);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      expect(response.body).toEqual(
        problemBody(
          'LEDGER_ERR_INVALID_INPUT',
          'The input is not valid',
          400,
          `querystring.limit: ${message}`,
          {
            field: 'limit',
            errors: [{ field: 'limit', message }],
            instance: `/v1/audit/seals?limit=${limit}`,
          },
        ),
      );
    });

    it('after a rotation: two keys, the second endorsed by the first; currentKeyId follows', async () => {
      const next = await sealer.rotateTo(second);
      expect(await opened.store.headPosition()).toBe(12);
      const response = await get(plain, '/v1/audit/keys');
      expect(response.statusCode).toBe(200);
      const body = response.body as { currentKeyId: string | null; keys: Key[] };
      expect(body.currentKeyId).toBe(second.keyId);
      expect(body.keys.map((k) => [k.keyId, k.previousKeyId])).toEqual([
        [first.keyId, null],
        [second.keyId, first.keyId],
      ]);
      const endorsed = body.keys[1]!;
      expect(endorsed.publicKey).toBe(second.publicKey);
      expect(normalisePublicKey(endorsed.publicKeyPem)).toBe(second.publicKey);
      expect(endorsed.endorsement).toMatch(BASE64);
      expect(verifyText(first.publicKey, keyEndorsementText(endorsed), endorsed.endorsement!)).toBe(
        true,
      );
      expect(
        verifyText(second.publicKey, keyEndorsementText(endorsed), endorsed.endorsement!),
      ).toBe(false);

      // A server sealing with the new key names it current.
      rotated = await build(next);
      const fromRotated = await get(rotated, '/v1/audit/keys');
      expect((fromRotated.body as { currentKeyId: string }).currentKeyId).toBe(second.keyId);
      expect((fromRotated.body as { keys: Key[] }).keys).toEqual(body.keys);

      const sealed = await post(rotated, '/v1/audit/seals', undefined);
      expect(sealed.statusCode).toBe(201);
      const entry = sealed.body as SealEntry;
      expect(entry.position).toBe(13);
      expect(entry.seal).toMatchObject({
        fromPosition: 11,
        toPosition: 12,
        count: 2,
        root: await rootOf(opened.store, 11, 12),
        previousRoot: seals[1]!.seal.root,
        keyId: second.keyId,
      });
      const { signature, ...signed } = entry.seal;
      expect(verifyText(second.publicKey, sealSigningText(signed), signature)).toBe(true);
      seals.push(entry);
    });

    it('GET /v1/audit/verify: ok, the first key trusted on first use, the second by endorsement', async () => {
      const report = await verify();
      expect(report).toMatchObject({
        ok: true,
        events: 13,
        streams: 4,
        firstPosition: 1,
        lastPosition: 13,
        sealsVerified: 3,
        sealedUpTo: 12,
        keys: [
          { keyId: first.keyId, trustedBecause: 'first key in the log (trusted on first use)' },
          { keyId: second.keyId, trustedBecause: `endorsed by ${first.keyId}` },
        ],
        firstBreak: null,
        breaks: [],
        breakCount: 0,
      });
      expect(report.notes).toEqual([
        `no trusted key was given: the log's first sealing key ${first.keyId} was trusted on first use`,
        'positions 13…13 are not sealed yet: their chains are checked, but a removal of events at the end of the log would not show until they are',
      ]);
    });

    it('GET /v1/audit/verify?publicKey=…: the key is given by the auditor (base64 with + / = encoded)', async () => {
      const report = await verify(`?publicKey=${q(first.publicKey)}`);
      expect(report.ok).toBe(true);
      expect(report.sealsVerified).toBe(3);
      expect(report.keys).toEqual([
        { keyId: first.keyId, trustedBecause: 'given by the auditor' },
        { keyId: second.keyId, trustedBecause: `endorsed by ${first.keyId}` },
      ]);
      expect(report.notes.some((n) => n.includes('trusted on first use'))).toBe(false);

      const both = await verify(
        `?publicKey=${q(first.publicKey)}&publicKey=${q(second.publicKey)}`,
      );
      expect(both.ok).toBe(true);
      expect(both.keys).toEqual([
        { keyId: first.keyId, trustedBecause: 'given by the auditor' },
        { keyId: second.keyId, trustedBecause: 'given by the auditor' },
      ]);
    });

    it("GET /v1/audit/verify?publicKey=<someone else's key>: the log's keys and seals are not trusted", async () => {
      const report = await verify(`?publicKey=${q(rogue.publicKey)}`);
      expect(report.ok).toBe(false);
      // No seal counts as verified when its signature is not trusted.
      expect(report).toMatchObject({ sealsVerified: 0, sealedUpTo: 0 });
      expect(report.firstBreak).toMatchObject({
        kind: 'key',
        position: 6,
        streamId: 'audit-keys',
        message: `key ${first.keyId} is neither trusted nor endorsed by a trusted key`,
      });
      expect(report.breaks.map((b) => [b.kind, b.position])).toEqual([
        ['key', 6],
        ['seal', 7],
        ['seal', 11],
        ['key', 12],
        ['seal', 13],
      ]);
      expect(report.breaks[1]!.message).toBe(
        `the seal is signed with key ${first.keyId}, which is not trusted`,
      );
      expect(report.breaks[4]!.message).toBe(
        `the seal is signed with key ${second.keyId}, which is not trusted`,
      );
      expect(report.keys).toEqual([{ keyId: rogue.keyId, trustedBecause: 'given by the auditor' }]);
    });

    it('GET /v1/audit/verify?heldSeal=<position>:<root> of real seals: ok', async () => {
      const [s1, s2, s3] = seals as [SealEntry, SealEntry, SealEntry];
      const one = await verify(`?heldSeal=${s1.position}:${s1.seal.root}`);
      expect(one.ok).toBe(true);
      expect(one.breakCount).toBe(0);
      const all = await verify(
        `?publicKey=${q(first.publicKey)}` +
          [s1, s2, s3].map((s) => `&heldSeal=${s.position}:${s.seal.root}`).join(''),
      );
      expect(all.ok).toBe(true);
      expect(all.sealsVerified).toBe(3);
    });

    it('GET /v1/audit/verify with a held seal beyond the head: ok false, a truncated break', async () => {
      const root = 'ab'.repeat(32);
      const report = await verify(`?heldSeal=20:${root}`);
      expect(report.ok).toBe(false);
      expect(report.breakCount).toBe(1);
      expect(report.breaks).toEqual([
        {
          kind: 'truncated',
          position: 20,
          streamId: 'audit-seals',
          revision: null,
          message:
            'the log ends at position 13, but the auditor holds a seal at position 20: the log was cut back',
          expected: root,
        },
      ]);
      // Seals themselves still verify: only the held one is missing.
      expect(report.sealsVerified).toBe(3);
    });

    it('GET /v1/audit/verify with a held seal whose root is not the one in the log: a seal break', async () => {
      const real = seals[1]!;
      const root = 'cd'.repeat(32);
      const report = await verify(`?heldSeal=${real.position}:${root}`);
      expect(report.ok).toBe(false);
      expect(report.breaks).toEqual([
        {
          kind: 'seal',
          position: real.position,
          streamId: 'audit-seals',
          revision: 1,
          message: 'this is not the seal the auditor holds for this position',
          expected: root,
          found: real.seal.root,
        },
      ]);
    });

    it.each([
      ['abc'],
      ['7'],
      ['7:ABCDEF'],
      [`7:${'A'.repeat(64)}`],
      [`-7:${'a'.repeat(64)}`],
      [`7:${'a'.repeat(63)}`],
    ])('GET /v1/audit/verify?heldSeal=%s: 400 naming the field', async (held) => {
      const url = `/v1/audit/verify?heldSeal=${q(held)}`;
      const response = await get(plain, url);
      expect(response.statusCode).toBe(400);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({
        type: 'https://waste-ledger.example/problems/ledger-err-invalid-input',
        title: 'The input is not valid',
        status: 400,
        code: 'LEDGER_ERR_INVALID_INPUT',
        field: 'heldSeal',
        instance: url,
      });
      expect((response.body as { detail: string }).detail).toMatch(/^querystring\.heldSeal: /);
    });

    it('GET /v1/audit/export: NDJSON header, one line per event, end line; verifies offline', async () => {
      const response = await raw(plain, 'GET', '/v1/audit/export');
      expect(response.statusCode).toBe(200);
      expect(response.contentType).toBe('application/x-ndjson; charset=utf-8');
      expect(response.body.endsWith('\n')).toBe(true);
      const lines = response.body.slice(0, -1).split('\n');
      expect(lines).toHaveLength(1 + 13 + 1);
      const header = JSON.parse(lines[0]!) as Record<string, unknown>;
      expect(header).toEqual({
        format: 'waste-ledger-export',
        version: 1,
        fromPosition: 1,
        toPosition: 13,
        exportedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown,
        sealingKeys: [
          { keyId: first.keyId, publicKey: first.publicKey },
          { keyId: second.keyId, publicKey: second.publicKey },
        ],
      });
      // The event lines are the stored events, chained, in position order.
      const stored = await opened.store.readChained({ after: 0, maxCount: 100 });
      // The database writes the lines (its own spacing): the same JSON, field for field.
      expect(lines.slice(1, -1).map((line) => JSON.parse(line) as unknown)).toEqual(
        stored.map((e) => JSON.parse(exportEventLine(e)) as unknown),
      );
      expect(JSON.parse(lines.at(-1)!)).toEqual({ end: true, events: 13 });

      const offline = await verifyExportLines(lines, { trustedKeys: [first.publicKey] });
      expect(offline).toMatchObject({
        ok: true,
        events: 13,
        firstPosition: 1,
        lastPosition: 13,
        sealsVerified: 3,
        sealedUpTo: 12,
        breakCount: 0,
        header,
      });
    });

    it('GET /v1/audit/export?from=8&to=12: a range export whose header says so', async () => {
      const response = await raw(plain, 'GET', '/v1/audit/export?from=8&to=12');
      expect(response.statusCode).toBe(200);
      expect(response.contentType).toBe('application/x-ndjson; charset=utf-8');
      const lines = response.body.slice(0, -1).split('\n');
      expect(lines).toHaveLength(1 + 5 + 1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ fromPosition: 8, toPosition: 12 });
      expect(
        lines.slice(1, -1).map((l) => (JSON.parse(l) as { position: number }).position),
      ).toEqual([8, 9, 10, 11, 12]);
      expect(JSON.parse(lines.at(-1)!)).toEqual({ end: true, events: 5 });
      const offline = await verifyExportLines(lines, { trustedKeys: [first.publicKey] });
      expect(offline.ok).toBe(true);
      expect(offline.events).toBe(5);
      expect(offline.firstPosition).toBe(8);
      expect(offline.lastPosition).toBe(12);
      // The seal at 11 reaches back to 7, before the range: noted, not checked.
      expect(offline.notes).toContain(
        'seal at 11 reaches back before position 8 and was not checked',
      );
      expect(offline.sealsVerified).toBe(0);
    });

    it('GET /v1/audit/export?to=<beyond the head> stops at the head; from=0 is refused', async () => {
      const beyond = await raw(plain, 'GET', '/v1/audit/export?from=12&to=99');
      expect(beyond.statusCode).toBe(200);
      const lines = beyond.body.slice(0, -1).split('\n');
      expect(JSON.parse(lines[0]!)).toMatchObject({ fromPosition: 12, toPosition: 13 });
      expect(JSON.parse(lines.at(-1)!)).toEqual({ end: true, events: 2 });

      const zero = await get(plain, '/v1/audit/export?from=0');
      expect(zero.statusCode).toBe(400);
      expect(zero.contentType).toMatch(/^application\/problem\+json/);
      expect(zero.body).toMatchObject({ code: 'LEDGER_ERR_INVALID_INPUT', field: 'from' });
    });
  });
}
