import { v4 as uuidv4 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStore } from '../../src/audit/log-audit.js';
import { lastSeal, Sealer } from '../../src/audit/sealer.js';
import { LOG_SEALED, SEALS_STREAM, sealSigningText } from '../../src/audit/seal-events.js';
import { leafHash, MerkleBuilder } from '../../src/integrity/merkle.js';
import { generateSigningKey, signText } from '../../src/integrity/signing.js';
import { openPGliteStore } from '../../src/store/pglite/pglite-store.js';
import type { EventStore } from '../../src/store/port.js';

/**
 * After a rotation the old key is retired: a sealer still holding it refuses to seal, and a seal
 * signed with it anyway (by whoever kept a copy) is a break, although the key was once trusted.
 */
describe('a retired sealing key', () => {
  let store: EventStore;
  const oldKey = generateSigningKey();
  const newKey = generateSigningKey();

  beforeAll(async () => {
    ({ store } = await openPGliteStore());
    for (let i = 0; i < 3; i++) {
      await store.append(`trip-${i}`, [{ id: uuidv4(), type: 'T', data: { i } }], {
        expectedRevision: 'no_stream',
      });
    }
    const first = new Sealer(store, oldKey);
    await first.registerKey();
    await first.seal();
    await first.rotateTo(newKey);
  });
  afterAll(() => store.close());

  it('cannot seal through the Sealer any more', async () => {
    await expect(new Sealer(store, oldKey).seal()).rejects.toThrow(/not the current one/);
  });

  it('signs a seal that verification refuses, at the seal', async () => {
    const last = await lastSeal(store);
    const head = await store.headPosition();
    const events = await store.readChained({ after: last!.seal.toPosition, maxCount: 100 });
    const tree = new MerkleBuilder();
    for (const e of events) tree.push(leafHash(e.position, e.hash));
    const body = {
      fromPosition: last!.seal.toPosition + 1,
      toPosition: head,
      count: tree.count,
      root: tree.root(),
      previousRoot: last!.seal.root,
      keyId: oldKey.keyId,
    };
    const forged = { ...body, signature: signText(oldKey, sealSigningText(body)) };
    const { position } = await store.append(
      SEALS_STREAM,
      [{ id: uuidv4(), type: LOG_SEALED, data: forged }],
      { expectedRevision: last!.event.revision },
    );
    const report = await verifyStore(store, { trustedKeys: [oldKey.publicKey] });
    expect(report.ok).toBe(false);
    expect(report.breakCount).toBe(1);
    expect(report.firstBreak).toMatchObject({ kind: 'seal', position });
    expect(report.firstBreak?.message).toContain(`which key ${newKey.keyId} had replaced`);
    // The first seal (signed before the rotation) still counts.
    expect(report.sealsVerified).toBe(1);
  });
});
