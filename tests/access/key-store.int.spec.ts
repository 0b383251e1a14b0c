import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/access/api-key.js';
import { KEY_CACHE_TTL_MS, KeyStore, KeyStoreError } from '../../src/access/key-store.js';
import { openKeyStore } from '../support/access.js';
import {
  pgliteHarness,
  postgresAvailable,
  postgresHarness,
  type OpenedStore,
} from '../support/databases.js';

const postgres = await postgresAvailable();

const ISO = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/) as unknown;

describe.each([
  { harness: pgliteHarness, skip: false },
  { harness: postgresHarness, skip: !postgres },
])('key store on $harness.name', ({ harness, skip }) => {
  let opened: OpenedStore;
  let db: Kysely<unknown>;
  let now = Date.parse('2026-03-01T00:00:00Z');
  let keys: KeyStore;

  beforeAll(async () => {
    if (skip) return;
    opened = await harness.open();
    db = opened.db as unknown as Kysely<unknown>;
    keys = await openKeyStore(db, { clock: () => now });
  });
  afterAll(async () => {
    if (skip) return;
    await opened.close();
  });

  describe.skipIf(skip)('create, list, revoke', () => {
    it('starts empty; a created key is listed without its secret, and authenticates', async () => {
      expect(await keys.isEmpty()).toBe(true);
      const { key, record } = await keys.create({
        role: 'station',
        sites: ['ts-1', 'ts-2'],
        districts: [],
        label: 'weighbridge PC',
      });
      expect(record).toEqual({
        keyId: key.slice(3, 19),
        role: 'station',
        sites: ['ts-1', 'ts-2'],
        districts: [],
        label: 'weighbridge PC',
        createdAt: ISO,
        revokedAt: null,
      });
      expect(await keys.isEmpty()).toBe(false);
      const listed = await keys.list();
      expect(listed).toContainEqual(record);
      expect(JSON.stringify(listed)).not.toContain(key.slice(20));
      expect(await keys.authenticate(key)).toEqual({
        keyId: record.keyId,
        role: 'station',
        sites: ['ts-1', 'ts-2'],
        districts: [],
      });
    });

    it('stores a salt and an scrypt hash, never the key', async () => {
      const { key, record } = await keys.create({
        role: 'regulator',
        sites: [],
        districts: ['lixia'],
        label: '',
      });
      const { rows } = await sql<{
        salt: string;
        hash: string;
      }>`SELECT salt, hash FROM api_keys WHERE key_id = ${record.keyId}`.execute(db);
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(key.slice(20));
      expect(Buffer.from(rows[0]?.hash ?? '', 'base64')).toHaveLength(32);
    });

    it('refuses a wrong secret, an unknown key id and a malformed key', async () => {
      const { key } = await keys.create({ role: 'auditor', sites: [], districts: [], label: '' });
      const otherSecret = `${key.slice(0, 20)}${generateApiKey().key.slice(20)}`;
      expect(await keys.authenticate(otherSecret)).toBeUndefined();
      expect(await keys.authenticate(generateApiKey().key)).toBeUndefined();
      expect(await keys.authenticate(`${key}x`)).toBeUndefined();
      expect(await keys.authenticate(key)).toMatchObject({ role: 'auditor' });
    });

    it('revokes: refused at once in this process; again is no change; unknown is undefined', async () => {
      const { key, record } = await keys.create({
        role: 'admin',
        sites: [],
        districts: [],
        label: '',
      });
      expect(await keys.authenticate(key)).toMatchObject({ keyId: record.keyId });
      const revoked = await keys.revoke(record.keyId);
      expect(revoked).toEqual({ ...record, revokedAt: ISO });
      expect(await keys.authenticate(key)).toBeUndefined();
      expect(await keys.revoke(record.keyId)).toEqual(revoked);
      expect(await keys.revoke('0000000000000000')).toBeUndefined();
      expect(await keys.find(record.keyId)).toEqual(revoked);
    });

    it('lists every key, revoked ones too, oldest first', async () => {
      const listed = await keys.list();
      expect(listed.map((k) => k.role)).toEqual(['station', 'regulator', 'auditor', 'admin']);
      expect(listed.map((k) => k.revokedAt === null)).toEqual([true, true, true, false]);
    });
  });

  describe.skipIf(skip)('revocation by another process (the CLI, another server)', () => {
    it(`is seen here once the cached verification expires (${KEY_CACHE_TTL_MS} ms)`, async () => {
      const { key, record } = await keys.create({
        role: 'auditor',
        sites: [],
        districts: [],
        label: '',
      });
      expect(await keys.authenticate(key)).toMatchObject({ keyId: record.keyId });
      const elsewhere = new KeyStore(db);
      await elsewhere.revoke(record.keyId);
      now += KEY_CACHE_TTL_MS - 1;
      expect(await keys.authenticate(key)).toMatchObject({ keyId: record.keyId });
      now += 1;
      expect(await keys.authenticate(key)).toBeUndefined();
    });
  });

  describe.skipIf(skip)('LEDGER_ADMIN_KEY', () => {
    it('creates the key as admin once, then finds it present', async () => {
      const { key, keyId } = generateApiKey();
      expect(await keys.ensureAdminKey(key, 'LEDGER_ADMIN_KEY')).toBe('created');
      expect(await keys.ensureAdminKey(key, 'LEDGER_ADMIN_KEY')).toBe('present');
      expect(await keys.find(keyId)).toMatchObject({ role: 'admin', label: 'LEDGER_ADMIN_KEY' });
      expect(await keys.authenticate(key)).toMatchObject({ keyId, role: 'admin' });
    });

    it('refuses a revoked key, another secret under its id, and a key of another role', async () => {
      const revoked = await keys.create({ role: 'admin', sites: [], districts: [], label: '' });
      await keys.revoke(revoked.record.keyId);
      await expect(keys.ensureAdminKey(revoked.key, 'x')).rejects.toThrow(
        new KeyStoreError(`key ${revoked.record.keyId} was revoked`),
      );
      const other = await keys.create({ role: 'admin', sites: [], districts: [], label: '' });
      const forged = `${other.key.slice(0, 20)}${generateApiKey().key.slice(20)}`;
      await expect(keys.ensureAdminKey(forged, 'x')).rejects.toThrow(
        `key id ${other.record.keyId} is on record with another secret`,
      );
      const station = await keys.create({
        role: 'station',
        sites: ['ts-9'],
        districts: [],
        label: '',
      });
      await expect(keys.ensureAdminKey(station.key, 'x')).rejects.toThrow(
        `key ${station.record.keyId} is on record as a station key, not admin`,
      );
    });
  });
});
