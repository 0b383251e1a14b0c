import type { Kysely, Transaction } from 'kysely';
import type { RecordedEvent } from '../../store/port.js';

/**
 * The physical name of each of a projection's tables. The runner chooses them: the live tables
 * carry the logical names; a rebuild writes to fresh `…__rebuild` tables and swaps them in.
 */
export type TableNames<T extends string> = Readonly<Record<T, string>>;

/**
 * A read model fed from the log. The runner hands it batches of the event types it `handles`,
 * each inside the transaction that also moves its checkpoint, so every event takes effect
 * exactly once.
 *
 * @example
 * ```ts
 * const tonnage: Projection<'tonnage'> = {
 *   name: 'tonnage', handles: ['TicketWeighed'], tables: ['tonnage'],
 *   createTables: (db, t) => db.schema.createTable(t.tonnage).ifNotExists()…execute(),
 *   apply: (trx, events, t) => …upsert sums into t.tonnage…,
 * };
 * ```
 */
export interface Projection<T extends string = string> {
  /** Stable identifier; names the checkpoint. */
  readonly name: string;
  /** Event types the projection reads; the runner skips the others without reading them. */
  readonly handles: readonly string[];
  /** Logical names of the tables the projection owns. */
  readonly tables: readonly T[];
  /**
   * Tables whose rows depend on where batches happened to end (snapshots taken "at the batch's
   * last position"): a replay rebuilds them but does not compare them with the live ones.
   */
  readonly batchDependent?: readonly T[];
  /** Creates the tables (if they do not exist) under the given physical names. */
  createTables(db: Kysely<unknown>, tables: TableNames<T>): Promise<void>;
  /**
   * Applies a batch in order. Must not throw on an event it dislikes (a recorded event is a
   * fact): skip it. A thrown error rolls the batch back and the runner retries it later.
   */
  apply(
    trx: Transaction<unknown>,
    events: readonly RecordedEvent[],
    tables: TableNames<T>,
  ): Promise<void>;
}
