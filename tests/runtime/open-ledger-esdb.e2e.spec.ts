import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/runtime/config.js';
import { openLedger } from '../../src/runtime/open-ledger.js';
import { POSTGRES_URL, postgresAvailable } from '../support/databases.js';
import { closeSharedProtocolFake, sharedProtocolFake } from '../support/eventstoredb.js';

const postgres = await postgresAvailable();
afterAll(closeSharedProtocolFake);

describe.skipIf(!postgres)('openLedger with EVENTSTORE_URL', () => {
  it('keeps the log in EventStoreDB and the read models in DATABASE_URL', async () => {
    const schema = `test_ledger_esdb_${randomBytes(5).toString('hex')}`;
    const fake = await sharedProtocolFake();
    const ledger = await openLedger(
      parseConfig({
        EVENTSTORE_URL: fake.connectionString,
        DATABASE_URL: POSTGRES_URL,
        LEDGER_DB_SCHEMA: schema,
        LEDGER_ESDB_NAMESPACE: `n${randomBytes(4).toString('hex')}`,
      }),
    );
    try {
      expect(ledger.description).toMatch(/^EventStoreDB esdb:\/\/127\.0\.0\.1:\d+\?tls=false/);
      expect(ledger.description).toContain(`read models in PostgreSQL`);
      expect(ledger.store.capabilities.atomicMultiStreamAppend).toBe(false);
      const result = await ledger.store.append(
        'probe',
        [{ id: randomUUID(), type: 'Probe', data: { ok: true } }],
        { expectedRevision: 'no_stream' },
      );
      expect(result).toEqual({ nextExpectedRevision: 0, position: 1, idempotent: false });
      // Read models, checkpoints and the position index are in PostgreSQL; the log is not.
      const { rows } = await sql<{ table_name: string }>`
        SELECT table_name FROM information_schema.tables WHERE table_schema = ${schema}
         ORDER BY table_name`.execute(ledger.db);
      const tables = rows.map((r) => r.table_name);
      expect(tables).toContain('esdb_position_index');
      expect(tables).toContain('projection_checkpoints');
      expect(tables).not.toContain('events');
    } finally {
      await ledger.close();
      await dropSchema(schema);
    }
  });

  it('explains at start an EventStoreDB that does not answer', async () => {
    const schema = `test_ledger_esdb_${randomBytes(5).toString('hex')}`;
    try {
      await expect(
        openLedger(
          parseConfig({
            EVENTSTORE_URL: 'esdb://127.0.0.1:1?tls=false',
            DATABASE_URL: POSTGRES_URL,
            LEDGER_DB_SCHEMA: schema,
          }),
        ),
      ).rejects.toThrow(/^Cannot use EventStoreDB at esdb:\/\/127\.0\.0\.1:1\?tls=false: /);
    } finally {
      await dropSchema(schema);
    }
  }, 30_000);
});

async function dropSchema(schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.end();
  }
}
