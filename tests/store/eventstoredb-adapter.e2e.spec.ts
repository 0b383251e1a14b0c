/**
 * What is particular to the EventStoreDB adapter, beyond the shared contract: how the ledger's
 * events look inside EventStoreDB, the non-atomic batch, the position index being derived data,
 * and the audit trail (hash chain in metadata, seals, verification, export) working unchanged.
 * Runs on the protocol fake, and on a real server as well when EVENTSTORE_URL is set.
 */
import { randomUUID } from 'node:crypto';
import { EventStoreDBClient, FORWARDS, START, jsonEvent } from '@eventstore/db-client';
import { afterAll, describe, expect, it } from 'vitest';
import { exportLines, verifyStore } from '../../src/audit/log-audit.js';
import { Sealer } from '../../src/audit/sealer.js';
import { verifyExportLines } from '../../src/audit/verify-export.js';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { chainHash, contentHashOfCanonical, GENESIS_HASH } from '../../src/integrity/event-hash.js';
import { generateSigningKey } from '../../src/integrity/signing.js';
import { WrongExpectedRevisionError } from '../../src/store/errors.js';
import { ledgerPartOf } from '../../src/store/eventstoredb/envelope.js';
import type { EventStore, EventToAppend } from '../../src/store/port.js';
import {
  EVENTSTORE_URL,
  closeSharedProtocolFake,
  openEventStoreDbTestStore,
  sharedProtocolFake,
  type EventStoreDbTestStore,
} from '../support/eventstoredb.js';

const servers = [
  { server: 'the protocol fake', url: async () => (await sharedProtocolFake()).connectionString },
  ...(EVENTSTORE_URL === undefined
    ? []
    : [{ server: 'a real EventStoreDB', url: () => Promise.resolve(EVENTSTORE_URL ?? '') }]),
];

afterAll(closeSharedProtocolFake);

function event(type: string, data: Record<string, string | number>): EventToAppend {
  return { id: randomUUID(), type, data, metadata: { actor: 'station-1' } };
}

async function readAllLedger(store: EventStore) {
  return (await store.readAll({ after: 0, maxCount: 10_000 })).events;
}

