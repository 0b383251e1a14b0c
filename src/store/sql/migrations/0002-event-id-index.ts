import { sql, type Kysely } from 'kysely';

/**
 * Event ids are unique per stream (as in EventStoreDB), but a client's id must mean one report
 * ledger-wide: this index lets ingestion find where an id is already used, in any stream.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX events_event_id_idx ON events (event_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX events_event_id_idx`.execute(db);
}
