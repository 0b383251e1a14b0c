import { InvalidInputError } from '../../domain/errors/catalogue.js';
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { LedgerError } from '../../domain/errors/catalogue.js';
import { EventIdConflictError, WrongExpectedRevisionError } from '../errors.js';
import type {
  AppendResult,
  ChainedEvent,
  EventStore,
  ExpectedRevision,
  ReadAllOptions,
  ReadAllPage,
  ReadStreamOptions,
  RecordedEvent,
  StreamAppend,
  StreamAppendResult,
  SubscribeOptions,
} from '../port.js';
import { AppendSignal } from '../subscription/append-signal.js';
import { catchUpSubscription } from '../subscription/catch-up.js';
import { validateAppends, type EncodedEvent } from '../validation.js';
import type { EventRow, StoreDatabase } from './schema.js';

export const DEFAULT_READ_BATCH = 1000;
const MAX_READ_BATCH = 10_000;

export interface SqlEventStoreOptions {
  readonly db: Kysely<StoreDatabase>;
  /** Starts delivering `ledger_appended` notifications to the signal (LISTEN); returns a stop. */
  readonly listen: (signal: AppendSignal) => Promise<() => Promise<void>>;
  /** Closes the underlying driver after the store has stopped listening. */
  readonly destroy: () => Promise<void>;
  readonly pollIntervalMs?: number;
  /**
   * Runs `APPEND_SQL` with the batch as its one parameter, if the adapter has a faster way than
   * kysely (the pg adapter uses a named prepared statement). Same SQL either way.
   */
  readonly executeAppend?: (batchJson: string) => Promise<readonly AppendRow[]>;
}

/** The one statement every append runs; `$1` is the batch as JSON text. */
export const APPEND_SQL = 'SELECT * FROM ledger_append($1::jsonb)';

export interface AppendRow {
  readonly stream_id: string;
  readonly next_revision: number;
  readonly last_position: number;
  readonly idempotent: boolean;
}

/** Encoding of expectations for `ledger_append` (see migration 0001). */
export function encodeExpectation(expected: ExpectedRevision): number {
  switch (expected) {
    case 'no_stream':
      return -1;
    case 'any':
      return -2;
    case 'stream_exists':
      return -3;
    default:
      return expected;
  }
}

/** What a recorded event is read from; the hashes are read only by `readChained`. */
const EVENT_COLUMNS = [
  'position',
  'stream_id',
  'revision',
  'event_id',
  'type',
  'data',
  'metadata',
  'recorded_at',
] as const;

type ChainedRow = Omit<EventRow, 'previous_hash' | 'hash' | 'recorded_at'> & {
  recorded_at: string;
  previous_hash: string;
  hash: string;
};

function toRecordedEvent(row: Omit<EventRow, 'previous_hash' | 'hash'>): RecordedEvent {
  return {
    streamId: row.stream_id,
    revision: row.revision,
    position: row.position,
    id: row.event_id,
    type: row.type,
    data: row.data as RecordedEvent['data'],
    metadata: row.metadata as RecordedEvent['metadata'],
    recordedAt: row.recorded_at.toISOString(),
  };
}

interface DriverError {
  code?: unknown;
  detail?: unknown;
}

/** Turns the SQLSTATEs raised by `ledger_append` into the port's typed errors. */
function translateAppendError(error: unknown, appends: readonly StreamAppend[]): unknown {
  const { code, detail } = (error ?? {}) as DriverError;
  if ((code !== 'LW001' && code !== 'LW002') || typeof detail !== 'string') return error;
  const parsed = JSON.parse(detail) as Record<string, unknown>;
  const streamId = String(parsed.streamId);
  if (code === 'LW002') {
    return new EventIdConflictError(streamId, String(parsed.eventId), String(parsed.reason));
  }
  const expected = appends.find((a) => a.streamId === streamId)?.expectedRevision ?? 'any';
  const actual = parsed.actual === null ? null : Number(parsed.actual);
  return new WrongExpectedRevisionError(streamId, expected, actual);
}

/**
 * The argument of `ledger_append`: `{ streams: [{i, s, e, n, ids, h}], events: [{i, k, id, t, d, m}] }`
 * (h: the stream's events' content hashes, from which the database chains their event hashes).
 * Written as text around the data and metadata JSON the validation already produced (this runs
 * for every event ingested, and encoding each payload twice was a measurable part of it).
 */
function encodeBatch(
  appends: readonly StreamAppend[],
  encoded: readonly (readonly EncodedEvent[])[],
): string {
  const streams = appends.map((a, i) => ({
    i,
    s: a.streamId,
    e: encodeExpectation(a.expectedRevision),
    n: a.events.length,
    ids: a.events.map((event) => event.id),
    h: (encoded[i] ?? []).map((e) => e.contentHash),
  }));
  const events: string[] = [];
  appends.forEach((a, i) => {
    a.events.forEach((event, k) => {
      const json = encoded[i]?.[k];
      if (json === undefined) throw new Error(`event ${i}/${k} was not encoded`);
      events.push(
        `{"i":${i},"k":${k},"id":${JSON.stringify(event.id)},"t":${JSON.stringify(event.type)},"d":${json.data},"m":${json.metadata}}`,
      );
    });
  });
  return `{"streams":${JSON.stringify(streams)},"events":[${events.join(',')}]}`;
}

