import { rawSql } from '@event-driven-io/dumbo';
import { readMessagesBatch } from '@event-driven-io/emmett-postgresql';
import type { PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import type { StreamAppend } from '../../src/store/port.js';
import { phase, timed, type PhaseResult } from '../support/report.js';
import { directSqlGroups, projectionCheck, readModelGroups, ReadTally } from './checks.js';
import {
  createEmmettReadModel,
  rebuildEmmettProjection,
  type TicketEvent,
} from './emmett-projection.js';
import { openEmmettStore, type EmmettStore } from './emmett-store.js';
import { PEER_PHASES } from './phase-names.js';
import { freshSchema, schemaClient } from './schema.js';
import { IN_FLIGHT, inFlight, READ_PAGE, type PeerWorkload } from './workload.js';

/** Our event as an Emmett event: its id goes in as Emmett's `messageId` (stored as message_id). */
function toEmmett(append: StreamAppend): TicketEvent[] {
  return append.events.map((e) => ({
    type: e.type,
    data: e.data,
    metadata: { ...e.metadata, messageId: e.id },
  }));
}

/**
 * One event per call with the exact stream version. Emmett counts a stream's version from 1 and
 * takes 0n to mean "no stream yet": its named `STREAM_DOES_NOT_EXIST` is not checked by its
 * PostgreSQL store (it is sent as "no expectation"), so 0n is the exact expectation.
 */
async function appendEventByEvent(
  store: PostgresEventStore,
  tickets: readonly StreamAppend[],
  limit: number,
): Promise<void> {
  let written = 0;
  for (const ticket of tickets) {
    let expectedStreamVersion = 0n;
    for (const event of toEmmett(ticket)) {
      if (written++ >= limit) return;
      expectedStreamVersion = (
        await store.appendToStream(ticket.streamId, [event], { expectedStreamVersion })
      ).nextExpectedStreamVersion;
    }
  }
}

async function countStored(emmett: EmmettStore): Promise<{ count: number; max: bigint }> {
  const { rows } = await emmett.pool.execute.query<{ count: bigint; max: bigint | null }>(
    // Through Emmett's own pool: its int8 arrives as BigInt.
    rawSql('SELECT count(*) AS count, max(global_position) AS max FROM emt_messages'),
  );
  return { count: Number(rows[0]?.count ?? 0n), max: rows[0]?.max ?? 0n };
}

const BARRIER_WAIT_MS = 50;
const MAX_BARRIER_WAIT_MS = 60_000;

/**
 * Emmett's global-order read: `readMessagesBatch` pages, each after the last position read.
 * Its reads see only transactions older than every transaction still open anywhere in the
 * database; on a shared server an empty page can come before the end. Then it waits and reads
 * again (as its consumer would), and the wait is left out of the time and reported.
 */
async function readAllPhase(emmett: EmmettStore): Promise<PhaseResult> {
  const stored = await countStored(emmett);
  const tally = new ReadTally();
  let waitedMs = 0;
  const { seconds } = await timed(async () => {
    for (let after = 0n; ;) {
      const batch = await readMessagesBatch<TicketEvent>(emmett.pool.execute, {
        after,
        batchSize: READ_PAGE,
      });
      for (const m of batch.messages) {
        tally.add(m.metadata.messageId, Number(m.metadata.globalPosition));
      }
      after = batch.currentGlobalPosition;
      if (batch.messages.length > 0) continue;
      if (after >= stored.max || waitedMs >= MAX_BARRIER_WAIT_MS) return;
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, BARRIER_WAIT_MS));
      waitedMs += performance.now() - started;
    }
  });
  const net = seconds - waitedMs / 1000;
  const waited =
    waitedMs > 0
      ? `; waited ${(waitedMs / 1000).toFixed(2)} s for older transactions (not timed)`
      : '';
  return phase(PEER_PHASES.readAll, tally.count, net, {
    check: tally.describe(stored.count) + waited,
    ok: tally.exactlyOnceInOrder(stored.count),
  });
}

async function projectionPhase(emmett: EmmettStore, workload: PeerWorkload): Promise<PhaseResult> {
  await createEmmettReadModel(emmett.pool);
  const stored = await countStored(emmett);
  const { value: rebuilt, seconds } = await timed(() =>
    rebuildEmmettProjection(emmett.connectionString, emmett.pool, stored.max),
  );
  const client = await schemaClient(emmett.connectionString, emmett.schema);
  try {
    const model = await readModelGroups(client);
    const sqlSum = await directSqlGroups(client, {
      name: 'emt_messages',
      data: 'message_data',
      type: 'message_type',
    });
    const { check, ok } = projectionCheck(model, sqlSum, workload.expected, stored.count);
    const passes = rebuilt.passes > 1 ? `; ${rebuilt.passes} passes` : '';
    return phase(PEER_PHASES.projection, stored.count, seconds, {
      check: `${check}; checkpoint ${rebuilt.checkpoint}/${stored.max}${passes}`,
      ok: ok && rebuilt.checkpoint === stored.max,
    });
  } finally {
    await client.end();
  }
}

/** One run of the four phases on Emmett's PostgreSQL event store, in a schema of its own. */
export async function runEmmett(
  databaseUrl: string,
  workload: PeerWorkload,
): Promise<PhaseResult[]> {
  const emmett = await openEmmettStore(
    databaseUrl,
    freshSchema('bench_peer_emmett'),
    IN_FLIGHT + 2,
  );
  try {
    const { store } = emmett;
    await appendEventByEvent(store, workload.warmUp, Infinity);
    const sequential = await timed(() =>
      appendEventByEvent(store, workload.sequential, workload.sequentialEvents),
    );
    const batched = await timed(() =>
      inFlight(workload.batched, IN_FLIGHT, (t) =>
        store.appendToStream(t.streamId, toEmmett(t), { expectedStreamVersion: 0n }),
      ),
    );
    return [
      phase(PEER_PHASES.sequential, workload.sequentialEvents, sequential.seconds),
      phase(PEER_PHASES.batched, workload.batched.length * 5, batched.seconds),
      await readAllPhase(emmett),
      await projectionPhase(emmett, workload),
    ];
  } finally {
    await emmett.close();
  }
}
