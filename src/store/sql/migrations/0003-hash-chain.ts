import { sql, type Kysely } from 'kysely';
import { canonicalJson } from '../../../integrity/canonical-json.js';
import { chainHash, contentHashOfCanonical, GENESIS_HASH } from '../../../integrity/event-hash.js';
import { LOCK_CLASS } from './0001-event-log.js';

const BACKFILL_BATCH = 2000;

/**
 * Tamper evidence (see integrity/event-hash.ts for the hashes):
 *
 * 1. every event gets `previous_hash` (its stream's previous event's hash, zeros for the first)
 *    and `hash`; events stored before this migration are hashed here, oldest first;
 * 2. `ledger_append` now computes each new event's hash inside the append lock, where the
 *    stream's previous hash, the revision and the recorded time are known, from the content
 *    hash the adapter sends (the adapter has the canonical JSON; SQL has no RFC 8785);
 * 3. the log becomes write-once: UPDATE, DELETE and TRUNCATE on `events` raise LW004 for every
 *    role, the owner included. A superuser can still disable the trigger; that is what the
 *    hash chains and the signed seals are there to reveal.
 *
 * No `down`: taking tamper evidence away is not a migration the ledger offers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE events ADD COLUMN previous_hash bytea, ADD COLUMN hash bytea`.execute(db);
  await backfill(db);
  await sql`
    ALTER TABLE events
      ALTER COLUMN previous_hash SET NOT NULL,
      ALTER COLUMN hash SET NOT NULL,
      ADD CONSTRAINT events_hash_length CHECK (length(hash) = 32 AND length(previous_hash) = 32)`.execute(
    db,
  );
  await sql.raw(APPEND_FUNCTION).execute(db);
  await sql`
    CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      RAISE EXCEPTION USING ERRCODE = 'LW004',
        MESSAGE = format('the event log is write-once: %s on events is refused', TG_OP);
    END
    $fn$`.execute(db);
  await sql`
    CREATE TRIGGER events_write_once BEFORE UPDATE OR DELETE ON events
      FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`.execute(db);
  await sql`
    CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
      FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()`.execute(db);
  await sql`REVOKE UPDATE, DELETE, TRUNCATE ON events FROM PUBLIC`.execute(db);
}

interface StoredRow {
  position: number;
  stream_id: string;
  revision: number;
  event_id: string;
  type: string;
  data: unknown;
  metadata: unknown;
  recorded_at: Date;
}

/** Hashes the events stored before this migration, in position order (so stream order too). */
async function backfill(db: Kysely<unknown>): Promise<void> {
  const lastHash = new Map<string, string>();
  for (let after = 0; ;) {
    const { rows } = await sql<StoredRow>`
      SELECT position, stream_id, revision, event_id, type, data, metadata, recorded_at
        FROM events WHERE position > ${after} ORDER BY position LIMIT ${BACKFILL_BATCH}`.execute(
      db,
    );
    if (rows.length === 0) return;
    const positions: number[] = [];
    const previous: string[] = [];
    const hashes: string[] = [];
    for (const row of rows) {
      const content = contentHashOfCanonical(
        row.stream_id,
        row.event_id,
        row.type,
        canonicalJson(row.data),
        canonicalJson(row.metadata),
      );
      const prev = lastHash.get(row.stream_id) ?? GENESIS_HASH;
      const hash = chainHash(content, prev, row.recorded_at.toISOString(), Number(row.revision));
      lastHash.set(row.stream_id, hash);
      positions.push(Number(row.position));
      previous.push(prev);
      hashes.push(hash);
    }
    await sql`
      UPDATE events SET previous_hash = decode(u.p, 'hex'), hash = decode(u.h, 'hex')
        FROM unnest(${positions}::bigint[], ${previous}::text[], ${hashes}::text[]) AS u(pos, p, h)
       WHERE events.position = u.pos`.execute(db);
    after = positions[positions.length - 1]!;
  }
}

