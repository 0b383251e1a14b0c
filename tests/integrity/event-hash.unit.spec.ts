/**
 * The two documented hash steps (integrity/event-hash.ts), checked against texts written out
 * by hand and digests pinned with coreutils (`printf '%s' '<text>' | sha256sum`): what an
 * auditor with nothing but the documentation would compute.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chainHash, contentHashOfCanonical, GENESIS_HASH } from '../../src/integrity/event-hash.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('event hashes', () => {
  it('content hash: SHA-256 of {"data","eventId","metadata","streamId","type"}, id in lower case', () => {
    const text =
      '{"data":{"a":1},"eventId":"0b4e2f8a-7c1d-4e5f-9a6b-3c2d1e0f9a8b","metadata":{},' +
      '"streamId":"weighing-1","type":"WeighingRecorded"}';
    const hash = contentHashOfCanonical(
      'weighing-1',
      '0B4E2F8A-7C1D-4E5F-9A6B-3C2D1E0F9A8B', // the store reads uuids back in lower case
      'WeighingRecorded',
      '{"a":1}',
      '{}',
    );
    expect(hash).toBe(sha256(text));
    expect(hash).toBe('06a94bb1e5ed9d970ddb9a656f06ed25552631b96913793bf5b0ecfb0f81a11f');
  });

  it('event hash: SHA-256 of {"contentHash","previousHash","recordedAt","revision"}', () => {
    const content = sha256('foo');
    const text =
      `{"contentHash":"${content}","previousHash":"${'0'.repeat(64)}",` +
      '"recordedAt":"2024-05-01T10:00:00.123Z","revision":0}';
    const hash = chainHash(content, GENESIS_HASH, '2024-05-01T10:00:00.123Z', 0);
    expect(hash).toBe(sha256(text));
    expect(hash).toBe('d68e7ef1ecaac95886551468cde15ef88ce134f5a7e06c7757a359013b68f991');
  });

  it('starts every stream at 64 zeros', () => {
    expect(GENESIS_HASH).toBe('0'.repeat(64));
  });
});
