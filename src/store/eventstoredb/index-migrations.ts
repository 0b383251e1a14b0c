import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The position index lives in PostgreSQL beside the read models. It is derived data: every row
 * is read back from EventStoreDB's `$all`, so dropping the tables and catching up again
 * rebuilds it exactly (the ledger positions are the order of the ledger's events in `$all`).
 */
export const positionIndexMigrations: Record<string, Migration> = {
  '0001-position-index': {
    async up(db: Kysely<unknown>) {
      await sql`
        CREATE TABLE esdb_position_index (
          -- The ledger's dense global position: the n-th ledger event in $all.
          position bigint PRIMARY KEY,
          commit_position bigint NOT NULL,
          prepare_position bigint NOT NULL,
          stream_id text NOT NULL,
          revision bigint NOT NULL,
          event_id uuid NOT NULL,
          type text NOT NULL,
          -- SHA-256 of the canonical data: idempotency compares type and data, as the SQL log does.
          data_digest text NOT NULL,
          hash text NOT NULL,
          recorded_at text NOT NULL,
          UNIQUE (commit_position, prepare_position),
          UNIQUE (stream_id, revision)
        )`.execute(db);
      await sql`CREATE INDEX esdb_position_index_event_id ON esdb_position_index (event_id)`.execute(
        db,
      );
      // How far $all has been read, ledger events or not (other applications may share $all).
      await sql`
        CREATE TABLE esdb_position_scan (
          id int PRIMARY KEY CHECK (id = 1),
          commit_position bigint NOT NULL,
          prepare_position bigint NOT NULL
        )`.execute(db);
    },
  },
};
