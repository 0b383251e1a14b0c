import { sql, type ColumnType, type Kysely, type Migration, type Selectable } from 'kysely';
import {
  generateApiKey,
  hashApiKey,
  parseApiKey,
  presentedKeyDigest,
  verifyApiKey,
} from './api-key.js';
import type { NewKey } from './new-key.js';
import type { Principal, Role } from './roles.js';
import { VerificationCache } from './verification-cache.js';

export interface ApiKeysTable {
  key_id: string;
  role: Role;
  /** jsonb array of site ids (station keys). */
  sites: ColumnType<readonly string[], string, never>;
  /** jsonb array of district ids (regulator keys; empty: city-wide). */
  districts: ColumnType<readonly string[], string, never>;
  label: string;
  salt: string;
  hash: string;
  created_at: ColumnType<Date, never, never>;
  revoked_at: ColumnType<Date | null, never, Date>;
}

export interface AccessDatabase {
  api_keys: ApiKeysTable;
}

type ApiKeyRow = Selectable<ApiKeysTable>;

/** Installed beside the read models (`migrateToLatest(db, 'access', accessMigrations, schema)`). */
export const accessMigrations: Record<string, Migration> = {
  '0001-api-keys': {
    async up(db: Kysely<unknown>) {
      await sql`
        CREATE TABLE api_keys (
          key_id text PRIMARY KEY,
          role text NOT NULL CHECK (role IN ('station', 'regulator', 'auditor', 'admin')),
          sites jsonb NOT NULL DEFAULT '[]',
          districts jsonb NOT NULL DEFAULT '[]',
          label text NOT NULL DEFAULT '',
          salt text NOT NULL,
          hash text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          revoked_at timestamptz
        )`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await sql`DROP TABLE api_keys`.execute(db);
    },
  },
};

/** A key as lists show it: never its secret or hash. */
export interface KeyRecord {
  readonly keyId: string;
  readonly role: Role;
  readonly sites: string[];
  readonly districts: string[];
  readonly label: string;
  /** ISO 8601, UTC. */
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** A key cannot be installed as asked (LEDGER_ADMIN_KEY that was revoked, …). */
export class KeyStoreError extends Error {}

/** How long a verified key is trusted without a database read: revocation's delay elsewhere. */
export const KEY_CACHE_TTL_MS = 30_000;

export interface KeyStoreOptions {
  /** ms since the epoch; tests move it to expire the cache. */
  readonly clock?: () => number;
  readonly cacheTtlMs?: number;
}

/**
 * The API keys, in the database that holds the read models (one per ledger, whatever holds the
 * log). Creates, lists and revokes keys, and authenticates presented keys with a short cache.
 *
 * @example
 * const keys = new KeyStore(ledger.db);
 * const { key } = await keys.create({ role: 'station', sites: ['ts-1'], districts: [], label: '' });
 * await keys.authenticate(key); // { keyId, role: 'station', sites: ['ts-1'], districts: [] }
 */
export class KeyStore {
  readonly #db: Kysely<AccessDatabase>;
  readonly #clock: () => number;
  readonly #cache: VerificationCache;
  /** One scrypt per presented key at a time, however many requests carry it at once. */
  readonly #checking = new Map<string, Promise<Principal | undefined>>();

  constructor(db: Kysely<unknown>, options: KeyStoreOptions = {}) {
    this.#db = db as Kysely<AccessDatabase>;
    this.#clock = options.clock ?? Date.now;
    this.#cache = new VerificationCache(options.cacheTtlMs ?? KEY_CACHE_TTL_MS);
  }

  /** Creates a key; the key itself is returned here only, and cannot be shown again. */
  async create(newKey: NewKey): Promise<{ key: string; record: KeyRecord }> {
    const { keyId, key } = generateApiKey();
    await this.#insert(keyId, key, newKey);
    const record = await this.find(keyId);
    if (record === undefined) throw new Error(`key ${keyId} was not stored`);
    return { key, record };
  }

