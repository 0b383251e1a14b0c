import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  generateSigningKey,
  signingKeyFromPem,
  signingKeyToPem,
  type SigningKey,
} from '../integrity/signing.js';

/**
 * The sealing key lives in a PEM file readable by its owner only. A missing file is created
 * with a new key (the embedded default must work on a fresh machine), and the caller says so
 * loudly: a new key is a new identity auditors must be told about.
 */
export async function loadOrCreateSealingKey(
  file: string,
): Promise<{ key: SigningKey; created: boolean }> {
  try {
    return { key: signingKeyFromPem(await readFile(file, 'utf8')), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`cannot read the sealing key ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  const key = generateSigningKey();
  await writeSealingKey(file, key);
  return { key, created: true };
}

export async function writeSealingKey(file: string, key: SigningKey): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  // `wx`: never overwrite a key that exists; losing one would orphan every seal it signed.
  await writeFile(file, signingKeyToPem(key), { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
}
