import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/access/api-key.js';
import { announceFirstAdminKey, ensureAdminKeys } from '../../src/runtime/admin-keys.js';
import { ConfigurationError } from '../../src/runtime/config.js';
import { openKeyStore } from '../support/access.js';
import { pgliteHarness, type OpenedStore } from '../support/databases.js';

describe('admin keys at start (PGlite)', () => {
  let folder: string;
  const opened: OpenedStore[] = [];
  const freshStore = async () => {
    const store = await pgliteHarness.open();
    opened.push(store);
    return openKeyStore(store.db as unknown as Kysely<unknown>);
  };

  beforeAll(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'ledger-keys-'));
  });
  afterAll(async () => {
    for (const store of opened) await store.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('creates a first admin key when there is none, in a file only its owner reads', async () => {
    const keys = await freshStore();
    const file = path.join(folder, 'nested', 'first-admin-key');
    const first = await ensureAdminKeys(keys, { LEDGER_FIRST_ADMIN_KEY_FILE: file });
    expect(first).toEqual({
      keyId: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown,
      key: expect.stringMatching(/^wl_/) as unknown,
      file: { path: file },
    });
    expect(await readFile(file, 'utf8')).toBe(`${first?.key}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await keys.authenticate(first?.key ?? '')).toMatchObject({ role: 'admin' });
    const banner = announceFirstAdminKey(first!);
    expect(banner).toContain(first!.key);
    expect(banner).toContain(file);
    // Started again: keys exist, nothing new is created or written.
    expect(await ensureAdminKeys(keys, { LEDGER_FIRST_ADMIN_KEY_FILE: file })).toBeUndefined();
    expect(await keys.list()).toHaveLength(1);
  });

  it('with LEDGER_ADMIN_KEY, installs that key and creates no other', async () => {
    const keys = await freshStore();
    const { key, keyId } = generateApiKey();
    const file = path.join(folder, 'unused');
    const config = { LEDGER_ADMIN_KEY: key, LEDGER_FIRST_ADMIN_KEY_FILE: file };
    expect(await ensureAdminKeys(keys, config)).toBeUndefined();
    expect(await ensureAdminKeys(keys, config)).toBeUndefined();
    expect((await keys.list()).map((k) => [k.keyId, k.role])).toEqual([[keyId, 'admin']]);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });

  it('refuses to start with a revoked LEDGER_ADMIN_KEY, naming the variable', async () => {
    const keys = await freshStore();
    const { key, keyId } = generateApiKey();
    const config = { LEDGER_ADMIN_KEY: key, LEDGER_FIRST_ADMIN_KEY_FILE: path.join(folder, 'x') };
    await ensureAdminKeys(keys, config);
    await keys.revoke(keyId);
    await expect(ensureAdminKeys(keys, config)).rejects.toThrow(
      new ConfigurationError(
        `Invalid configuration:\n  LEDGER_ADMIN_KEY: key ${keyId} was revoked`,
      ),
    );
  });
});
