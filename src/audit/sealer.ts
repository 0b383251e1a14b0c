import { v4 as uuidv4 } from 'uuid';
import { leafHash, MerkleBuilder } from '../integrity/merkle.js';
import { signText, type SigningKey } from '../integrity/signing.js';
import type { EventStore, RecordedEvent } from '../store/port.js';
import {
  KEYS_STREAM,
  keyEndorsementText,
  LOG_SEALED,
  logSealedSchema,
  SEALING_KEY_ADDED,
  sealingKeyAddedSchema,
  SEALS_STREAM,
  sealSigningText,
  type LogSealed,
  type SealingKeyAdded,
} from './seal-events.js';

const PAGE = 10_000;

export interface SealResult {
  readonly seal: LogSealed;
  /** Position of the seal event itself. */
  readonly position: number;
}

/** The seal on record last, with where it stands, or undefined before the first seal. */
export async function lastSeal(
  store: EventStore,
): Promise<{ seal: LogSealed; event: RecordedEvent } | undefined> {
  const [event] = await store.readStream(SEALS_STREAM, { direction: 'backwards', maxCount: 1 });
  return event === undefined ? undefined : { seal: logSealedSchema.parse(event.data), event };
}

export async function sealingKeys(store: EventStore): Promise<SealingKeyAdded[]> {
  const events = await store.readStream(KEYS_STREAM);
  return events
    .filter((e) => e.type === SEALING_KEY_ADDED)
    .map((e) => sealingKeyAddedSchema.parse(e.data));
}

/**
 * Seals the log: one signed Merkle root over every event since the last seal. Runs on demand
 * (`npm run audit -- seal`, `POST /v1/audit/seals`) and periodically in the server. Two sealers
 * racing are safe: each appends with the seal stream's revision as read, and one of them gets a
 * wrong-expected-revision error and seals nothing.
 */
export class Sealer {
  constructor(
    private readonly store: EventStore,
    private readonly key: SigningKey,
  ) {}

  get keyId(): string {
    return this.key.keyId;
  }

  /**
   * Records this sealer's key if the log has none yet (the first key is the ledger's own).
   * A different key on record means the configured key was replaced without `rotate-key`:
   * sealing with it would produce seals no auditor can trust, so that is refused.
   */
  async registerKey(): Promise<void> {
    const keys = await sealingKeys(this.store);
    if (keys.some((k) => k.keyId === this.key.keyId)) return;
    if (keys.length > 0) {
      throw new Error(
        `the sealing key ${this.key.keyId} is not on record (the log's keys: ` +
          `${keys.map((k) => k.keyId).join(', ')}); rotate to it with ` +
          '`npm run audit -- rotate-key --old <old key file> --new <new key file>`',
      );
    }
    await this.store.append(
      KEYS_STREAM,
      [
        {
          id: uuidv4(),
          type: SEALING_KEY_ADDED,
          data: {
            keyId: this.key.keyId,
            publicKey: this.key.publicKey,
            previousKeyId: null,
            endorsement: null,
          },
          metadata: { actor: 'sealer' },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
  }

  /** Seals everything since the last seal; undefined when there is nothing new to seal. */
  async seal(onProgress?: (done: number, total: number) => void): Promise<SealResult | undefined> {
    const current = (await sealingKeys(this.store)).at(-1)?.keyId;
    if (current !== this.key.keyId) {
      throw new Error(
        `the sealing key ${this.key.keyId} is not the current one (${current ?? 'none on record'}): ` +
          'seals signed with it would not verify',
      );
    }
    const last = await lastSeal(this.store);
    const head = await this.store.headPosition();
    const from = last === undefined ? 1 : last.seal.toPosition + 1;
    // Nothing but the last seal itself since the last seal: sealing it alone would seal forever.
    if (head < from || (last !== undefined && head === last.event.position)) return undefined;
    const tree = new MerkleBuilder();
    for (let after = from - 1; after < head;) {
      const events = await this.store.readChained({
        after,
        maxCount: Math.min(PAGE, head - after),
      });
      if (events.length === 0) throw new Error(`the log has no event after position ${after}`);
      for (const e of events) tree.push(leafHash(e.position, e.hash));
      after = events[events.length - 1]!.position;
      onProgress?.(after - from + 1, head - from + 1);
    }
    const body = {
      fromPosition: from,
      toPosition: head,
      count: tree.count,
      root: tree.root(),
      previousRoot: last?.seal.root ?? null,
      keyId: this.key.keyId,
    };
    const seal: LogSealed = { ...body, signature: signText(this.key, sealSigningText(body)) };
    const result = await this.store.append(
      SEALS_STREAM,
      [{ id: uuidv4(), type: LOG_SEALED, data: seal, metadata: { actor: 'sealer' } }],
      { expectedRevision: last === undefined ? 'no_stream' : last.event.revision },
    );
    return { seal, position: result.position };
  }

  /**
   * Replaces the sealing key: the new key is recorded with the old key's signature over it, so
   * an auditor who trusts the first key can follow every rotation. Returns a sealer that signs
   * with the new key.
   */
  async rotateTo(next: SigningKey): Promise<Sealer> {
    const keys = await sealingKeys(this.store);
    if (keys.at(-1)?.keyId !== this.key.keyId) {
      throw new Error(
        `only the current sealing key can endorse its successor (current: ${keys.at(-1)?.keyId ?? 'none'})`,
      );
    }
    const body = { keyId: next.keyId, previousKeyId: this.key.keyId, publicKey: next.publicKey };
    const record: SealingKeyAdded = {
      ...body,
      endorsement: signText(this.key, keyEndorsementText(body)),
    };
    await this.store.append(
      KEYS_STREAM,
      [{ id: uuidv4(), type: SEALING_KEY_ADDED, data: record, metadata: { actor: 'sealer' } }],
      { expectedRevision: keys.length - 1 },
    );
    return new Sealer(this.store, next);
  }
}
