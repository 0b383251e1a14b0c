import { sql, type Kysely, type Transaction } from 'kysely';
import type { WeighingEvent } from '../../domain/weighing/events.js';
import {
  evolveTicket,
  initialTicketState,
  type TicketState,
} from '../../domain/weighing/ticket.js';
import type { RecordedEvent } from '../../store/port.js';

/** A ticket's state before and after a batch, for projections that count tickets. */
export interface TicketChange {
  readonly streamId: string;
  readonly before: TicketState;
  readonly after: TicketState;
}

/** Creates a projection's own table of ticket states (each projection keeps its own). */
export async function createTicketStateTable(db: Kysely<unknown>, table: string): Promise<void> {
  await sql`
    CREATE TABLE IF NOT EXISTS ${sql.table(table)} (
      stream_id text PRIMARY KEY,
      state jsonb NOT NULL
    )`.execute(db);
}

/**
 * Folds a batch of ticket events onto the states stored in `table` (the domain's own
 * `evolveTicket`), saves the new states and returns each touched ticket's before and after, so
 * a projection can move exactly what changed.
 */
export async function applyTicketEvents(
  trx: Transaction<unknown>,
  table: string,
  events: readonly RecordedEvent[],
): Promise<TicketChange[]> {
  const streamIds = [...new Set(events.map((e) => e.streamId))];
  if (streamIds.length === 0) return [];
  const { rows } = await sql<{ stream_id: string; state: TicketState }>`
    SELECT stream_id, state FROM ${sql.table(table)} WHERE stream_id IN (${sql.join(streamIds)})`.execute(
    trx,
  );
  const before = new Map(rows.map((r) => [r.stream_id, r.state]));
  const after = new Map(before);
  for (const event of events) {
    const state = after.get(event.streamId) ?? initialTicketState();
    after.set(event.streamId, evolveTicket(state, event as unknown as WeighingEvent));
  }
  const states = streamIds.map((id) => sql`(${id}, ${JSON.stringify(after.get(id))}::jsonb)`);
  await sql`
    INSERT INTO ${sql.table(table)} AS t (stream_id, state) VALUES ${sql.join(states)}
    ON CONFLICT (stream_id) DO UPDATE SET state = excluded.state`.execute(trx);
  return streamIds.map((streamId) => ({
    streamId,
    before: before.get(streamId) ?? initialTicketState(),
    after: after.get(streamId) ?? initialTicketState(),
  }));
}