/** `ledger_append` of migration 0001, with the hash chain (the changes are commented). */
const APPEND_FUNCTION = `
CREATE OR REPLACE FUNCTION ledger_append(batch jsonb)
RETURNS TABLE (stream_id text, next_revision bigint, last_position bigint, idempotent boolean)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE
  v_head bigint;
  v_last_recorded timestamptz;
  v_recorded timestamptz;
  v_new bigint := 0;
  v_bases bigint[] := '{}';
  v_offsets bigint[] := '{}';
  v_streams text[] := '{}';
  v_cur bigint;
  v_start bigint;
  s record;
  r record;
  ev record;
  -- Hash chain: a stream's first event follows 32 zero bytes.
  v_genesis bytea := decode(repeat('0', 64), 'hex');
  v_ts text;
  v_hash bytea;
  v_k int;
  v_inserted bigint;
  v_prev bytea[] := '{}';
  v_hashes bytea[] := '{}';
BEGIN
  PERFORM pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(current_schema()));
  SELECT e.position, e.recorded_at INTO v_head, v_last_recorded
    FROM events e ORDER BY e.position DESC LIMIT 1;
  v_head := coalesce(v_head, 0);
  v_last_recorded := coalesce(v_last_recorded, '-infinity');
  -- Recorded time never goes backwards along the log, even if the server clock does. It is part
  -- of every new event's hash, written as Date.toISOString writes it.
  v_recorded := greatest(date_trunc('milliseconds', clock_timestamp()), v_last_recorded);
  v_ts := to_char(v_recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

  FOR s IN
    SELECT x.i, x.s, x.e, x.n, x.ids, x.h, cur.revision AS cur, cur.hash AS cur_hash,
           EXISTS (SELECT 1 FROM events e WHERE e.stream_id = x.s AND e.event_id = ANY (x.ids)) AS seen
      FROM jsonb_to_recordset(batch->'streams') AS x(i int, s text, e bigint, n int, ids uuid[], h text[])
      -- A LIMIT 1 lateral is an index probe per stream, like a correlated subquery.
      LEFT JOIN LATERAL (SELECT e.revision, e.hash FROM events e WHERE e.stream_id = x.s
                          ORDER BY e.revision DESC LIMIT 1) cur ON true
  LOOP
    v_cur := s.cur;
    IF s.seen THEN
      v_start := NULL;
      FOR r IN SELECT * FROM jsonb_to_recordset(batch->'events') AS y(i int, k int, id uuid, t text, d jsonb)
                WHERE y.i = s.i ORDER BY y.k
      LOOP
        SELECT e.revision, e.position, e.type, e.data INTO ev
          FROM events e WHERE e.stream_id = s.s AND e.event_id = r.id;
        IF NOT FOUND OR (v_start IS NOT NULL AND ev.revision <> v_start + r.k) THEN
          RAISE EXCEPTION USING ERRCODE = 'LW002', MESSAGE = 'event id conflict',
            DETAIL = json_build_object('streamId', s.s, 'eventId', r.id,
              'reason', CASE WHEN FOUND THEN 'is already stored at another place than this append'
                             ELSE 'is new, but other events of this append are already stored' END)::text;
        END IF;
        IF ev.type <> r.t OR ev.data <> r.d THEN
          RAISE EXCEPTION USING ERRCODE = 'LW002', MESSAGE = 'event id conflict',
            DETAIL = json_build_object('streamId', s.s, 'eventId', r.id,
              'reason', 'is already stored with other content')::text;
        END IF;
        v_start := coalesce(v_start, ev.revision - r.k);
        next_revision := ev.revision;
        last_position := ev.position;
      END LOOP;
      IF (s.e >= 0 AND v_start <> s.e + 1) OR (s.e = -1 AND v_start <> 0) THEN
        RAISE EXCEPTION USING ERRCODE = 'LW002', MESSAGE = 'event id conflict',
          DETAIL = json_build_object('streamId', s.s, 'eventId', s.ids[1],
            'reason', 'is already stored at another place than this append')::text;
      END IF;
      stream_id := s.s;
      idempotent := true;
      RETURN NEXT;
      CONTINUE;
    END IF;

    IF (s.e = -1 AND v_cur IS NOT NULL) OR (s.e = -3 AND v_cur IS NULL)
       OR (s.e >= 0 AND v_cur IS DISTINCT FROM s.e) THEN
      RAISE EXCEPTION USING ERRCODE = 'LW001', MESSAGE = 'wrong expected revision',
        DETAIL = json_build_object('streamId', s.s, 'expected', s.e, 'actual', v_cur)::text;
    END IF;

    v_streams[s.i + 1] := s.s;
    v_bases[s.i + 1] := coalesce(v_cur, -1) + 1;
    v_offsets[s.i + 1] := v_new;
    -- The chain is sequential within a stream (each hash needs the one before): a loop over the
    -- stream's content hashes, in revision order, kept by the event's place in the batch. (A
    -- loop over an array; a loop over a query, or a regex check per event, cost several µs each.
    -- A content hash that is not 64 hex digits only makes a hash verification will not reproduce.)
    IF coalesce(array_length(s.h, 1), 0) <> s.n THEN
      RAISE EXCEPTION USING ERRCODE = 'LW003',
        MESSAGE = format('malformed batch: stream %s declares %s events and %s content hashes',
                         s.i, s.n, coalesce(array_length(s.h, 1), 0));
    END IF;
    v_hash := coalesce(s.cur_hash, v_genesis);
    FOR v_k IN 1 .. s.n LOOP
      v_prev[v_new + v_k] := v_hash;
      v_hash := sha256(convert_to(
        '{"contentHash":"' || s.h[v_k] || '","previousHash":"' || encode(v_hash, 'hex')
        || '","recordedAt":"' || v_ts || '","revision":' || (v_bases[s.i + 1] + v_k - 1) || '}', 'UTF8'));
      v_hashes[v_new + v_k] := v_hash;
    END LOOP;
    v_new := v_new + s.n;
    stream_id := s.s;
    next_revision := coalesce(v_cur, -1) + s.n;
    last_position := v_head + v_new;
    idempotent := false;
    RETURN NEXT;
  END LOOP;

  IF v_new > 0 THEN
    INSERT INTO events (position, stream_id, revision, event_id, type, data, metadata, recorded_at,
                        previous_hash, hash)
    -- The batch lists events stream by stream, which is already position order.
    SELECT v_head + v_offsets[re.i + 1] + re.k + 1, v_streams[re.i + 1], v_bases[re.i + 1] + re.k,
           re.id, re.t, re.d, coalesce(re.m, '{}'::jsonb), v_recorded,
           v_prev[v_offsets[re.i + 1] + re.k + 1], v_hashes[v_offsets[re.i + 1] + re.k + 1]
      FROM jsonb_to_recordset(batch->'events') AS re(i int, k int, id uuid, t text, d jsonb, m jsonb)
     WHERE v_bases[re.i + 1] IS NOT NULL;
    -- The adapters build consistent batches; a hand-made call must not leave a gap, nor an
    -- event without its hash (the column is NOT NULL).
    GET DIAGNOSTICS v_inserted = ROW_COUNT;
    IF v_inserted <> v_new THEN
      RAISE EXCEPTION USING ERRCODE = 'LW003',
        MESSAGE = format('malformed batch: %s events declared, %s given', v_new, v_inserted);
    END IF;
    PERFORM pg_notify('ledger_appended', (v_head + v_new)::text);
  END IF;
END
$fn$`;
