import { sql, type Kysely } from 'kysely';

/**
 * The last global position recorded at or before `instant`: what the ledger knew then. Recorded
 * time never goes backwards along the log (migration 0001), so a binary search over positions
 * (primary-key probes, about 25 for ten million events) finds it without an index on time.
 * Reads the SQL event log directly: the read models live in the same database.
 */
export async function positionAt(db: Kysely<unknown>, instant: Date): Promise<number> {
  const recordedAt = async (position: number): Promise<Date | undefined> => {
    const { rows } = await sql<{ recorded_at: Date }>`
      SELECT recorded_at FROM events WHERE position = ${position}`.execute(db);
    return rows[0]?.recorded_at;
  };
  const { rows } = await sql<{
    head: string | null;
  }>`SELECT max(position) AS head FROM events`.execute(db);
  let low = 0; // recorded at or before the instant (0: before everything)
  let high = Number(rows[0]?.head ?? 0) + 1; // recorded after it
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    const at = await recordedAt(middle);
    if (at !== undefined && at.getTime() <= instant.getTime()) low = middle;
    else high = middle;
  }
  return low;
}

/** When the event at `position` was recorded (undefined for 0 or a position not in the log). */
export async function recordedAtOf(
  db: Kysely<unknown>,
  position: number,
): Promise<Date | undefined> {
  const { rows } = await sql<{ recorded_at: Date }>`
    SELECT recorded_at FROM events WHERE position = ${position}`.execute(db);
  return rows[0]?.recorded_at;
}
