import { canonicalJson } from '../integrity/canonical-json.js';
import { chainHash, contentHashOfCanonical, GENESIS_HASH } from '../integrity/event-hash.js';
import { leafHash } from '../integrity/merkle.js';
import { MerkleWindow } from '../integrity/merkle-window.js';
import { publicKeyId, verifyText } from '../integrity/signing.js';
import type { ChainedEvent } from '../store/port.js';
import {
  KEYS_STREAM,
  keyEndorsementText,
  LOG_SEALED,
  logSealedSchema,
  SEALING_KEY_ADDED,
  sealingKeyAddedSchema,
  SEALS_STREAM,
  sealSigningText,
} from './seal-events.js';
import { StreamTips } from './stream-tips.js';

export type BreakKind =
  | 'position_gap'
  | 'position_order'
  | 'revision'
  | 'link'
  | 'hash'
  | 'recorded_time'
  | 'seal'
  | 'key'
  | 'truncated'
  | 'format'
  | 'window';

/** One place where the log is not what was hashed and sealed. */
export interface Break {
  readonly kind: BreakKind;
  readonly position: number | null;
  readonly streamId: string | null;
  readonly revision: number | null;
  /** What differs, in a sentence. */
  readonly message: string;
  readonly expected?: string;
  readonly found?: string;
}

export interface VerificationReport {
  readonly ok: boolean;
  readonly events: number;
  readonly streams: number;
  readonly firstPosition: number | null;
  readonly lastPosition: number | null;
  /** Seals whose root, chain and signature were checked. */
  readonly sealsVerified: number;
  /** Every position up to this one is covered by a verified seal. */
  readonly sealedUpTo: number;
  readonly keys: readonly { keyId: string; trustedBecause: string }[];
  /** The first break is the one to read: later ones often follow from it. */
  readonly firstBreak: Break | null;
  readonly breaks: readonly Break[];
  readonly breakCount: number;
  readonly notes: readonly string[];
}

export interface VerifierOptions {
  /**
   * Public keys (base64 DER) the auditor trusts, as published by the ledger. Without any, the
   * log's first sealing key is trusted on first use, and the report says so.
   */
  readonly trustedKeys?: readonly string[];
  /**
   * The first position to expect (an export of a range starts later): links to events before
   * it, and seals reaching back before it, cannot be checked and are noted.
   */
  readonly startPosition?: number;
  /**
   * Seals the auditor holds from earlier (position of the seal event and its root): each must
   * still be in the log, or the log was cut back.
   */
  readonly heldSeals?: readonly { readonly position: number; readonly root: string }[];
  /**
   * How many of the latest Merkle leaves to keep (40 bytes each; default 2^19, 20 MiB). A seal
   * arrives after the range it seals ends, by as many positions as were appended while it was
   * being computed; a seal that comes more than this many positions after its range ends
   * cannot have its root recomputed, and is a `window` break that says how large to make this.
   */
  readonly merkleWindow?: number;
}

/**
 * The default Merkle window. The sealer (sealer.ts) seals up to the head it reads, so a seal
 * lags its range by the events appended while it reads and hashes that range. Sealing every
 * 60 s under a steady 10 000 events/s (above the HTTP ingestion measured), with the sealer at
 * 30 000–55 000 events/s (readAll alone runs at 55 000), gives ranges of 730 000–900 000 events
 * and lags of 130 000–300 000. A first seal over a long unsealed log, under heavy ingestion,
 * can lag more: its `window` break says how far to raise the option.
 */
export const DEFAULT_MERKLE_WINDOW = 2 ** 19;

const MAX_LISTED_BREAKS = 100;

/**
 * Verifies a log read in position order, one event at a time (from the database or an export),
 * in memory that does not grow with the log: about 56 bytes per stream for its tip
 * (stream-tips.ts), and the latest `merkleWindow` Merkle leaves with a streaming tree for the
 * older ones since the last seal (merkle-window.ts). Everything is recomputed from the events
 * themselves: content hashes, event hashes, links, Merkle roots, signatures. The ledger's own
 * database is not trusted for anything.
 */
export class LogVerifier {
  readonly #tips = new StreamTips();
  readonly #breaks: Break[] = [];
  #breakCount = 0;
  readonly #notes: string[] = [];
  #events = 0;
  #first: number | null = null;
  #expectedPosition: number;
  #previousEvent: ChainedEvent | undefined;
  #recordedBeforePrevious: string | undefined;
  /** Leaves of the positions after the last seal, in order. */
  readonly #window: MerkleWindow;
  #sealedUpTo: number;
  #lastRoot: string | null = null;
  #sealsVerified = 0;
  /** Every position up to this one is covered by seals that all verified. */
  #verifiedUpTo: number;
  #currentKeyId: string | undefined;
  readonly #trusted = new Map<string, { publicKey: string; trustedBecause: string }>();
  readonly #startPosition: number;
  readonly #heldSeals: Map<number, string>;
  readonly #seenHeld = new Set<number>();

