import { sql, type Kysely } from 'kysely';
import {
  projectionMigrations,
  readCheckpoint,
  type CheckpointDatabase,
} from '../../src/projections/runner/checkpoints.js';
import type { Projection } from '../../src/projections/runner/projection.js';
import type { EventStore, EventToAppend, JsonObject, RecordedEvent } from '../../src/store/port.js';
import { migrateToLatest } from '../../src/store/sql/migrate.js';
import type { StoreHarness } from '../support/databases.js';
import { readTotals, weightsProjection, type Total } from './test-projection.js';

/** A fresh log with the projections' schema installed, as `openLedger` sets it up. */
export interface ProjectionDb {
  readonly store: EventStore;
  readonly db: Kysely<unknown>;
  /** Where the log, the checkpoints and the read models live. */
  readonly schema: string;
  close(): Promise<void>;
}

export async function openProjectionDb(harness: StoreHarness): Promise<ProjectionDb> {
  const opened = await harness.open({ pollIntervalMs: 50 });
  const db = opened.db as unknown as Kysely<unknown>;
  try {
    const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db);
    const schema = rows[0]?.schema;
    if (schema === undefined) throw new Error('no current schema');
    await migrateToLatest(db, 'projections', projectionMigrations, schema);
    return { store: opened.store, db, schema, close: () => opened.close() };
  } catch (error) {
    await opened.close();
    throw error;
  }
}

let lastId = 0;

/** Deterministic, RFC 4122-shaped (v4 layout) event ids, unique within a test process. */
export function nextEventId(): string {
  lastId += 1;
  return `00000000-0000-4000-8000-${lastId.toString(16).padStart(12, '0')}`;
}

export function event(type: string, data: JsonObject): EventToAppend {
  return { id: nextEventId(), type, data };
}

let lastNamespace = 0;

/**
 * Tests in one file share one log (opening PGlite takes seconds), so each test (or property run)
 * gets its own event types, projection and table: the other tests' events are, to it, just
 * events of types it does not handle.
 */
export interface Namespace {
  /** The type the projection sums. */
  readonly weighed: string;
  /** A type it must skip. */
  readonly other: string;
  /** Projection name = live table name. */
  readonly table: string;
  readonly projection: Projection<string>;
  weigh(key: string, kg: number): EventToAppend;
  unrelated(key: string, kg: number): EventToAppend;
}

export function namespace(label = 'w'): Namespace {
  lastNamespace += 1;
  const n = lastNamespace;
  const weighed = `Weighed.${label}${n}`;
  const other = `Sorted.${label}${n}`;
  const table = `weights_${label}${n}`;
  return {
    weighed,
    other,
    table,
    projection: weightsProjection({ table, type: weighed }),
    weigh: (key, kg) => event(weighed, { key, kg }),
    unrelated: (key, kg) => event(other, { key, kg }),
  };
}

export function append(
  store: EventStore,
  events: readonly EventToAppend[],
  streamId = 'weighbridge-1',
): Promise<unknown> {
  return store.append(streamId, events, { expectedRevision: 'any' });
}

/** Every event of the log (of `types`, if given), in order. */
export async function readLog(
  store: EventStore,
  types?: readonly string[],
): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  const head = await store.headPosition();
  let after = 0;
  while (after < head) {
    const page = await store.readAll(
      types === undefined ? { after, maxCount: 500 } : { after, maxCount: 500, types },
    );
    events.push(...page.events);
    if (page.readUpTo === after) break;
    after = page.readUpTo;
  }
  return events;
}

export function checkpointOf(db: Kysely<unknown>, name: string): Promise<number | undefined> {
  return readCheckpoint(db as Kysely<CheckpointDatabase>, name);
}

export interface Snapshot {
  readonly checkpoint: number | undefined;
  readonly totals: Total[];
}

export async function snapshot(db: Kysely<unknown>, ns: Namespace): Promise<Snapshot> {
  return {
    checkpoint: await checkpointOf(db, ns.projection.name),
    totals: await readTotals(db, ns.table),
  };
}

/** Thrown by test wrappers to simulate a crash; anything else is a real failure. */
export class InjectedFailure extends Error {}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 5_000,
  everyMs = 10,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await delay(everyMs);
  }
}

export async function tableExists(db: Kysely<unknown>, table: string): Promise<boolean> {
  const { rows } = await sql<{
    oid: string | null;
  }>`SELECT to_regclass(${table})::text AS oid`.execute(db);
  return rows[0]?.oid !== null && rows[0]?.oid !== undefined;
}

export async function indexesOf(db: Kysely<unknown>, table: string): Promise<string[]> {
  const { rows } = await sql<{ indexname: string }>`
    SELECT indexname FROM pg_indexes
     WHERE schemaname = current_schema() AND tablename = ${table}
     ORDER BY indexname`.execute(db);
  return rows.map((r) => r.indexname);
}
