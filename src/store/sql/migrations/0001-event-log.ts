import { sql, type Kysely } from 'kysely';

/** First key of the advisory lock that serialises appenders (the second is the schema's hash). */
export const LOCK_CLASS = 20_221_001;

/**
 * The event log. Appends go through `ledger_append(batch jsonb)`, one round trip per call, which:
 *
 * 1. takes a transaction-scoped advisory lock: appenders are serialised from here to their
 *    commit, so positions are handed out in commit order;
 * 2. reads the head (the last position, through the primary key) and checks each stream's
 *    expectation and idempotency against committed state (every statement after the lock sees
 *    the previous holder's commit);
 * 3. inserts the new events at positions head+1 … head+n; a rollback takes them away again, so
 *    the next appender reuses those positions and the log stays dense (gap-free);
 * 4. notifies `ledger_appended` (delivered at commit) to wake subscribers.
 *
 * Why this is exact: PostgreSQL makes a transaction visible before it releases its locks, so
 * the next appender can only take positions after every lower position is already visible. A
 * reader that has seen position p can never later find a new event at or below p.
 *
 * Expectations are encoded as: -1 no_stream, -2 any, -3 stream_exists, n ≥ 0 exact revision.
 * Errors use SQLSTATE LW001 (wrong expected revision) and LW002 (event id conflict) with a JSON
 * detail the adapters turn into typed errors.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE events (
      position bigint PRIMARY KEY,
      stream_id text NOT NULL,
      revision bigint NOT NULL,
      event_id uuid NOT NULL,
      type text NOT NULL CHECK (length(type) > 0),
      data jsonb NOT NULL,
      metadata jsonb NOT NULL,
      recorded_at timestamptz NOT NULL,
      CONSTRAINT events_stream_revision_key UNIQUE (stream_id, revision),
      CONSTRAINT events_stream_event_id_key UNIQUE (stream_id, event_id)
    )`.execute(db);
  await sql`
    CREATE FUNCTION ledger_append(batch jsonb)
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
      v_inserted bigint;
      v_cur bigint;
      v_start bigint;
      s record;
      r record;
      ev record;
    BEGIN
      -- One appender at a time per log (the key is the schema), held until commit or rollback.
      PERFORM pg_advisory_xact_lock(${sql.lit(LOCK_CLASS)}, hashtext(current_schema()));
      SELECT e.position, e.recorded_at INTO v_head, v_last_recorded
        FROM events e ORDER BY e.position DESC LIMIT 1;
      v_head := coalesce(v_head, 0);
      v_last_recorded := coalesce(v_last_recorded, '-infinity');

      -- One statement for all streams; its per-stream lookups are correlated subqueries, which
      -- PostgreSQL runs as index probes whatever its statistics say (a join here was once
      -- planned as a scan of the whole log), and one statement is planned once, not per stream.
      FOR s IN
        SELECT x.i, x.s, x.e, x.n, x.ids,
               (SELECT e.revision FROM events e WHERE e.stream_id = x.s
                 ORDER BY e.revision DESC LIMIT 1) AS cur,
               EXISTS (SELECT 1 FROM events e WHERE e.stream_id = x.s AND e.event_id = ANY (x.ids)) AS seen
          FROM jsonb_to_recordset(batch->'streams') AS x(i int, s text, e bigint, n int, ids uuid[])
      LOOP
        v_cur := s.cur;
        IF s.seen THEN
          -- Idempotent only when the whole append is already stored, unchanged, at one place.
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
        v_new := v_new + s.n;
        stream_id := s.s;
        next_revision := coalesce(v_cur, -1) + s.n;
        last_position := v_head + v_new;
        idempotent := false;
        RETURN NEXT;
      END LOOP;

      IF v_new > 0 THEN
        -- Recorded time never goes backwards along the log, even if the server clock does.
        v_recorded := greatest(date_trunc('milliseconds', clock_timestamp()), v_last_recorded);
        INSERT INTO events (position, stream_id, revision, event_id, type, data, metadata, recorded_at)
        -- The batch lists events stream by stream, which is already position order.
        SELECT v_head + v_offsets[re.i + 1] + re.k + 1, v_streams[re.i + 1], v_bases[re.i + 1] + re.k,
               re.id, re.t, re.d, coalesce(re.m, '{}'::jsonb), v_recorded
          FROM jsonb_to_recordset(batch->'events') AS re(i int, k int, id uuid, t text, d jsonb, m jsonb)
         WHERE v_bases[re.i + 1] IS NOT NULL;
        -- The adapters build consistent batches; a hand-made call must not leave a gap.
        GET DIAGNOSTICS v_inserted = ROW_COUNT;
        IF v_inserted <> v_new THEN
          RAISE EXCEPTION USING ERRCODE = 'LW003',
            MESSAGE = format('malformed batch: %s events declared, %s given', v_new, v_inserted);
        END IF;
        PERFORM pg_notify('ledger_appended', (v_head + v_new)::text);
      END IF;
    END
    $fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION ledger_append(jsonb)`.execute(db);
  await sql`DROP TABLE events`.execute(db);
}
