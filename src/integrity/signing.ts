import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

/**
 * Ed25519 signatures (node:crypto) for seals and key rotations. A public key travels as the
 * base64 of its DER SubjectPublicKeyInfo (what `openssl pkey -pubout -outform DER` writes), and
 * its id is the first 16 hex digits of that DER's SHA-256: short enough to print, long enough
 * never to collide among one ledger's keys.
 */
export interface SigningKey {
  readonly keyId: string;
  readonly publicKey: string;
  readonly privateKey: KeyObject;
}

export function publicKeyId(publicKeyBase64: string): string {
  return createHash('sha256')
    .update(Buffer.from(publicKeyBase64, 'base64'))
    .digest('hex')
    .slice(0, 16);
}

function fromPrivate(privateKey: KeyObject): SigningKey {
  const der = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const publicKey = der.toString('base64');
  return { keyId: publicKeyId(publicKey), publicKey, privateKey };
}

export function generateSigningKey(): SigningKey {
  return fromPrivate(generateKeyPairSync('ed25519').privateKey);
}

export function signingKeyFromPem(pem: string): SigningKey {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`the sealing key must be Ed25519, not ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return fromPrivate(key);
}

export function signingKeyToPem(key: SigningKey): string {
  return key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Base64 Ed25519 signature of the text's UTF-8 bytes. */
export function signText(key: SigningKey, text: string): string {
  return sign(null, Buffer.from(text, 'utf8'), key.privateKey).toString('base64');
}

export function verifyText(publicKeyBase64: string, text: string, signature: string): boolean {
  try {
    const key = createPublicKey({
      key: Buffer.from(publicKeyBase64, 'base64'),
      format: 'der',
      type: 'spki',
    });
    return verify(null, Buffer.from(text, 'utf8'), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** Accepts a public key as base64 DER or as PEM (what the API and the README publish). */
export function normalisePublicKey(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('-----BEGIN')) return trimmed;
  return createPublicKey(trimmed).export({ type: 'spki', format: 'der' }).toString('base64');
}

export function publicKeyPem(publicKeyBase64: string): string {
  return createPublicKey({
    key: Buffer.from(publicKeyBase64, 'base64'),
    format: 'der',
    type: 'spki',
  })
    .export({ type: 'spki', format: 'pem' })
    .toString();
}