  /**
   * Makes sure `key` exists as an admin key (LEDGER_ADMIN_KEY: scripts, CI and containers set
   * the key they will use). A revoked key stays revoked: revocation must not be undone by a
   * restart with an old environment.
   */
  async ensureAdminKey(key: string, label: string): Promise<'created' | 'present'> {
    const parsed = parseApiKey(key);
    if (parsed === undefined) throw new KeyStoreError('is not an API key');
    const row = await this.#row(parsed.keyId);
    if (row === undefined) {
      await this.#insert(parsed.keyId, key, { role: 'admin', sites: [], districts: [], label });
      return 'created';
    }
    if (row.revoked_at !== null) throw new KeyStoreError(`key ${row.key_id} was revoked`);
    if (!(await verifyApiKey(key, row))) {
      throw new KeyStoreError(`key id ${row.key_id} is on record with another secret`);
    }
    if (row.role !== 'admin') {
      throw new KeyStoreError(`key ${row.key_id} is on record as a ${row.role} key, not admin`);
    }
    return 'present';
  }

  async list(): Promise<KeyRecord[]> {
    const rows = await this.#db
      .selectFrom('api_keys')
      .selectAll()
      .orderBy('created_at')
      .orderBy('key_id')
      .execute();
    return rows.map(toRecord);
  }

  async find(keyId: string): Promise<KeyRecord | undefined> {
    const row = await this.#row(keyId);
    return row === undefined ? undefined : toRecord(row);
  }

  /** Whether any key was ever created (revoked ones count: the operator has keys to manage). */
  async isEmpty(): Promise<boolean> {
    const row = await this.#db.selectFrom('api_keys').select('key_id').limit(1).executeTakeFirst();
    return row === undefined;
  }

  /**
   * Revokes a key (again: no change). It stops working in this process at once, in others
   * within KEY_CACHE_TTL_MS. Undefined when there is no such key.
   */
  async revoke(keyId: string): Promise<KeyRecord | undefined> {
    await this.#db
      .updateTable('api_keys')
      .set({ revoked_at: sql<Date>`now()` })
      .where('key_id', '=', keyId)
      .where('revoked_at', 'is', null)
      .execute();
    this.#cache.dropKey(keyId);
    return this.find(keyId);
  }

  /** The caller a presented key stands for, or undefined if it is unknown, wrong or revoked. */
  async authenticate(presented: string): Promise<Principal | undefined> {
    const parsed = parseApiKey(presented);
    if (parsed === undefined) return undefined;
    const digest = presentedKeyDigest(presented);
    const cached = this.#cache.get(digest, this.#clock());
    if (cached !== undefined) return cached;
    const running = this.#checking.get(digest);
    if (running !== undefined) return running;
    const check = this.#check(parsed.keyId, presented, digest).finally(() =>
      this.#checking.delete(digest),
    );
    this.#checking.set(digest, check);
    return check;
  }

  async #check(keyId: string, presented: string, digest: string): Promise<Principal | undefined> {
    // An unknown or revoked key id is refused without hashing: no scrypt for made-up keys.
    const row = await this.#row(keyId);
    if (row === undefined || row.revoked_at !== null) return undefined;
    if (!(await verifyApiKey(presented, row))) return undefined;
    const principal: Principal = {
      keyId: row.key_id,
      role: row.role,
      sites: [...row.sites],
      districts: [...row.districts],
    };
    this.#cache.set(digest, principal, this.#clock());
    return principal;
  }

  #row(keyId: string): Promise<ApiKeyRow | undefined> {
    return this.#db
      .selectFrom('api_keys')
      .selectAll()
      .where('key_id', '=', keyId)
      .executeTakeFirst();
  }

  async #insert(keyId: string, key: string, newKey: NewKey): Promise<void> {
    const { salt, hash } = await hashApiKey(key);
    await this.#db
      .insertInto('api_keys')
      .values({
        key_id: keyId,
        role: newKey.role,
        sites: JSON.stringify(newKey.sites),
        districts: JSON.stringify(newKey.districts),
        label: newKey.label,
        salt,
        hash,
      })
      .execute();
  }
}

function toRecord(row: ApiKeyRow): KeyRecord {
  return {
    keyId: row.key_id,
    role: row.role,
    sites: [...row.sites],
    districts: [...row.districts],
    label: row.label,
    createdAt: new Date(row.created_at).toISOString(),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at).toISOString(),
  };
}
