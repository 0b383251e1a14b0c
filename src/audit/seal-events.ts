import { z } from 'zod';
import { canonicalJson } from '../integrity/canonical-json.js';

/**
 * The audit trail's own events. They live in the log like every other event (hashed, chained,
 * covered by the next seal), in two streams no station can write to (the API appends only
 * domain events).
 */
export const SEALS_STREAM = 'audit-seals';
export const KEYS_STREAM = 'audit-keys';
export const LOG_SEALED = 'LogSealed';
export const SEALING_KEY_ADDED = 'SealingKeyAdded';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');
const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64');

/**
 * A seal: the Merkle root (integrity/merkle.ts) over every event at positions
 * fromPosition … toPosition, chained to the previous seal's root, signed with Ed25519 over the
 * canonical JSON of every field but the signature.
 */
export const logSealedSchema = z
  .object({
    fromPosition: z.number().int().min(1),
    toPosition: z.number().int().min(1),
    count: z.number().int().min(1),
    root: hex64,
    previousRoot: hex64.nullable(),
    keyId: z.string().regex(/^[0-9a-f]{16}$/),
    signature: base64,
  })
  .strict();
export type LogSealed = z.infer<typeof logSealedSchema>;

/**
 * A sealing key. The first is trusted as the ledger's own (its public key is published at
 * `GET /v1/audit/keys` and in the README); each later one is endorsed by the key it replaces,
 * which signs the canonical JSON of `{keyId, previousKeyId, publicKey}`.
 */
export const sealingKeyAddedSchema = z
  .object({
    keyId: z.string().regex(/^[0-9a-f]{16}$/),
    publicKey: base64,
    previousKeyId: z
      .string()
      .regex(/^[0-9a-f]{16}$/)
      .nullable(),
    endorsement: base64.nullable(),
  })
  .strict();
export type SealingKeyAdded = z.infer<typeof sealingKeyAddedSchema>;

export function sealSigningText(seal: Omit<LogSealed, 'signature'>): string {
  const { fromPosition, toPosition, count, root, previousRoot, keyId } = seal;
  return canonicalJson({ count, fromPosition, keyId, previousRoot, root, toPosition });
}

export function keyEndorsementText(
  key: Pick<SealingKeyAdded, 'keyId' | 'previousKeyId' | 'publicKey'>,
): string {
  return canonicalJson({
    keyId: key.keyId,
    previousKeyId: key.previousKeyId,
    publicKey: key.publicKey,
  });
}
