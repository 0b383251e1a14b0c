/**
 * Logs built in memory, hashed, chained and sealed as the ledger does, for tests of the verifier
 * alone (no database): a seal can come any number of events after the range it seals ends, as
 * when events are appended while the sealer computes it.
 */
import {
  KEYS_STREAM,
  LOG_SEALED,
  SEALING_KEY_ADDED,
  SEALS_STREAM,
  sealSigningText,
  type LogSealed,
} from '../../src/audit/seal-events.js';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { chainHash, contentHashOfCanonical, GENESIS_HASH } from '../../src/integrity/event-hash.js';
import { leafHash, MerkleBuilder } from '../../src/integrity/merkle.js';
import { signText, type SigningKey } from '../../src/integrity/signing.js';
import type { ChainedEvent, JsonObject } from '../../src/store/port.js';

export class SyntheticLog {
  readonly events: ChainedEvent[] = [];
  readonly #tips = new Map<string, { revision: number; hash: string }>();
  /** The tree of the positions since the last seal's range. */
  #range = new MerkleBuilder();
  #rangeFrom = 1;
  #lastRoot: string | null = null;
  /** A fixed clock: one millisecond per event. */
  #time = Date.UTC(2026, 0, 1);

  /** Starts the log with the key's record, as `Sealer.registerKey` does. */
  constructor(private readonly key: SigningKey) {
    this.append(KEYS_STREAM, SEALING_KEY_ADDED, {
      keyId: key.keyId,
      publicKey: key.publicKey,
      previousKeyId: null,
      endorsement: null,
    });
  }

  get head(): number {
    return this.events.length;
  }

  append(streamId: string, type = 'Recorded', data: JsonObject = { n: this.head }): ChainedEvent {
    const position = this.head + 1;
    const tip = this.#tips.get(streamId);
    const revision = tip === undefined ? 0 : tip.revision + 1;
    const previousHash = tip?.hash ?? GENESIS_HASH;
    const id = `00000000-0000-4000-8000-${position.toString(16).padStart(12, '0')}`;
    const metadata = { actor: 'synthetic' };
    const recordedAt = new Date((this.#time += 1)).toISOString();
    const content = contentHashOfCanonical(
      streamId,
      id,
      type,
      canonicalJson(data),
      canonicalJson(metadata),
    );
    const hash = chainHash(content, previousHash, recordedAt, revision);
    const event = {
      position,
      streamId,
      revision,
      id,
      type,
      data,
      metadata,
      recordedAt,
      previousHash,
      hash,
    };
    this.events.push(event);
    this.#tips.set(streamId, { revision, hash });
    this.#range.push(leafHash(position, hash));
    return event;
  }

  /**
   * What the sealer computes over every position since the last seal up to the head. The next
   * range starts after it, whenever `appendSeal` writes this seal.
   */
  takeSeal(): LogSealed {
    const body = {
      fromPosition: this.#rangeFrom,
      toPosition: this.head,
      count: this.#range.count,
      root: this.#range.root(),
      previousRoot: this.#lastRoot,
      keyId: this.key.keyId,
    };
    this.#range = new MerkleBuilder();
    this.#rangeFrom = this.head + 1;
    this.#lastRoot = body.root;
    return { ...body, signature: signText(this.key, sealSigningText(body)) };
  }

  appendSeal(seal: LogSealed): ChainedEvent {
    return this.append(SEALS_STREAM, LOG_SEALED, seal);
  }
}
