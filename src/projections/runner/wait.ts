import type { Kysely } from 'kysely';
import { readCheckpoint, type CheckpointDatabase } from './checkpoints.js';

/**
 * Read-your-writes: waits until the projection has applied the log up to `position`, polling
 * its checkpoint, for at most `timeoutMs`. Returns the checkpoint reached (which may be short
 * of `position` when the time ran out).
 */
export async function waitForCheckpoint(
  db: Kysely<unknown>,
  projection: string,
  position: number,
  timeoutMs: number,
  pollMs = 20,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const checkpoint = (await readCheckpoint(db as Kysely<CheckpointDatabase>, projection)) ?? 0;
    if (checkpoint >= position || Date.now() >= deadline) return checkpoint;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
