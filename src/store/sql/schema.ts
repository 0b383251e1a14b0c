import type { ColumnType, Selectable } from 'kysely';

/** Runtime types as both drivers return them (int8 and jsonb are parsed; see the adapters). */
export interface EventsTable {
  /** Global position: 1-based, dense, assigned in commit order under the append lock. */
  position: number;
  stream_id: string;
  /** 0-based revision within the stream. */
  revision: number;
  event_id: string;
  type: string;
  data: ColumnType<unknown, string, never>;
  metadata: ColumnType<unknown, string, never>;
  /** Server clock (UTC), truncated to milliseconds, non-decreasing with position. */
  recorded_at: ColumnType<Date, string, never>;
  /** Hash chain (migration 0003): set by `ledger_append`, never by the application. */
  previous_hash: ColumnType<Buffer, never, never>;
  hash: ColumnType<Buffer, never, never>;
}

export interface StoreDatabase {
  events: EventsTable;
}

export type EventRow = Selectable<EventsTable>;