describe.each(servers)('EventStoreDB adapter on $server', ({ url }) => {
  async function withStore(test: (opened: EventStoreDbTestStore) => Promise<void>): Promise<void> {
    const opened = await openEventStoreDbTestStore(await url());
    try {
      await test(opened);
    } finally {
      await opened.close();
    }
  }

  it('stores each event in <namespace>:<stream>, with the hash chain in its metadata', () =>
    withStore(async ({ store }) => {
      const first = event('WeighedIn', { grossKg: 18_000 });
      const second = event('WeighedOut', { tareKg: 7_000 });
      await store.append('ticket-S1-1', [first, second], { expectedRevision: 'no_stream' });

      const client = EventStoreDBClient.connectionString(await url());
      try {
        const ledger = await store.readStream('ticket-S1-1');
        const namespaced = [];
        for await (const r of client.readAll({ direction: FORWARDS, fromPosition: START })) {
          if (r.event?.streamId.endsWith(':ticket-S1-1')) namespaced.push(r.event);
        }
        expect(namespaced.map((e) => [e.type, e.revision, e.id])).toEqual([
          ['WeighedIn', 0n, first.id],
          ['WeighedOut', 1n, second.id],
        ]);
        expect(namespaced[0]?.streamId).toMatch(/^t[0-9a-f]{10}:ticket-S1-1$/);
        // The chain recomputed from what EventStoreDB holds: content hash, then link.
        let previous = GENESIS_HASH;
        namespaced.forEach((stored, k) => {
          const part = ledgerPartOf(stored.metadata);
          expect(part?.metadata).toEqual({ actor: 'station-1' });
          const content = contentHashOfCanonical(
            'ticket-S1-1',
            stored.id,
            stored.type,
            canonicalJson(stored.data),
            canonicalJson({ actor: 'station-1' }),
          );
          expect(part?.ledger.previousHash).toBe(previous);
          expect(part?.ledger.hash).toBe(
            chainHash(content, previous, part?.ledger.recordedAt ?? '', k),
          );
          expect(ledger[k]?.recordedAt).toBe(part?.ledger.recordedAt);
          previous = part?.ledger.hash ?? '';
        });
      } finally {
        await client.dispose();
      }
    }));

  it('ignores events of other namespaces and of other applications in $all', () =>
    withStore(async ({ store }) => {
      const client = EventStoreDBClient.connectionString(await url());
      try {
        await client.appendToStream(`other-app-${randomUUID()}`, [
          jsonEvent({ type: 'Unrelated', data: { x: 1 } }),
        ]);
        await store.append('a', [event('Mine', { n: 1 })], { expectedRevision: 'no_stream' });
        await client.appendToStream(`zz:${randomUUID()}`, [
          jsonEvent({ type: 'Foreign', data: { x: 2 } }),
        ]);
        await store.append('b', [event('Mine', { n: 2 })], { expectedRevision: 'no_stream' });
      } finally {
        await client.dispose();
      }
      const all = await readAllLedger(store);
      expect(all.map((e) => [e.position, e.streamId, e.type])).toEqual([
        [1, 'a', 'Mine'],
        [2, 'b', 'Mine'],
      ]);
      expect(await store.headPosition()).toBe(2);
    }));

  it('appendMany checks every expectation before writing: one wrong, nothing written', () =>
    withStore(async ({ store }) => {
      await store.append('s2', [event('E', { n: 1 })], { expectedRevision: 'no_stream' });
      await expect(
        store.appendMany([
          { streamId: 's1', events: [event('E', { n: 2 })], expectedRevision: 'no_stream' },
          { streamId: 's2', events: [event('E', { n: 3 })], expectedRevision: 'no_stream' },
        ]),
      ).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      expect(await store.streamRevision('s1')).toBeNull();
      expect(await store.headPosition()).toBe(1);
    }));

  it('a batch cut short (its first stream written) is completed by sending it again', () =>
    withStore(async ({ store }) => {
      const a = [event('E', { n: 1 }), event('E', { n: 2 })];
      const b = [event('E', { n: 3 })];
      // As if the process died after the first stream of the batch was appended.
      await store.append('cut-a', a, { expectedRevision: 'no_stream' });
      const results = await store.appendMany([
        { streamId: 'cut-a', events: a, expectedRevision: 'no_stream' },
        { streamId: 'cut-b', events: b, expectedRevision: 'no_stream' },
      ]);
      expect(results).toEqual([
        { streamId: 'cut-a', nextExpectedRevision: 1, position: 2, idempotent: true },
        { streamId: 'cut-b', nextExpectedRevision: 0, position: 3, idempotent: false },
      ]);
      expect(store.capabilities.atomicMultiStreamAppend).toBe(false);
    }));

  it('the position index is derived data: a fresh index rebuilt from $all is identical', () =>
    withStore(async (opened) => {
      for (let i = 0; i < 12; i++) {
        await opened.store.append(`r-${i % 4}`, [event('E', { i })], { expectedRevision: 'any' });
      }
      const before = await readAllLedger(opened.store);
      expect(before.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      // A second store over the same namespace, whose index starts empty: it catches up.
      const rebuilt = await opened.openWithFreshIndex();
      try {
        expect(await readAllLedger(rebuilt.store)).toEqual(before);
        const sixth = before[5];
        expect(await rebuilt.store.streamsOfEventIds([sixth?.id ?? ''])).toEqual(
          new Map([[sixth?.id, [sixth?.streamId]]]),
        );
        expect(await rebuilt.store.readStream('r-1')).toEqual(await opened.store.readStream('r-1'));
      } finally {
        await rebuilt.close();
      }
    }));

  it('seals, verifies and exports as on SQL; a forged event appended behind its back is found', () =>
    withStore(async ({ store, namespace }) => {
      const key = generateSigningKey();
      const sealer = new Sealer(store, key);
      await sealer.registerKey();
      for (let i = 0; i < 6; i++) {
        await store.append(`v-${i % 3}`, [event('E', { i })], { expectedRevision: 'any' });
      }
      const seal = await sealer.seal();
      expect(seal?.seal.toPosition).toBe(7);
      const trustedKeys = [key.publicKey];
      expect(await verifyStore(store, { trustedKeys })).toMatchObject({
        ok: true,
        breaks: [],
        sealsVerified: 1,
      });
      let text = '';
      for await (const chunk of exportLines(store)) text += chunk;
      const lines = text.slice(0, -1).split('\n');
      expect(await verifyExportLines(lines, { trustedKeys })).toMatchObject({ ok: true });

      // Someone with write access to EventStoreDB appends to a ledger stream directly, with a
      // well-formed envelope whose hashes are copied from the event before it: the chain does
      // not link.
      const last = (await store.readStream('v-0', { direction: 'backwards', maxCount: 1 }))[0];
      const stored = (
        await store.readChained({ after: (last?.position ?? 1) - 1, maxCount: 1 })
      )[0];
      const client = EventStoreDBClient.connectionString(await url());
      try {
        await client.appendToStream(
          `${namespace}:v-0`,
          [
            jsonEvent({
              type: 'E',
              data: { i: 99 },
              metadata: {
                ledger: {
                  v: 1,
                  recordedAt: new Date().toISOString(),
                  previousHash: stored?.previousHash ?? '',
                  hash: stored?.hash ?? '',
                },
                metadata: {},
              },
            }),
          ],
          { expectedRevision: BigInt(last?.revision ?? 0) },
        );
      } finally {
        await client.dispose();
      }
      const report = await verifyStore(store, { trustedKeys });
      expect(report.ok).toBe(false);
      expect(report.firstBreak).toMatchObject({ kind: 'link', streamId: 'v-0', revision: 2 });
    }));
});
