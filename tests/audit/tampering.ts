/**
 * Random logs and the ways a superuser can tamper with them (the write-once trigger switched
 * off), for the audit suite's detection property. Each tampering says where the verifier's
 * first break must point, so that a test checks not only that it was seen but where.
 */
import fc from 'fast-check';
import { sql, type Kysely } from 'kysely';
import { SEALS_STREAM, KEYS_STREAM } from '../../src/audit/seal-events.js';
import { Sealer } from '../../src/audit/sealer.js';
import type { Break } from '../../src/audit/verifier.js';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { chainHash, contentHashOfCanonical, GENESIS_HASH } from '../../src/integrity/event-hash.js';
import type { SigningKey } from '../../src/integrity/signing.js';
import type { ChainedEvent, EventStore, JsonObject } from '../../src/store/port.js';
import type { StoreDatabase } from '../../src/store/sql/schema.js';

type Db = Kysely<StoreDatabase>;

/** Runs `change` with the write-once trigger off, as a superuser can, and switches it back on. */
export async function asSuperuser(db: Db, change: () => Promise<unknown>): Promise<void> {
  await sql`ALTER TABLE events DISABLE TRIGGER USER`.execute(db);
  try {
    await change();
  } finally {
    await sql`ALTER TABLE events ENABLE TRIGGER USER`.execute(db);
  }
}

/** Empties the log, so that one opened store serves many logs (opening PGlite takes seconds). */
export function resetLog(db: Db): Promise<void> {
  return asSuperuser(db, () => sql`TRUNCATE events`.execute(db));
}

export async function readLog(store: EventStore): Promise<readonly ChainedEvent[]> {
  return store.readChained({ after: 0, maxCount: 10_000 });
}

/** A uuid no generated event uses. */
const FORGED_ID = 'ffffffff-ffff-4fff-8fff-ffffffffffff';
const isAudit = (e: ChainedEvent) => e.streamId === SEALS_STREAM || e.streamId === KEYS_STREAM;

// ---------------------------------------------------------------------------------------------
// Random logs: batches over a few streams (appendMany), seals and key rotations in between.

const STREAMS = ['weighing-1', 'weighing-2', 'trip-7', 'site-3'] as const;

/** Any JSON object, with Unicode strings: the hashes must survive the jsonb round trip. */
const data: fc.Arbitrary<JsonObject> = fc.dictionary(
  fc.string({ maxLength: 4, unit: 'grapheme' }),
  fc.jsonValue({ maxDepth: 1, stringUnit: 'grapheme' }),
  { maxKeys: 3 },
) as fc.Arbitrary<JsonObject>;

const appends = (minLength: number) =>
  fc.uniqueArray(
    fc.record({
      stream: fc.nat({ max: STREAMS.length - 1 }),
      events: fc.array(data, { minLength: 1, maxLength: 3 }),
    }),
    { minLength, maxLength: 3, selector: (a) => a.stream },
  );

/**
 * The first batch writes to at least two streams and is sealed: every log then holds rows of
 * different streams with the same recorded time, and a seal before the final one.
 */
export const logPlan = fc
  .tuple(
    appends(2).map((a) => ({ appends: a, then: 'seal' as const })),
    fc.array(
      fc.record({
        appends: appends(1),
        then: fc.constantFrom('nothing', 'nothing', 'seal', 'rotate'),
      }),
      { minLength: 1, maxLength: 5 },
    ),
  )
  .map(([first, rest]) => [first, ...rest]);
export type LogPlan = typeof logPlan extends fc.Arbitrary<infer P> ? P : never;