  constructor(private readonly options: VerifierOptions = {}) {
    this.#startPosition = options.startPosition ?? 1;
    this.#expectedPosition = this.#startPosition;
    this.#sealedUpTo = this.#startPosition - 1;
    this.#verifiedUpTo = this.#startPosition - 1;
    this.#window = new MerkleWindow(options.merkleWindow ?? DEFAULT_MERKLE_WINDOW);
    for (const publicKey of options.trustedKeys ?? []) {
      this.#trusted.set(publicKeyId(publicKey), {
        publicKey,
        trustedBecause: 'given by the auditor',
      });
    }
    this.#heldSeals = new Map((options.heldSeals ?? []).map((s) => [s.position, s.root]));
  }

  #break(b: Break): void {
    this.#breakCount += 1;
    if (this.#breaks.length < MAX_LISTED_BREAKS) this.#breaks.push(b);
  }

  /** A line of an export that is not an event at all (bad JSON, missing fields). */
  malformed(afterPosition: number | null, message: string): void {
    this.#break({
      kind: 'format',
      position: afterPosition,
      streamId: null,
      revision: null,
      message,
    });
  }

  push(event: ChainedEvent): void {
    const { position, streamId, revision } = event;
    const at = { position, streamId, revision };
    this.#events += 1;
    this.#first ??= position;

    if (position !== this.#expectedPosition) {
      this.#break(
        position > this.#expectedPosition
          ? {
              kind: 'position_gap',
              ...at,
              message:
                position - 1 === this.#expectedPosition
                  ? `position ${this.#expectedPosition} is missing`
                  : `positions ${this.#expectedPosition}…${position - 1} are missing`,
              expected: String(this.#expectedPosition),
              found: String(position),
            }
          : {
              kind: 'position_order',
              ...at,
              message: `position ${position} comes again or out of order after ${this.#expectedPosition - 1}`,
              expected: String(this.#expectedPosition),
              found: String(position),
            },
      );
    }
    this.#expectedPosition = Math.max(this.#expectedPosition, position + 1);

    this.#checkRecordedTime(event);

    const tip = this.#tips.find(streamId);
    if (tip === -1) {
      if (position < this.#startPosition || this.#startPosition === 1) {
        if (revision !== 0) {
          this.#break({
            kind: 'revision',
            ...at,
            message: `the stream's first event has revision ${revision}: revisions 0…${revision - 1} are missing`,
            expected: '0',
            found: String(revision),
          });
        }
        if (event.previousHash !== GENESIS_HASH) {
          this.#break({
            kind: 'link',
            ...at,
            message: "the stream's first event does not start its chain",
            expected: GENESIS_HASH,
            found: event.previousHash,
          });
        }
      }
      // else: a range export; this stream's earlier events are outside it.
    } else {
      const tipRevision = this.#tips.revisionAt(tip);
      if (revision !== tipRevision + 1) {
        this.#break({
          kind: 'revision',
          ...at,
          message: `revision ${revision} follows revision ${tipRevision} in the stream`,
          expected: String(tipRevision + 1),
          found: String(revision),
        });
      }
      const tipHash = this.#tips.hashAt(tip);
      if (event.previousHash !== tipHash) {
        this.#break({
          kind: 'link',
          ...at,
          message: `previous hash is not the hash of the stream's event before (revision ${tipRevision})`,
          expected: tipHash,
          found: event.previousHash,
        });
      }
    }

    const content = contentHashOfCanonical(
      streamId,
      event.id,
      event.type,
      canonicalJson(event.data),
      canonicalJson(event.metadata),
    );
    const recomputed = chainHash(content, event.previousHash, event.recordedAt, revision);
    if (recomputed !== event.hash) {
      this.#break({
        kind: 'hash',
        ...at,
        message:
          'the event is not what was hashed: its id, type, data, metadata, stream, revision or recorded time was changed',
        expected: recomputed,
        found: event.hash,
      });
    }
    // Later links are checked against what is stored, so one altered event is one break.
    if (tip === -1) this.#tips.set(streamId, revision, event.hash);
    else this.#tips.update(tip, revision, event.hash);
    this.#window.push(position, leafHash(position, event.hash));

    if (streamId === KEYS_STREAM && event.type === SEALING_KEY_ADDED) this.#key(event);
    if (streamId === SEALS_STREAM && event.type === LOG_SEALED) this.#seal(event);
  }

  /**
   * Recorded time never goes backwards along the log. When it does at event n, the odd one out
   * is event n−1 if n still follows n−2 (n−1 was recorded too late for its place: moved there),
   * else event n itself (too early for its place).
   */
  #checkRecordedTime(event: ChainedEvent): void {
    const previous = this.#previousEvent;
    const beforePrevious = this.#recordedBeforePrevious;
    this.#recordedBeforePrevious = previous?.recordedAt;
    this.#previousEvent = event;
    if (previous === undefined || event.recordedAt >= previous.recordedAt) return;
    const previousIsOdd = beforePrevious === undefined || event.recordedAt >= beforePrevious;
    const odd = previousIsOdd ? previous : event;
    this.#break({
      kind: 'recorded_time',
      position: odd.position,
      streamId: odd.streamId,
      revision: odd.revision,
      message: previousIsOdd
        ? `recorded later than the event after it (position ${event.position}): out of place in the log`
        : `recorded earlier than the event before it (position ${previous.position}): out of place in the log`,
      expected: previousIsOdd ? `≤ ${event.recordedAt}` : `≥ ${previous.recordedAt}`,
      found: odd.recordedAt,
    });
  }

  #key(event: ChainedEvent): void {
    const at = { position: event.position, streamId: event.streamId, revision: event.revision };
    const parsed = sealingKeyAddedSchema.safeParse(event.data);
    if (!parsed.success) {
      this.#break({
        kind: 'key',
        ...at,
        message: `malformed key record: ${parsed.error.issues[0]?.message ?? ''}`,
      });
      return;
    }
    const key = parsed.data;
    if (publicKeyId(key.publicKey) !== key.keyId) {
      this.#break({
        kind: 'key',
        ...at,
        message: 'the key id is not the digest of the public key',
        expected: publicKeyId(key.publicKey),
        found: key.keyId,
      });
      return;
    }
    if (this.#trusted.has(key.keyId)) {
      this.#currentKeyId = key.keyId;
      return;
    }
    if (key.previousKeyId === null) {
      if (this.#trusted.size === 0 && (this.options.trustedKeys ?? []).length === 0) {
        this.#currentKeyId = key.keyId;
        this.#trusted.set(key.keyId, {
          publicKey: key.publicKey,
          trustedBecause: 'first key in the log (trusted on first use)',
        });
        this.#notes.push(
          `no trusted key was given: the log's first sealing key ${key.keyId} was trusted on first use`,
        );
      } else {
        this.#break({
          kind: 'key',
          ...at,
          message: `key ${key.keyId} is neither trusted nor endorsed by a trusted key`,
        });
      }
      return;
    }
    const endorser = this.#trusted.get(key.previousKeyId);
    if (
      endorser === undefined ||
      key.endorsement === null ||
      !verifyText(endorser.publicKey, keyEndorsementText(key), key.endorsement)
    ) {
      this.#break({
        kind: 'key',
        ...at,
        message: `key ${key.keyId} is not endorsed by a trusted key (claims ${key.previousKeyId})`,
      });
      return;
    }
    this.#trusted.set(key.keyId, {
      publicKey: key.publicKey,
      trustedBecause: `endorsed by ${key.previousKeyId}`,
    });
    this.#currentKeyId = key.keyId;
  }

  #seal(event: ChainedEvent): void {
    const at = { position: event.position, streamId: event.streamId, revision: event.revision };
    const held = this.#heldSeals.get(event.position);
    if (held !== undefined) this.#seenHeld.add(event.position);
    const parsed = logSealedSchema.safeParse(event.data);
    if (!parsed.success) {
      this.#break({
        kind: 'seal',
        ...at,
        message: `malformed seal: ${parsed.error.issues[0]?.message ?? ''}`,
      });
      return;
    }
    const seal = parsed.data;
    if (held !== undefined && held !== seal.root) {
      this.#break({
        kind: 'seal',
        ...at,
        message: 'this is not the seal the auditor holds for this position',
        expected: held,
        found: seal.root,
      });
    }
    const range = `positions ${seal.fromPosition}…${seal.toPosition}`;
    if (seal.fromPosition < this.#startPosition) {
      this.#notes.push(
        `seal at ${event.position} reaches back before position ${this.#startPosition} and was not checked`,
      );
      this.#restartAfter(seal.toPosition, seal.root);
      return;
    }
    let verified = true;
    const key = this.#trusted.get(seal.keyId);
    if (key === undefined || !verifyText(key.publicKey, sealSigningText(seal), seal.signature)) {
      verified = false;
      this.#break({
        kind: 'seal',
        ...at,
        message:
          key === undefined
            ? `the seal is signed with key ${seal.keyId}, which is not trusted`
            : "the seal's signature does not verify",
      });
    } else if (seal.keyId !== this.#currentKeyId) {
      // A replaced key signs nothing after its replacement: whoever still holds it cannot seal.
      verified = false;
      this.#break({
        kind: 'seal',
        ...at,
        message: `the seal is signed with key ${seal.keyId}, which key ${this.#currentKeyId ?? '?'} had replaced`,
      });
    }
    if (seal.fromPosition !== this.#sealedUpTo + 1 || seal.previousRoot !== this.#lastRoot) {
      verified = false;
      this.#break({
        kind: 'seal',
        ...at,
        message: `the seal does not follow the previous one (${range}, previous root ${seal.previousRoot ?? 'none'})`,
        expected: `from ${this.#sealedUpTo + 1}, previous root ${this.#lastRoot ?? 'none'}`,
        found: `from ${seal.fromPosition}, previous root ${seal.previousRoot ?? 'none'}`,
      });
    }
    const tree = this.#window.rangeRoot(seal.fromPosition, seal.toPosition);
    if (!tree.ok) {
      verified = false;
      const lag = event.position - seal.toPosition;
      const window = this.#window.capacity;
      this.#break({
        kind: 'window',
        ...at,
        message:
          lag > window
            ? `the root over ${range} was not recomputed: the seal comes ${lag} positions after its ` +
              `range ends, and the verification window keeps the latest ${window} leaves ` +
              `(raise it to at least ${lag}: --merkle-window, or merkleWindow on GET /v1/audit/verify)`
            : `the root over ${range} was not recomputed: leaves at positions ${tree.left.from}…` +
              `${tree.left.to} had left the verification window (the latest ${window} leaves) ` +
              'before this seal came (raise it: --merkle-window, or merkleWindow on GET /v1/audit/verify)',
      });
    } else if (
      tree.count !== seal.count ||
      tree.root !== seal.root ||
      seal.count !== seal.toPosition - seal.fromPosition + 1
    ) {
      verified = false;
      this.#break({
        kind: 'seal',
        ...at,
        message:
          `the events at ${range} are not the ones sealed: one was altered, removed, inserted or moved ` +
          `(${tree.count} events found, ${seal.count} sealed)`,
        expected: seal.root,
        found: tree.root,
      });
    }
    if (verified) {
      this.#sealsVerified += 1;
      // Covered by verified seals only if every seal before was verified too.
      if (seal.fromPosition === this.#verifiedUpTo + 1) this.#verifiedUpTo = seal.toPosition;
    }
    this.#restartAfter(seal.toPosition, seal.root);
  }

  #restartAfter(toPosition: number, root: string): void {
    this.#window.restartAfter(toPosition);
    this.#sealedUpTo = toPosition;
    this.#lastRoot = root;
  }

  finish(): VerificationReport {
    const last = this.#expectedPosition - 1;
    for (const [position, root] of this.#heldSeals) {
      if (this.#seenHeld.has(position)) continue;
      this.#break({
        kind: 'truncated',
        position,
        streamId: SEALS_STREAM,
        revision: null,
        message:
          position > last
            ? `the log ends at position ${last}, but the auditor holds a seal at position ${position}: the log was cut back`
            : `the seal the auditor holds at position ${position} is not in the log`,
        expected: root,
      });
    }
    if (last > this.#sealedUpTo) {
      this.#notes.push(
        `positions ${this.#sealedUpTo + 1}…${last} are not sealed yet: their chains are checked, but a ` +
          'removal of events at the end of the log would not show until they are',
      );
    }
    return {
      ok: this.#breakCount === 0,
      events: this.#events,
      streams: this.#tips.size,
      firstPosition: this.#first,
      lastPosition: this.#events === 0 ? null : last,
      sealsVerified: this.#sealsVerified,
      sealedUpTo: this.#verifiedUpTo,
      keys: [...this.#trusted].map(([keyId, k]) => ({ keyId, trustedBecause: k.trustedBecause })),
      firstBreak: this.#breaks[0] ?? null,
      breaks: this.#breaks,
      breakCount: this.#breakCount,
      notes: this.#notes,
    };
  }
}