/**
 * The event store over any PostgreSQL reached through kysely: the server (pg) and PGlite run
 * exactly this code and SQL. The adapters differ only in how they connect and listen.
 */
export function createSqlEventStore(options: SqlEventStoreOptions): EventStore {
  const { db } = options;
  const appended = new AppendSignal();
  let stopListening: Promise<() => Promise<void>> | undefined;

  async function appendMany(
    appends: readonly StreamAppend[],
    fieldPrefix?: (index: number) => string,
  ): Promise<StreamAppendResult[]> {
    const encoded = validateAppends(appends, fieldPrefix);
    const batchJson = encodeBatch(appends, encoded);
    let rows: readonly AppendRow[];
    try {
      rows =
        options.executeAppend === undefined
          ? (await db.executeQuery<AppendRow>(CompiledQuery.raw(APPEND_SQL, [batchJson]))).rows
          : await options.executeAppend(batchJson);
    } catch (error) {
      throw translateAppendError(error, appends);
    }
    if (rows.some((r) => !r.idempotent)) appended.notify();
    const byStream = new Map(rows.map((r) => [r.stream_id, r]));
    return appends.map(({ streamId }) => {
      const row = byStream.get(streamId);
      if (row === undefined) {
        throw new LedgerError(
          'LEDGER_ERR_INTERNAL',
          `ledger_append returned no outcome for ${streamId}`,
        );
      }
      return {
        streamId,
        nextExpectedRevision: Number(row.next_revision),
        position: Number(row.last_position),
        idempotent: row.idempotent,
      };
    });
  }

  /**
   * Positions are dense, so a page is a window of positions: (after, after + maxCount]. Every
   * query scans at most maxCount index entries whatever the planner's statistics say (a young
   * table's estimates once made PostgreSQL sort the whole remaining log for each page). With a
   * type filter the window is also capped by the committed head, so the reader may move past
   * skipped events without guessing.
   */
  async function readAll(opts: ReadAllOptions): Promise<ReadAllPage> {
    const maxCount = Math.min(opts.maxCount ?? DEFAULT_READ_BATCH, MAX_READ_BATCH);
    const { after, types } = opts;
    if (types === undefined) {
      const rows = await db
        .selectFrom('events')
        .select(EVENT_COLUMNS)
        .where('position', '>', after)
        .where('position', '<=', after + maxCount)
        .orderBy('position')
        .execute();
      const events = rows.map(toRecordedEvent);
      return { events, readUpTo: events.at(-1)?.position ?? after };
    }
    const upTo = Math.min(after + maxCount, await headPosition());
    if (types.length === 0 || upTo <= after) return { events: [], readUpTo: Math.max(upTo, after) };
    const rows = await db
      .selectFrom('events')
      .select(EVENT_COLUMNS)
      .where('position', '>', after)
      .where('position', '<=', upTo)
      .where('type', 'in', types)
      .orderBy('position')
      .execute();
    return { events: rows.map(toRecordedEvent), readUpTo: upTo };
  }

  async function headPosition(): Promise<number> {
    // Every position up to the largest committed one is committed too (appends are serialised).
    const row = await db
      .selectFrom('events')
      .select('position')
      .orderBy('position', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? 0 : Number(row.position);
  }

  function ensureListening(): Promise<unknown> {
    stopListening ??= options.listen(appended).catch(() => {
      // Without notifications the subscription still works by polling.
      return () => Promise.resolve();
    });
    return stopListening;
  }

  return {
    capabilities: { atomicMultiStreamAppend: true },

    async append(streamId, events, { expectedRevision }): Promise<AppendResult> {
      // Errors name fields as the caller passed them: `events[1].id`, not `appends[0].events[1].id`.
      const [result] = await appendMany([{ streamId, events, expectedRevision }], () => '');
      if (result === undefined)
        throw new LedgerError('LEDGER_ERR_INTERNAL', 'append returned no outcome');
      const { nextExpectedRevision, position, idempotent } = result;
      return { nextExpectedRevision, position, idempotent };
    },

    appendMany: (appends) => appendMany(appends),

    async readStream(streamId: string, opts: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
      const backwards = opts.direction === 'backwards';
      let query = db
        .selectFrom('events')
        .select(EVENT_COLUMNS)
        .where('stream_id', '=', streamId)
        .orderBy('revision', backwards ? 'desc' : 'asc');
      if (opts.maxCount !== undefined) query = query.limit(opts.maxCount);
      if (opts.fromRevision !== undefined) {
        query = query.where('revision', backwards ? '<=' : '>=', opts.fromRevision);
      }
      return (await query.execute()).map(toRecordedEvent);
    },

    async readStreams(
      streamIds: readonly string[],
      options: { readonly lastEvents?: number } = {},
    ): Promise<Map<string, RecordedEvent[]>> {
      const result = new Map<string, RecordedEvent[]>(streamIds.map((id) => [id, []]));
      if (streamIds.length === 0) return result;
      const { lastEvents } = options;
      if (lastEvents !== undefined && (!Number.isSafeInteger(lastEvents) || lastEvents < 1)) {
        throw new InvalidInputError('lastEvents', 'lastEvents must be a whole number ≥ 1');
      }
      // One index probe per stream (LATERAL): with an IN list, a young table without
      // statistics was planned as a scan of the whole log for every batch. The tail is read
      // backwards from the (stream_id, revision) index and put back in revision order.
      const { rows } = await sql<Omit<EventRow, 'previous_hash' | 'hash'>>`
        SELECT e.* FROM unnest(${[...new Set(streamIds)]}::text[]) AS s(stream_id)
        CROSS JOIN LATERAL (
          SELECT * FROM (
            SELECT position, stream_id, revision, event_id, type, data, metadata, recorded_at
              FROM events WHERE events.stream_id = s.stream_id
             ORDER BY revision DESC LIMIT ${lastEvents ?? null}
          ) tail ORDER BY revision
        ) e`.execute(db);
      for (const row of rows) result.get(row.stream_id)?.push(toRecordedEvent(row));
      return result;
    },

    async streamsOfEventIds(eventIds: readonly string[]): Promise<Map<string, string[]>> {
      const found = new Map<string, string[]>();
      const ids = [...new Set(eventIds.map((id) => id.toLowerCase()))];
      if (ids.length === 0) return found;
      // A correlated subquery is run as one index probe per id whatever the statistics say; a
      // join was planned as a hash join over a scan of the whole log while the table was young.
      const { rows } = await sql<{ event_id: string; stream_ids: string[] | null }>`
        SELECT i.id AS event_id,
               (SELECT array_agg(e.stream_id) FROM events e WHERE e.event_id = i.id) AS stream_ids
          FROM unnest(${ids}::uuid[]) AS i(id)`.execute(db);
      for (const row of rows) if (row.stream_ids !== null) found.set(row.event_id, row.stream_ids);
      return found;
    },

    async streamRevision(streamId: string): Promise<number | null> {
      const row = await db
        .selectFrom('events')
        .select('revision')
        .where('stream_id', '=', streamId)
        .orderBy('revision', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row === undefined ? null : Number(row.revision);
    },

    readAll,
    headPosition,

    async readChained({ after, maxCount }): Promise<ChainedEvent[]> {
      const count = Math.min(maxCount ?? DEFAULT_READ_BATCH, MAX_READ_BATCH);
      // The recorded time comes as the text the hash was made over (no Date round trip: this
      // read is what verification and export spend most of their time on).
      const { rows } = await sql<ChainedRow>`
        SELECT position, stream_id, revision, event_id, type, data, metadata,
               to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recorded_at,
               encode(previous_hash, 'hex') AS previous_hash, encode(hash, 'hex') AS hash
          FROM events WHERE position > ${after} AND position <= ${after + count}
         ORDER BY position`.execute(db);
      return rows.map((row) => ({
        streamId: row.stream_id,
        revision: row.revision,
        position: row.position,
        id: row.event_id,
        type: row.type,
        data: row.data as ChainedEvent['data'],
        metadata: row.metadata as ChainedEvent['metadata'],
        recordedAt: row.recorded_at,
        previousHash: row.previous_hash,
        hash: row.hash,
      }));
    },

    async readChainedLines({ after, maxCount }) {
      const count = Math.min(maxCount ?? DEFAULT_READ_BATCH, MAX_READ_BATCH);
      // Field names and order as audit/export-format.ts writes them (its tests read these back).
      const { rows } = await sql<{ position: number; line: string }>`
        SELECT position, json_build_object(
                 'position', position, 'streamId', stream_id, 'revision', revision,
                 'eventId', event_id, 'type', type, 'data', data, 'metadata', metadata,
                 'recordedAt', to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                 'previousHash', encode(previous_hash, 'hex'), 'hash', encode(hash, 'hex'))::text AS line
          FROM events WHERE position > ${after} AND position <= ${after + count}
         ORDER BY position`.execute(db);
      return rows.map((row) => ({ position: Number(row.position), line: row.line }));
    },

    subscribeToAll(opts: SubscribeOptions): AsyncIterable<RecordedEvent> {
      const listening = ensureListening();
      const pollIntervalMs = options.pollIntervalMs;
      return (async function* () {
        // Listen before the first read: an append committed in between would otherwise wake
        // nobody, and the subscriber would wait a whole polling interval.
        await listening;
        yield* catchUpSubscription(readAll, appended, opts, pollIntervalMs);
      })();
    },

    async close(): Promise<void> {
      if (stopListening !== undefined) await (await stopListening)();
      await options.destroy();
    },
  };
}
