import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPGliteStore } from '../../src/store/pglite/pglite-store.js';
import type { EventToAppend } from '../../src/store/port.js';
import { pgliteHarness } from '../support/databases.js';
import { describeEventStoreContract } from './contract.js';

describeEventStoreContract(pgliteHarness);

describe('PGlite store persisted to a folder', () => {
  it('keeps its events after close and reopen', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ledger-pglite-'));
    const event = (n: number): EventToAppend => ({
      id: randomUUID(),
      type: 'WeighingRecorded',
      data: { n },
      metadata: { actor: 'key-1' },
    });
    try {
      const first = await openPGliteStore({ dataDir });
      await first.store.append('weighing-1', [event(1), event(2)], {
        expectedRevision: 'no_stream',
      });
      await first.store.append('weighing-2', [event(3)], { expectedRevision: 'no_stream' });
      const before = await first.store.readAll({ after: 0 });
      expect(before.events.map((e) => [e.streamId, e.revision, e.position])).toEqual([
        ['weighing-1', 0, 1],
        ['weighing-1', 1, 2],
        ['weighing-2', 0, 3],
      ]);
      await first.store.close();

      const second = await openPGliteStore({ dataDir });
      try {
        expect(await second.store.readAll({ after: 0 })).toEqual(before);
        expect(await second.store.headPosition()).toBe(3);
        expect(await second.store.streamRevision('weighing-1')).toBe(1);
        // Idempotency and expectations see the persisted events too.
        const [resent] = before.events.slice(2);
        expect(
          await second.store.append(
            'weighing-2',
            [{ id: resent?.id ?? '', type: 'WeighingRecorded', data: { n: 3 } }],
            { expectedRevision: 'no_stream' },
          ),
        ).toEqual({ nextExpectedRevision: 0, position: 3, idempotent: true });
        expect(
          await second.store.append('weighing-1', [event(4)], { expectedRevision: 1 }),
        ).toEqual({ nextExpectedRevision: 2, position: 4, idempotent: false });
      } finally {
        await second.store.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
