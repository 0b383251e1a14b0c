/**
 * The hashed texts are exactly the RFC 8785 canonical JSON of the documented objects, whatever
 * the stream id, type or payload hold (quotes, backslashes, control and astral characters):
 * another JCS implementation recomputes the same hashes from an export.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { chainHash, contentHashOfCanonical } from '../../src/integrity/event-hash.js';

const SEED = 20_260_513;
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const text = fc.string({ unit: 'binary', maxLength: 12 });
const object = fc.dictionary(text, fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' }));
const hex64 = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => Buffer.from(b).toString('hex'));

describe('event hash texts', () => {
  it('content hash = SHA-256 of the canonical JSON of {data, eventId, metadata, streamId, type}', () => {
    fc.assert(
      fc.property(text, fc.uuid(), text, object, object, (streamId, id, type, data, metadata) => {
        const eventId = id.toUpperCase();
        expect(
          contentHashOfCanonical(
            streamId,
            eventId,
            type,
            canonicalJson(data),
            canonicalJson(metadata),
          ),
        ).toBe(
          sha256(canonicalJson({ type, streamId, metadata, eventId: id.toLowerCase(), data })),
        );
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('event hash = SHA-256 of the canonical JSON of {contentHash, previousHash, recordedAt, revision}', () => {
    const recordedAt = fc
      .date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true })
      .map((d) => d.toISOString());
    fc.assert(
      fc.property(hex64, hex64, recordedAt, fc.nat(), (content, previous, at, revision) => {
        expect(chainHash(content, previous, at, revision)).toBe(
          sha256(
            canonicalJson({
              revision,
              recordedAt: at,
              previousHash: previous,
              contentHash: content,
            }),
          ),
        );
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
