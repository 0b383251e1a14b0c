import { sql, type Kysely } from 'kysely';
import { canonicalJson } from '../../integrity/canonical-json.js';
import { sha256Hex } from '../../integrity/event-hash.js';
import type { Json } from '../port.js';
import { ledgerPartOf, type EsdbEventLike } from './envelope.js';

/** A place in EventStoreDB's `$all`. */
export interface AllPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

/** One ledger event as the index knows it. */
export interface IndexRow {
  readonly position: number;
  readonly commit: bigint;
  readonly prepare: bigint;
  readonly streamId: string;
  readonly revision: number;
  readonly eventId: string;
  readonly type: string;
  readonly dataDigest: string;
  readonly hash: string;
  readonly recordedAt: string;
}

/** What the index needs from EventStoreDB: one forward page of `$all`, start inclusive. */
export type ReadAllForwards = (
  from: AllPosition | 'start',
  maxCount: number,
) => Promise<readonly { event: EsdbEventLike; position: AllPosition }[]>;

export function dataDigest(type: string, data: Json): string {
  return sha256Hex(`${JSON.stringify(type)}:${canonicalJson(data)}`);
}

const PAGE = 1000;

interface RawRow {
  position: string | number;
  commit_position: string | number;
  prepare_position: string | number;
  stream_id: string;
  revision: string | number;
  event_id: string;
  type: string;
  data_digest: string;
  hash: string;
  recorded_at: string;
}

function rowOf(raw: RawRow): IndexRow {
  return {
    position: Number(raw.position),
    commit: BigInt(raw.commit_position),
    prepare: BigInt(raw.prepare_position),
    streamId: raw.stream_id,
    revision: Number(raw.revision),
    eventId: raw.event_id,
    type: raw.type,
    dataDigest: raw.data_digest,
    hash: raw.hash,
    recordedAt: raw.recorded_at,
  };
}

/**
 * Maps EventStoreDB's `$all` positions (sparse byte offsets, commit and prepare) to the ledger's
 * dense positions 1, 2, 3… and answers the questions EventStoreDB has no index for: which
 * streams hold an event id, what a stream's last hash is, where the n-th ledger event is.
 *
 * `catchUp` reads `$all` from where the index stopped. Ledger positions follow `$all` order, so
 * every process that indexes the same `$all` computes the same rows; rows are inserted with
 * ON CONFLICT DO NOTHING and a process that finds the index moved while it read starts again.
 */
export class PositionIndex {
  readonly #db: Kysely<unknown>;
  readonly #readAll: ReadAllForwards;
  readonly #namespacePrefix: string;
  /** One catch-up at a time in this process; callers share the one in flight. */
  #running: Promise<void> | undefined;
  #rerun = false;
  #known: { head: number; scanned: AllPosition | undefined } | undefined;

  constructor(db: Kysely<unknown>, readAll: ReadAllForwards, namespacePrefix: string) {
    this.#db = db;
    this.#readAll = readAll;
    this.#namespacePrefix = namespacePrefix;
  }

