import type { Kysely } from 'kysely';
import { projectionMigrations } from '../../src/projections/runner/checkpoints.js';
import { ProjectionRunner } from '../../src/projections/runner/runner.js';
import type { EventStore, ExpectedRevision, StreamAppend } from '../../src/store/port.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { migrateToLatest } from '../../src/store/sql/migrate.js';
import { phase, timed, type PhaseResult } from '../support/report.js';
import { netKgByDayCategory } from '../workload/net-kg-projection.js';
import { directSqlGroups, projectionCheck, readModelGroups, ReadTally } from './checks.js';
import { PEER_PHASES } from './phase-names.js';
import { dropSchema, freshSchema, schemaClient } from './schema.js';
import { IN_FLIGHT, inFlight, PROJECTION_BATCH, READ_PAGE, type PeerWorkload } from './workload.js';

/** Appends tickets one event per call, each with the exact revision the last call returned. */
async function appendEventByEvent(
  store: EventStore,
  tickets: readonly StreamAppend[],
  limit: number,
): Promise<void> {
  let written = 0;
  for (const ticket of tickets) {
    let expectedRevision: ExpectedRevision = 'no_stream';
    for (const event of ticket.events) {
      if (written++ >= limit) return;
      expectedRevision = (await store.append(ticket.streamId, [event], { expectedRevision }))
        .nextExpectedRevision;
    }
  }
}

async function readAllPhase(store: EventStore): Promise<PhaseResult> {
  const head = await store.headPosition();
  const tally = new ReadTally();
  const { seconds } = await timed(async () => {
    for (let after = 0; ;) {
      const page = await store.readAll({ after, maxCount: READ_PAGE });
      if (page.events.length === 0) return;
      for (const e of page.events) tally.add(e.id, e.position);
      after = page.readUpTo;
    }
  });
  return phase(PEER_PHASES.readAll, tally.count, seconds, {
    check: tally.describe(head),
    ok: tally.exactlyOnceInOrder(head),
  });
}

async function projectionPhase(
  store: EventStore,
  db: Kysely<unknown>,
  databaseUrl: string,
  schema: string,
  workload: PeerWorkload,
): Promise<PhaseResult> {
  const runner = new ProjectionRunner({
    store,
    db,
    projection: netKgByDayCategory,
    batchSize: PROJECTION_BATCH,
  });
  await runner.setup();
  const { value: checkpoint, seconds } = await timed(() => runner.catchUp());
  const client = await schemaClient(databaseUrl, schema);
  try {
    const model = await readModelGroups(client);
    const sqlSum = await directSqlGroups(client, { name: 'events', data: 'data', type: 'type' });
    const { check, ok } = projectionCheck(model, sqlSum, workload.expected, workload.totalEvents);
    const head = await store.headPosition();
    return phase(PEER_PHASES.projection, checkpoint, seconds, {
      check: `${check}; checkpoint ${checkpoint}/${head}`,
      ok: ok && checkpoint === head,
    });
  } finally {
    await client.end();
  }
}

/** One run of the four phases on this ledger's PostgreSQL store, in a schema of its own. */
export async function runLedger(
  databaseUrl: string,
  workload: PeerWorkload,
): Promise<PhaseResult[]> {
  const schema = freshSchema('bench_peer_ledger');
  const { store, db } = await openPostgresStore({
    connectionString: databaseUrl,
    schema,
    poolSize: IN_FLIGHT + 2,
  });
  try {
    await migrateToLatest(db as Kysely<unknown>, 'projections', projectionMigrations, schema);
    await appendEventByEvent(store, workload.warmUp, Infinity);
    const sequential = await timed(() =>
      appendEventByEvent(store, workload.sequential, workload.sequentialEvents),
    );
    const batched = await timed(() =>
      inFlight(workload.batched, IN_FLIGHT, (t) =>
        store.append(t.streamId, t.events, { expectedRevision: 'no_stream' }),
      ),
    );
    return [
      phase(PEER_PHASES.sequential, workload.sequentialEvents, sequential.seconds),
      phase(PEER_PHASES.batched, workload.batched.length * 5, batched.seconds),
      await readAllPhase(store),
      await projectionPhase(store, db as Kysely<unknown>, databaseUrl, schema, workload),
    ];
  } finally {
    await store.close();
    await dropSchema(databaseUrl, schema);
  }
}
