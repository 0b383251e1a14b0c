import { rawSql, sql, type Dumbo } from '@event-driven-io/dumbo';
import { getProjectorId, type Event } from '@event-driven-io/emmett';
import {
  postgreSQLRawSQLProjection,
  readProcessorCheckpoint,
  rebuildPostgreSQLProjections,
} from '@event-driven-io/emmett-postgresql';
import { businessDay, TICKET_EVENT_TYPES } from '../workload/tickets.js';
import { PROJECTION_BATCH } from './workload.js';

/** A ticket event as Emmett stores it: our event id rides in the metadata as `messageId`. */
export type TicketEvent = Event<string, Record<string, unknown>, Record<string, unknown>>;

const NAME = 'bench_net_kg';
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${NAME} (
  day date NOT NULL,
  category text NOT NULL,
  net_kg bigint NOT NULL,
  events bigint NOT NULL,
  PRIMARY KEY (day, category))`;

/**
 * The same read model as the ledger's `netKgByDayCategory` (same table, same business-day rule
 * computed in JS), as an Emmett PostgreSQL projection: `postgreSQLRawSQLProjection`, whose
 * `evolve` turns each event into SQL (an upsert), run by Emmett's consumer.
 */
export const emmettNetKgProjection = postgreSQLRawSQLProjection<TicketEvent>({
  name: NAME,
  canHandle: [...TICKET_EVENT_TYPES],
  init: () => rawSql(CREATE_TABLE),
  evolve: (event) => {
    const { category, weighedInAt, netKg } = event.data;
    if (typeof category !== 'string' || typeof weighedInAt !== 'string') return [];
    const kg = event.type === 'VehicleWeighedOut' && typeof netKg === 'number' ? netKg : 0;
    return sql(
      `INSERT INTO ${NAME} AS t (day, category, net_kg, events) VALUES (%L::date, %L, %s, 1)
       ON CONFLICT (day, category) DO UPDATE
         SET net_kg = t.net_kg + excluded.net_kg, events = t.events + 1`,
      businessDay(weighedInAt),
      category,
      kg,
    );
  },
});

/** The read model's table, created before the timed rebuild (as the ledger's runner.setup()). */
export async function createEmmettReadModel(pool: Dumbo): Promise<void> {
  await pool.execute.command(rawSql(CREATE_TABLE));
}

async function processorCheckpoint(pool: Dumbo): Promise<bigint> {
  const processorId = getProjectorId({ projectionName: NAME });
  const { lastProcessedCheckpoint } = await readProcessorCheckpoint(pool.execute, { processorId });
  return lastProcessedCheckpoint ?? 0n;
}

/**
 * Rebuilds the read model from the start of the log with Emmett's own rebuild: a consumer that
 * stops when a read returns nothing more. Its reads see only transactions older than every
 * transaction still open in the database (`pg_snapshot_xmin`), so on a shared server a rebuild
 * can stop short; it is then run again (it goes on from its checkpoint) until the checkpoint
 * reaches `head`, and the number of passes is reported.
 * The consumer pauses between batches (50 ms by default): the pause is set to 0, and the batch
 * to the ledger runner's size, so that what is timed is the work, not the sleeping.
 */
export async function rebuildEmmettProjection(
  connectionString: string,
  pool: Dumbo,
  head: bigint,
): Promise<{ checkpoint: bigint; passes: number }> {
  const MAX_PASSES = 20;
  let checkpoint = 0n;
  let passes = 0;
  while (checkpoint < head && passes < MAX_PASSES) {
    passes += 1;
    const consumer = rebuildPostgreSQLProjections<TicketEvent>({
      connectionString,
      pool,
      projections: [emmettNetKgProjection],
      pulling: { batchSize: PROJECTION_BATCH, pullingFrequencyInMs: 0 },
    });
    await consumer.start();
    await consumer.close();
    checkpoint = await processorCheckpoint(pool);
  }
  return { checkpoint, passes };
}