  /**
   * Indexes everything in `$all` committed before this call. A call made while a catch-up is
   * running waits for it and then runs once more, so nothing committed before it is missed.
   */
  catchUp(): Promise<void> {
    if (this.#running !== undefined) {
      this.#rerun = true;
      return this.#running;
    }
    const run = async () => {
      try {
        do {
          this.#rerun = false;
          await this.#catchUpOnce();
        } while (this.#rerun);
      } finally {
        this.#running = undefined;
      }
    };
    this.#running = run();
    return this.#running;
  }

  async #catchUpOnce(): Promise<void> {
    for (;;) {
      // What this process last wrote, if anything: saves a query per catch-up. Were it stale
      // (another process indexed meanwhile), the write below notices and this starts again.
      const { head, scanned } = this.#known ?? (await this.#state());
      const from: AllPosition | 'start' = scanned ?? 'start';
      const page = await this.#readAll(from, PAGE + 1);
      // The read starts at the last scanned event itself (inclusive): skip it.
      const fresh =
        scanned === undefined
          ? page
          : page.filter(
              (p) =>
                p.position.commit > scanned.commit ||
                (p.position.commit === scanned.commit && p.position.prepare > scanned.prepare),
            );
      const last = fresh[fresh.length - 1]?.position;
      if (last === undefined) {
        this.#known = { head, scanned };
        return;
      }
      const rows: IndexRow[] = [];
      for (const { event, position } of fresh) {
        if (!event.streamId.startsWith(this.#namespacePrefix)) continue;
        const stored = ledgerPartOf(event.metadata);
        if (stored === undefined) continue;
        rows.push({
          position: head + rows.length + 1,
          commit: position.commit,
          prepare: position.prepare,
          streamId: event.streamId.slice(this.#namespacePrefix.length),
          revision: Number(event.revision),
          eventId: event.id.toLowerCase(),
          type: event.type,
          dataDigest: dataDigest(event.type, event.data as Json),
          hash: stored.ledger.hash,
          recordedAt: stored.ledger.recordedAt,
        });
      }
      const stored = await this.#store(head, scanned, rows, last);
      if (!stored) {
        // Another process moved the index first: read its state and go on from there.
        this.#known = undefined;
        continue;
      }
      this.#known = { head: head + rows.length, scanned: last };
      if (page.length < PAGE + 1) return;
    }
  }

  async #state(): Promise<{ head: number; scanned: AllPosition | undefined }> {
    const { rows } = await sql<{
      head: string | number;
      commit_position: string | null;
      prepare_position: string | null;
    }>`SELECT (SELECT coalesce(max(position), 0) FROM esdb_position_index) AS head,
              s.commit_position::text AS commit_position, s.prepare_position::text AS prepare_position
         FROM (SELECT 1) one LEFT JOIN esdb_position_scan s ON s.id = 1`.execute(this.#db);
    const state = rows[0];
    const head = Number(state?.head ?? 0);
    const scanned =
      state?.commit_position == null || state.prepare_position == null
        ? undefined
        : { commit: BigInt(state.commit_position), prepare: BigInt(state.prepare_position) };
    return { head, scanned };
  }

  /**
   * Writes one page in one transaction, if the index is still where this page was read from.
   * Returns false when another process moved it first (the page is then read again).
   */
  async #store(
    head: number,
    scanned: AllPosition | undefined,
    rows: readonly IndexRow[],
    last: AllPosition,
  ): Promise<boolean> {
    return this.#db.transaction().execute(async (tx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.esdb_position_index'))`.execute(
        tx,
      );
      const now = await sql<{ head: string | number; commit_position: string | null }>`
        SELECT (SELECT coalesce(max(position), 0) FROM esdb_position_index) AS head,
               (SELECT commit_position::text FROM esdb_position_scan WHERE id = 1) AS commit_position`.execute(
        tx,
      );
      const current = now.rows[0];
      const stillThere =
        Number(current?.head ?? 0) === head &&
        (current?.commit_position ?? null) === (scanned?.commit.toString() ?? null);
      if (!stillThere) return false;
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        await sql`
          INSERT INTO esdb_position_index
            (position, commit_position, prepare_position, stream_id, revision, event_id, type,
             data_digest, hash, recorded_at)
          SELECT * FROM jsonb_to_recordset(${JSON.stringify(
            chunk.map((r) => ({
              position: r.position,
              commit_position: r.commit.toString(),
              prepare_position: r.prepare.toString(),
              stream_id: r.streamId,
              revision: r.revision,
              event_id: r.eventId,
              type: r.type,
              data_digest: r.dataDigest,
              hash: r.hash,
              recorded_at: r.recordedAt,
            })),
          )}::jsonb) AS x(position bigint, commit_position bigint, prepare_position bigint,
                          stream_id text, revision bigint, event_id uuid, type text,
                          data_digest text, hash text, recorded_at text)`.execute(tx);
      }
      await sql`
        INSERT INTO esdb_position_scan (id, commit_position, prepare_position)
        VALUES (1, ${last.commit.toString()}::bigint, ${last.prepare.toString()}::bigint)
        ON CONFLICT (id) DO UPDATE
          SET commit_position = excluded.commit_position,
              prepare_position = excluded.prepare_position`.execute(tx);
      return true;
    });
  }

  async head(): Promise<number> {
    return (await this.#state()).head;
  }

  /** Rows at positions (after, after + maxCount], in order. */
  async range(after: number, maxCount: number): Promise<IndexRow[]> {
    const { rows } = await sql<RawRow>`
      SELECT * FROM esdb_position_index WHERE position > ${after} AND position <= ${after + maxCount}
       ORDER BY position`.execute(this.#db);
    return rows.map(rowOf);
  }

  /** The stream's events, in revision order (idempotency checks and position look-ups). */
  async stream(streamId: string): Promise<IndexRow[]> {
    const { rows } = await sql<RawRow>`
      SELECT * FROM esdb_position_index WHERE stream_id = ${streamId} ORDER BY revision`.execute(
      this.#db,
    );
    return rows.map(rowOf);
  }

  async lastOf(streamId: string): Promise<IndexRow | undefined> {
    const { rows } = await sql<RawRow>`
      SELECT * FROM esdb_position_index WHERE stream_id = ${streamId}
       ORDER BY revision DESC LIMIT 1`.execute(this.#db);
    const row = rows[0];
    return row === undefined ? undefined : rowOf(row);
  }

  /** Each existing stream's last event. */
  async lastOfStreams(streamIds: readonly string[]): Promise<Map<string, IndexRow>> {
    const { rows } = await sql<RawRow>`
      SELECT DISTINCT ON (stream_id) * FROM esdb_position_index
       WHERE stream_id = ANY (${streamIds}::text[])
       ORDER BY stream_id, revision DESC`.execute(this.#db);
    return new Map(rows.map((raw) => [raw.stream_id, rowOf(raw)]));
  }

  /** Of these event ids, those stored in these streams, by stream (idempotency checks). */
  async eventsInStreams(
    streamIds: readonly string[],
    eventIds: readonly string[],
  ): Promise<Map<string, IndexRow[]>> {
    const { rows } = await sql<RawRow>`
      SELECT * FROM esdb_position_index
       WHERE event_id = ANY (${eventIds}::uuid[]) AND stream_id = ANY (${streamIds}::text[])
       ORDER BY position`.execute(this.#db);
    const byStream = new Map<string, IndexRow[]>();
    for (const raw of rows) {
      const list = byStream.get(raw.stream_id) ?? [];
      list.push(rowOf(raw));
      byStream.set(raw.stream_id, list);
    }
    return byStream;
  }

  /** Ledger positions of (stream, revision) pairs, keyed `stream@revision`. */
  async positionsOf(
    places: readonly { streamId: string; lastRevision: number }[],
  ): Promise<Map<string, number>> {
    const { rows } = await sql<{
      stream_id: string;
      revision: string | number;
      position: string | number;
    }>`
      SELECT i.stream_id, i.revision, i.position
        FROM jsonb_to_recordset(${JSON.stringify(
          places.map((p) => ({ s: p.streamId, r: p.lastRevision })),
        )}::jsonb) AS x(s text, r bigint)
        JOIN esdb_position_index i ON i.stream_id = x.s AND i.revision = x.r`.execute(this.#db);
    return new Map(rows.map((r) => [`${r.stream_id}@${Number(r.revision)}`, Number(r.position)]));
  }

  async lastRecordedAt(): Promise<string | undefined> {
    const { rows } = await sql<{ recorded_at: string }>`
      SELECT recorded_at FROM esdb_position_index ORDER BY position DESC LIMIT 1`.execute(this.#db);
    return rows[0]?.recorded_at;
  }

  async streamsOfEventIds(eventIds: readonly string[]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    if (eventIds.length === 0) return found;
    const { rows } = await sql<{ event_id: string; stream_id: string }>`
      SELECT event_id::text AS event_id, stream_id FROM esdb_position_index
       WHERE event_id = ANY (${eventIds.map((id) => id.toLowerCase())}::uuid[])
       ORDER BY position`.execute(this.#db);
    for (const row of rows) {
      const streams = found.get(row.event_id) ?? [];
      streams.push(row.stream_id);
      found.set(row.event_id, streams);
    }
    return found;
  }
}
