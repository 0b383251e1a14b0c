import type { Kysely } from 'kysely';
import { storeEvents } from '../../src/audit/event-sources.js';
import { verifyStore } from '../../src/audit/log-audit.js';
import { diffProjection, dropScratch, replayProjection } from '../../src/audit/replay.js';
import { ledgerProjections } from '../../src/projections/ledger-projections.js';
import {
  readCheckpoint,
  type CheckpointDatabase,
} from '../../src/projections/runner/checkpoints.js';
import type { Projection } from '../../src/projections/runner/projection.js';
import { ProjectionRunner } from '../../src/projections/runner/runner.js';
import type { EventStore } from '../../src/store/port.js';
import type { Acknowledgements, Place } from './load.js';

export interface ProjectionCheck {
  readonly name: string;
  /** The read model's checkpoint as the killed and restarted server left it. */
  readonly liveCheckpoint: number;
  /** Each comparison: at the live checkpoint, then (if that was behind) at the head. */
  readonly comparisons: readonly {
    readonly at: number;
    /** Tables equal to their rebuild (row for row). */
    readonly same: readonly string[];
    /** Tables that differ, with counts and a few rows of each side. */
    readonly different: readonly string[];
    /** Tables whose rows depend on batch boundaries (the projection says so): not compared. */
    readonly notCompared: readonly string[];
  }[];
}

export interface LedgerCheck {
  readonly ok: boolean;
  readonly headPosition: number;
  readonly events: number;
  readonly acknowledged: number;
  /** Acknowledged client event ids not in the log. */
  readonly lost: readonly string[];
  /** Event ids (any, acknowledged or not) stored more than once. */
  readonly duplicated: readonly string[];
  /** Acknowledged events stored, but not where the acknowledgement said. */
  readonly misplaced: readonly string[];
  /** Acknowledged master data whose stream is not where the acknowledgement said. */
  readonly masterDataMissing: readonly string[];
  readonly verification: {
    readonly ok: boolean;
    readonly sealsVerified: number;
    readonly sealedUpTo: number;
    readonly firstBreak: string | null;
  };
  readonly projections: readonly ProjectionCheck[];
}

const samePlace = (a: Place, b: Place) =>
  a.streamId === b.streamId && a.revision === b.revision && a.position === b.position;

/**
 * Checks a ledger after the crashes, with the server stopped: every acknowledged event is in the
 * log exactly once and where its answer said, no event id is stored twice, the log verifies
 * (hash chains, positions, seals), and every read model equals its rebuild from the log.
 */
export async function checkLedger(
  store: EventStore,
  db: Kysely<unknown>,
  acks: Acknowledgements,
  scratchPrefix: string,
): Promise<LedgerCheck> {
  const headPosition = await store.headPosition();
  const byId = new Map<string, Place>();
  const byPosition = new Map<number, Place & { id: string }>();
  const duplicated = new Set<string>();
  let events = 0;
  for await (const event of storeEvents(store)) {
    events += 1;
    const place = { streamId: event.streamId, revision: event.revision, position: event.position };
    if (byId.has(event.id)) duplicated.add(event.id);
    byId.set(event.id, place);
    byPosition.set(event.position, { ...place, id: event.id });
  }
  const lost: string[] = [];
  const misplaced: string[] = [];
  for (const [eventId, acknowledged] of acks.events) {
    const stored = byId.get(eventId);
    if (stored === undefined) lost.push(eventId);
    else if (!samePlace(stored, acknowledged)) {
      misplaced.push(
        `${eventId}: acknowledged ${JSON.stringify(acknowledged)}, stored ${JSON.stringify(stored)}`,
      );
    }
  }
  const masterDataMissing: string[] = [];
  for (const [streamId, acknowledged] of acks.masterData) {
    const stored = byPosition.get(acknowledged.position);
    if (stored === undefined || !samePlace(stored, acknowledged)) {
      masterDataMissing.push(`${streamId} at position ${acknowledged.position}`);
    }
  }

  const report = await verifyStore(store);
  const verification = {
    ok: report.ok,
    sealsVerified: report.sealsVerified,
    sealedUpTo: report.sealedUpTo,
    firstBreak: report.firstBreak === null ? null : report.firstBreak.message,
  };

  const projections: ProjectionCheck[] = [];
  for (const projection of ledgerProjections) {
    projections.push(await checkProjection(store, db, projection, headPosition, scratchPrefix));
  }

  const ok =
    lost.length === 0 &&
    duplicated.size === 0 &&
    misplaced.length === 0 &&
    masterDataMissing.length === 0 &&
    verification.ok &&
    projections.every((p) => p.comparisons.every((c) => c.different.length === 0));
  return {
    ok,
    headPosition,
    events,
    acknowledged: acks.events.size,
    lost,
    duplicated: [...duplicated],
    misplaced,
    masterDataMissing,
    verification,
    projections,
  };
}

/**
 * The read model as the server left it against a rebuild up to its checkpoint; if the
 * checkpoint is behind the head, the runner catches up here and the comparison is made again.
 */
async function checkProjection(
  store: EventStore,
  db: Kysely<unknown>,
  projection: Projection,
  headPosition: number,
  scratchPrefix: string,
): Promise<ProjectionCheck> {
  const liveCheckpoint =
    (await readCheckpoint(db as Kysely<CheckpointDatabase>, projection.name)) ?? 0;
  const comparisons = [
    await compareWithRebuild(db, store, projection, liveCheckpoint, scratchPrefix),
  ];
  if (liveCheckpoint < headPosition) {
    await new ProjectionRunner<string>({ store, db, projection }).catchUp();
    comparisons.push(await compareWithRebuild(db, store, projection, headPosition, scratchPrefix));
  }
  return { name: projection.name, liveCheckpoint, comparisons };
}

async function compareWithRebuild(
  db: Kysely<unknown>,
  store: EventStore,
  projection: Projection,
  at: number,
  scratchPrefix: string,
): Promise<ProjectionCheck['comparisons'][number]> {
  const schema = `${scratchPrefix}_${projection.name.replace(/[^a-z0-9]/g, '_')}_${at}`.slice(
    0,
    41,
  );
  await dropScratch(db, schema);
  try {
    const replayed = await replayProjection({
      db,
      projection,
      events: storeEvents(store),
      upTo: { position: at },
      schema,
    });
    const diffs = await diffProjection(db, projection, replayed.tables);
    return {
      at,
      same: diffs
        .filter((d) => d.compared && d.onlyLive + d.onlyReplayed === 0)
        .map((d) => d.table),
      different: diffs
        .filter((d) => d.compared && d.onlyLive + d.onlyReplayed > 0)
        .map(
          (d) =>
            `${d.table}: ${d.liveRows} live rows, ${d.replayedRows} rebuilt; ${d.onlyLive} only live ` +
            `${JSON.stringify(d.samples.live)}, ${d.onlyReplayed} only rebuilt ${JSON.stringify(d.samples.replayed)}`,
        ),
      notCompared: diffs.filter((d) => !d.compared).map((d) => d.table),
    };
  } finally {
    await dropScratch(db, schema);
  }
}