export interface BuiltLog {
  readonly events: readonly ChainedEvent[];
  /** Every seal, in order, with the position of its event; the last one seals everything before it. */
  readonly seals: readonly {
    readonly position: number;
    readonly root: string;
    readonly toPosition: number;
  }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes the plan to an empty log; keys[0] is the ledger's first key, rotations go round the
 * rest. Every append waits 3 ms first, so each one has a recorded time of its own and the
 * verdicts do not depend on how fast the machine is (one append shares one time).
 */
export async function buildLog(
  store: EventStore,
  plan: LogPlan,
  keys: readonly SigningKey[],
): Promise<BuiltLog> {
  let sealer = new Sealer(store, keys[0]!);
  await sleep(3);
  await sealer.registerKey();
  let rotations = 0;
  let n = 0;
  const seals: BuiltLog['seals'][number][] = [];
  const seal = async () => {
    await sleep(3);
    const result = await sealer.seal();
    if (result !== undefined)
      seals.push({
        position: result.position,
        root: result.seal.root,
        toPosition: result.seal.toPosition,
      });
  };
  for (const batch of plan) {
    await sleep(3);
    await store.appendMany(
      batch.appends.map((a) => ({
        streamId: STREAMS[a.stream]!,
        expectedRevision: 'any' as const,
        events: a.events.map((d) => ({
          id: `00000000-0000-4000-8000-${(n += 1).toString(16).padStart(12, '0')}`,
          type: 'Recorded',
          data: d,
          metadata: { actor: `station-${a.stream}` },
        })),
      })),
    );
    if (batch.then === 'seal') await seal();
    if (batch.then === 'rotate') {
      rotations += 1;
      await sleep(3);
      sealer = await sealer.rotateTo(keys[rotations % keys.length]!);
    }
  }
  await seal();
  return { events: await readLog(store), seals };
}

// ---------------------------------------------------------------------------------------------
// Tamperings.

export const TAMPERINGS = [
  'data',
  'metadata',
  'type',
  'event_id',
  'stream_id',
  'revision',
  'recorded_at',
  'delete',
  'swap',
  'swap_same_time',
  'insert_inside',
  'insert_tail',
  'truncate',
] as const;
export type TamperingKind = (typeof TAMPERINGS)[number];

/** Where in the log, drawn by fast-check; each tampering maps these numbers onto valid places. */
export const tamperChoice = fc.record({
  a: fc.nat(),
  b: fc.nat(),
  deltaMs: fc.integer({ min: 1, max: 60_000 }).chain((d) => fc.constantFrom(d, -d)),
});
export type TamperChoice = typeof tamperChoice extends fc.Arbitrary<infer C> ? C : never;

export interface Tampered {
  readonly what: string;
  /** The first break is located if it is at one of these positions, or names one as missing… */
  readonly at: readonly number[];
  /** …or is a seal break whose range covers all of these (what only a seal can reveal)… */
  readonly sealCovering?: readonly number[];
  /** …or, for a log cut back, the `truncated` break of the seal the auditor holds. */
  readonly truncatedAt?: number;
  readonly heldSeals?: readonly { position: number; root: string }[];
}

const pick = (n: number, from: number, to: number) => from + (n % (to - from + 1));

/** Applies one tampering of the given kind to the log, as a superuser, and says what it did. */
export async function tamper(
  db: Db,
  log: BuiltLog,
  kind: TamperingKind,
  { a, b, deltaMs }: TamperChoice,
): Promise<Tampered> {
  const { events, seals } = log;
  const head = events.length;
  const p = pick(a, 1, head);
  const update = async (what: string, change: ReturnType<typeof sql>) => {
    await asSuperuser(db, () => change.execute(db));
    return { what: `${what} at position ${p}`, at: [p] };
  };
  switch (kind) {
    case 'data':
      return update(
        'changed data',
        sql`UPDATE events SET data = data || '{"tampered":1}' WHERE position = ${p}`,
      );
    case 'metadata':
      return update(
        'changed metadata',
        sql`UPDATE events SET metadata = metadata || '{"tampered":1}' WHERE position = ${p}`,
      );
    case 'type':
      return update(
        'changed type',
        sql`UPDATE events SET type = type || '~' WHERE position = ${p}`,
      );
    case 'event_id':
      return update(
        'changed event id',
        sql`UPDATE events SET event_id = ${FORGED_ID}::uuid WHERE position = ${p}`,
      );
    case 'stream_id':
      return update(
        'moved to another stream',
        sql`UPDATE events SET stream_id = stream_id || '-moved' WHERE position = ${p}`,
      );
    case 'revision':
      return update(
        'changed revision',
        sql`UPDATE events SET revision = revision + 1000 WHERE position = ${p}`,
      );
    case 'recorded_at':
      return update(
        `moved recorded time by ${deltaMs} ms`,
        sql`UPDATE events SET recorded_at = recorded_at + ${deltaMs}::int * interval '1 millisecond' WHERE position = ${p}`,
      );
    case 'delete': {
      // Not the head: removing the last rows is truncation, which only a held seal can reveal.
      const q = pick(a, 1, head - 1);
      await asSuperuser(db, () => sql`DELETE FROM events WHERE position = ${q}`.execute(db));
      return { what: `deleted position ${q}`, at: [q] };
    }
    case 'swap':
    case 'swap_same_time': {
      let [x, y] = [p, pick(b, 1, head - 1)];
      if (kind === 'swap') {
        if (y >= x) y += 1;
      } else {
        // Adjacent rows of two domain streams, written by one append: no chain, revision or
        // recorded time tells them apart; only the seal (which binds positions) can.
        const candidates = events
          .slice(0, -1)
          .filter((e, i) => {
            const next = events[i + 1]!;
            return (
              !isAudit(e) &&
              !isAudit(next) &&
              e.streamId !== next.streamId &&
              e.recordedAt === next.recordedAt
            );
          })
          .map((e) => e.position);
        if (candidates.length === 0) throw new Error('the log plan guarantees such a pair');
        x = candidates[a % candidates.length]!;
        y = x + 1;
      }
      const [lo, hi] = x < y ? [x, y] : [y, x];
      await asSuperuser(db, async () => {
        await sql`UPDATE events SET position = 0 WHERE position = ${lo}`.execute(db);
        await sql`UPDATE events SET position = ${lo} WHERE position = ${hi}`.execute(db);
        await sql`UPDATE events SET position = ${hi} WHERE position = 0`.execute(db);
      });
      return kind === 'swap'
        ? { what: `swapped positions ${lo} and ${hi}`, at: [lo, hi], sealCovering: [lo] }
        : {
            what: `swapped positions ${lo} and ${hi} (same time, two streams)`,
            at: [],
            sealCovering: [lo, hi],
          };
    }
    case 'insert_inside': {
      // A forger who knows the hash algorithm: a new stream's first event, hashed correctly,
      // at the recorded time of the event it pushes aside. Only the seal can reveal it.
      const sealedTo = seals.at(-1)!.toPosition;
      const q = pick(a, 1, sealedTo);
      const recordedAt = events[q - 1]!.recordedAt;
      const content = contentHashOfCanonical(
        'forged',
        FORGED_ID,
        'Recorded',
        canonicalJson({ forged: true }),
        '{}',
      );
      await asSuperuser(db, async () => {
        await sql`UPDATE events SET position = -position - 1 WHERE position >= ${q}`.execute(db);
        await sql`UPDATE events SET position = -position WHERE position < 0`.execute(db);
        await insertRow(db, {
          position: q,
          streamId: 'forged',
          revision: 0,
          recordedAt,
          previousHash: GENESIS_HASH,
          hash: chainHash(content, GENESIS_HASH, recordedAt, 0),
        });
      });
      return {
        what: `inserted a correctly hashed event at position ${q}`,
        at: [q],
        sealCovering: [q],
      };
    }
    case 'insert_tail': {
      // The next event of a domain stream, linked to its tip, with a hash that is not its own.
      const domain = events.filter((e) => !isAudit(e));
      const streamId = domain[a % domain.length]!.streamId;
      const tip = domain.filter((e) => e.streamId === streamId).at(-1)!;
      await asSuperuser(db, () =>
        insertRow(db, {
          position: head + 1,
          streamId,
          revision: tip.revision + 1,
          recordedAt: events.at(-1)!.recordedAt,
          previousHash: tip.hash,
          hash: 'ab'.repeat(32),
        }),
      );
      return { what: `appended a forged event at position ${head + 1}`, at: [head + 1] };
    }
    case 'truncate': {
      // The auditor fetched the last seal before the log was cut back to an earlier one.
      const last = seals.at(-1)!;
      const cut = seals[a % (seals.length - 1)]!;
      await asSuperuser(db, () =>
        sql`DELETE FROM events WHERE position > ${cut.position}`.execute(db),
      );
      return {
        what: `cut the log back to the seal at ${cut.position} (auditor holds the one at ${last.position})`,
        at: [],
        truncatedAt: last.position,
        heldSeals: [{ position: last.position, root: last.root }],
      };
    }
  }
}

async function insertRow(
  db: Db,
  row: {
    position: number;
    streamId: string;
    revision: number;
    recordedAt: string;
    previousHash: string;
    hash: string;
  },
): Promise<void> {
  await sql`
    INSERT INTO events (position, stream_id, revision, event_id, type, data, metadata, recorded_at, previous_hash, hash)
    VALUES (${row.position}, ${row.streamId}, ${row.revision}, ${FORGED_ID}::uuid, 'Recorded', '{"forged":true}',
            '{}', ${row.recordedAt}::timestamptz, decode(${row.previousHash}, 'hex'), decode(${row.hash}, 'hex'))`.execute(
    db,
  );
}

/** Whether the verifier's first break points at the tampering (see `Tampered`). */
export function locates(first: Break | null, t: Tampered): boolean {
  if (first === null) return false;
  if (t.truncatedAt !== undefined)
    return first.kind === 'truncated' && first.position === t.truncatedAt;
  if (first.position !== null && t.at.includes(first.position)) return true;
  if (first.kind === 'position_gap') return t.at.includes(Number(first.expected));
  if (first.kind === 'seal' && t.sealCovering !== undefined) {
    const range = /positions (\d+)…(\d+)/.exec(first.message);
    if (range === null) return false;
    const [from, to] = [Number(range[1]), Number(range[2])];
    return t.sealCovering.every((p) => from <= p && p <= to);
  }
  return false;
}
