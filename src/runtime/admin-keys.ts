import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KeyStoreError, type KeyStore } from '../access/key-store.js';
import { ConfigurationError, type LedgerConfig } from './config.js';

/** The key created because the store had none: shown once, and left in a file for this machine. */
export interface FirstAdminKey {
  readonly keyId: string;
  readonly key: string;
  /** Where it was written, or why it could not be. */
  readonly file: { readonly path: string; readonly error?: string };
}

/**
 * At start: install LEDGER_ADMIN_KEY if set (scripts, CI, containers know their key in advance),
 * then, if the store holds no key at all, create a first admin key, so that a fresh embedded
 * ledger is usable at once. Its holder creates the other keys.
 */
export async function ensureAdminKeys(
  keys: KeyStore,
  config: Pick<LedgerConfig, 'LEDGER_ADMIN_KEY' | 'LEDGER_FIRST_ADMIN_KEY_FILE'>,
): Promise<FirstAdminKey | undefined> {
  if (config.LEDGER_ADMIN_KEY !== undefined) {
    try {
      await keys.ensureAdminKey(config.LEDGER_ADMIN_KEY, 'LEDGER_ADMIN_KEY');
    } catch (error) {
      if (!(error instanceof KeyStoreError)) throw error;
      throw new ConfigurationError(`Invalid configuration:\n  LEDGER_ADMIN_KEY: ${error.message}`);
    }
  }
  if (!(await keys.isEmpty())) return undefined;
  const { key, record } = await keys.create({
    role: 'admin',
    sites: [],
    districts: [],
    label: 'first admin key (created at first start)',
  });
  const file = config.LEDGER_FIRST_ADMIN_KEY_FILE;
  try {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    // Overwritten if present: a key file left from a deleted database opens nothing.
    await writeFile(file, `${key}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    return { keyId: record.keyId, key, file: { path: file } };
  } catch (error) {
    return { keyId: record.keyId, key, file: { path: file, error: (error as Error).message } };
  }
}

/** Printed once, loudly: the key is not stored anywhere the ledger could show it again. */
export function announceFirstAdminKey(first: FirstAdminKey): string {
  const bar = '='.repeat(78);
  return [
    bar,
    'A FIRST ADMIN API KEY was created (the ledger had no key). It is shown this once:',
    '',
    `  ${first.key}`,
    '',
    first.file.error === undefined
      ? `It is also in ${first.file.path} (mode 0600), where \`npm run simulate\` finds it.`
      : `It could NOT be written to ${first.file.path}: ${first.file.error}. Copy it now.`,
    'Send it as `Authorization: Bearer <key>`. Create the other keys with it',
    '(`npm run keys -- create …` or POST /v1/keys), then keep it somewhere safe and delete the file.',
    bar,
  ].join('\n');
}
