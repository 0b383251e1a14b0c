import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factKey, factsOf, type Fact, type FactSum } from '../../../src/domain/compliance/facts.js';
import {
  computeIndicators,
  intakeDaysOf,
  type SiteFacts,
} from '../../../src/domain/compliance/indicators.js';
import { ruleSets } from '../../../src/domain/compliance/rules.js';
import { RuleViolation } from '../../../src/domain/errors/catalogue.js';
import { decideWeighing, plateOf } from '../../../src/domain/weighing/decide.js';
import {
  gateEventSchemas,
  gateStreamId,
  ticketStreamId,
  type GateEvent,
  type WeighingEvent,
} from '../../../src/domain/weighing/events.js';
import {
  evolveGate,
  evolveTicket,
  initialGateState,
  initialTicketState,
  type GateState,
  type TicketState,
} from '../../../src/domain/weighing/ticket.js';
import {
  complianceFacts,
  complianceFactsProjection,
} from '../../../src/projections/compliance-facts/projection.js';
import {
  changesSince,
  factSums,
  periodSums,
  type FactFilter,
  type TicketChange,
} from '../../../src/projections/compliance-facts/query.js';
import { ProjectionRunner } from '../../../src/projections/runner/runner.js';
import type { EventToAppend, RecordedEvent } from '../../../src/store/port.js';
import {
  pgliteHarness,
  postgresAvailable,
  postgresHarness,
  type StoreHarness,
} from '../../support/databases.js';
import {
  commandOf,
  newWorld,
  NOW,
  opArb,
  PERIOD_DAYS,
  TIME_ZONE,
  type Op,
  type World,
  interleave,
  lifeArb,
  opsOfLife,
} from '../../support/weighbridge-world.js';
import { nextEventId, openProjectionDb, type ProjectionDb } from '../fixtures.js';

/**
 * The bitemporal compliance facts against a plain fold of the log: now, as of every position
 * (inside a batch the runner applied at once or not), whatever the batch size, whatever the
 * interleaving of tickets, and ticket by ticket (changesSince).
 *
 * Generators and the weighbridge world are copied from the daily-tonnage property test: random
 * reports go through the real decider, so the log holds only what ingestion would record.
 */

/** Fixed seeds: a failure names its seed and path, and the same runs come back every time. */
const SEED = 20_260_311;
/** Every day: the worlds are told apart by their sites, not by the filter. */
const ALL_DAYS: FactFilter = { from: '2000-01-01', to: '2099-12-31' };

const postgres = await postgresAvailable();

/** One event as decided, with the id it is appended under (the same in every log). */
interface Recorded {
  readonly id: string;
  readonly streamId: string;
  readonly event: WeighingEvent | GateEvent;
}

/** Decides the reports in order, as ingestion would (refused ones record nothing). */
function decideAll(world: World, ops: readonly Op[]): Recorded[] {
  const tickets = new Map<string, TicketState>();
  const gates = new Map<string, GateState>();
  const recorded: Recorded[] = [];
  for (const op of ops) {
    const site = world.sites[op.ticket % 2]!;
    const ticketStream = ticketStreamId(site.siteId, `P${op.ticket}`);
    const before = tickets.get(ticketStream) ?? initialTicketState();
    const command = commandOf(world, op, before);
    const plate = plateOf(command, before);
    const gateStream = plate === undefined ? undefined : gateStreamId(site.siteId, plate);
    let decision;
    try {
      decision = decideWeighing(command, before, {
        now: NOW,
        timeZone: TIME_ZONE,
        site,
        vehicle: plate === undefined ? undefined : world.vehicles.get(plate),
        gate: (gateStream === undefined ? undefined : gates.get(gateStream)) ?? initialGateState(),
      });
    } catch (error) {
      if (error instanceof RuleViolation) continue;
      throw error;
    }
    let after = before;
    for (const event of decision.ticket) {
      after = evolveTicket(after, event);
      recorded.push({ id: nextEventId(), streamId: ticketStream, event });
    }
    tickets.set(ticketStream, after);
    for (const event of decision.gate) {
      if (gateStream === undefined) throw new Error('a gate event without a plate');
      gates.set(gateStream, evolveGate(gates.get(gateStream) ?? initialGateState(), event));
      recorded.push({ id: nextEventId(), streamId: gateStream, event });
    }
  }
  return recorded;
}

// ---------------------------------------------------------------------------------------------
// Histories: tickets' lives (a first pass, corrections, maybe a void) interleaved, with a few
// random reports mixed in (most of which break a rule and record nothing).

const picksArb = fc.array(fc.nat({ max: 100 }), { maxLength: 80 });

const historyArb = fc
  .record({
    lives: fc.array(lifeArb, { minLength: 1, maxLength: 8 }),
    noise: fc.array(opArb, { maxLength: 6 }),
    picks: picksArb,
  })
  .map(({ lives, noise, picks }) =>
    interleave([...lives.map((life, ticket) => opsOfLife(life, ticket)), noise], picks),
  );

const chunkSizesArb = fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 6 });

// ---------------------------------------------------------------------------------------------
// The plain fold: each ticket's events evolved in log order, its final facts summed.

/** An event at its global position in one log. */
interface Positioned {
  readonly position: number;
  readonly streamId: string;
  readonly event: WeighingEvent | GateEvent;
}

const isTicketEvent = (event: WeighingEvent | GateEvent): event is WeighingEvent =>
  !Object.hasOwn(gateEventSchemas, event.type);

function positioned(recorded: readonly Recorded[], start: number): Positioned[] {
  return recorded.map((r, i) => ({
    position: start + 1 + i,
    streamId: r.streamId,
    event: r.event,
  }));
}

/** Each ticket's state after the events at positions ≤ `asOf`. */
function statesAt(log: readonly Positioned[], asOf = Infinity): Map<string, TicketState> {
  const states = new Map<string, TicketState>();
  for (const { position, streamId, event } of log) {
    if (position > asOf || !isTicketEvent(event)) continue;
    states.set(streamId, evolveTicket(states.get(streamId) ?? initialTicketState(), event));
  }
  return states;
}

const byKey =
  <T>(key: (t: T) => string) =>
  (a: T, b: T) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

/** Every fact of the tickets, summed by every dimension, with the number of tickets in each. */
function foldSums(states: ReadonlyMap<string, TicketState>): FactSum[] {
  const sums = new Map<string, FactSum>();
  for (const state of states.values()) {
    for (const fact of factsOf(state)) {
      const key = factKey(fact);
      const sum = sums.get(key);
      sums.set(key, {
        ...fact,
        netKg: (sum?.netKg ?? 0) + fact.netKg,
        tickets: (sum?.tickets ?? 0) + 1,
      });
    }
  }
  return [...sums.values()].sort(byKey(factKey));
}

const changeKey = (c: Omit<TicketChange, 'asOfKg' | 'nowKg' | 'changedAt'>) =>
  [c.streamId, c.day, c.siteId, c.flow, c.material].join('|');

const factsKey = (facts: readonly Fact[]) =>
  JSON.stringify(facts.map((f) => [factKey(f), f.netKg]));

/**
 * What `changesSince(asOf)` should answer, from the fold: per ticket and (day, site, flow,
 * material), its kg as of `asOf` and now where they differ, and the first position after `asOf`
 * at which the ticket's facts in that group were replaced (the group was in its facts before or
 * after an event that changed them).
 */
function foldChanges(log: readonly Positioned[], asOf: number): TicketChange[] {
  const kgByGroup = (states: ReadonlyMap<string, TicketState>) => {
    const kg = new Map<
      string,
      { change: Omit<TicketChange, 'asOfKg' | 'nowKg' | 'changedAt'>; kg: number }
    >();
    for (const [streamId, state] of states) {
      for (const f of factsOf(state)) {
        const change = {
          streamId,
          day: f.day,
          siteId: f.siteId,
          flow: f.flow,
          material: f.material,
        };
        const entry = kg.get(changeKey(change)) ?? { change, kg: 0 };
        entry.kg += f.netKg;
        kg.set(changeKey(change), entry);
      }
    }
    return kg;
  };
  const then = kgByGroup(statesAt(log, asOf));
  const now = kgByGroup(statesAt(log));

  // The first position after asOf at which each group's rows were opened or closed.
  const firstChange = new Map<string, number>();
  const states = statesAt(log, asOf);
  for (const { position, streamId, event } of log) {
    if (position <= asOf || !isTicketEvent(event)) continue;
    const before = states.get(streamId) ?? initialTicketState();
    const after = evolveTicket(before, event);
    states.set(streamId, after);
    const was = factsOf(before);
    const is = factsOf(after);
    if (factsKey(was) === factsKey(is)) continue;
    for (const f of [...was, ...is]) {
      const key = changeKey({ streamId, ...f });
      if (!firstChange.has(key)) firstChange.set(key, position);
    }
  }

  const changes: TicketChange[] = [];
  for (const key of new Set([...then.keys(), ...now.keys()])) {
    const change = (then.get(key) ?? now.get(key))!.change;
    const asOfKg = then.get(key)?.kg ?? 0;
    const nowKg = now.get(key)?.kg ?? 0;
    if (asOfKg === nowKg) continue;
    const changedAt = firstChange.get(key);
    if (changedAt === undefined) throw new Error(`${key} differs but never changed after ${asOf}`);
    changes.push({ ...change, asOfKg, nowKg, changedAt });
  }
  return changes.sort(byKey(changeKey));
}

// ---------------------------------------------------------------------------------------------
// Logs and read models: one database per way of applying the log.

interface Target {
  readonly label: string;
  readonly ctx: ProjectionDb;
  readonly runner: ProjectionRunner<string>;
  /** Catch up after every appended chunk (else once, after the whole run's events). */
  readonly catchUpEachChunk: boolean;
  /** Whether the run's events must all be applied in one batch. */
  readonly oneBatch: boolean;
}

const LAYOUTS = [
  // Larger than any run's log (the store caps a page at 10 000 positions): one batch per run.
  { label: 'all at once', batchSize: 10_000, catchUpEachChunk: false, oneBatch: true },
  { label: 'batches of 7', batchSize: 7, catchUpEachChunk: true, oneBatch: false },
  { label: 'batches of 1', batchSize: 1, catchUpEachChunk: false, oneBatch: false },
] as const;

async function openTarget(
  harness: StoreHarness,
  layout: (typeof LAYOUTS)[number],
): Promise<Target> {
  const ctx = await openProjectionDb(harness);
  const runner = new ProjectionRunner<string>({
    store: ctx.store,
    db: ctx.db,
    projection: complianceFacts,
    batchSize: layout.batchSize,
  });
  await runner.setup();
  return { ...layout, ctx, runner };
}

/**
 * Appends in exactly the given global order: consecutive events of one stream go in one stream
 * append, and an `appendMany` never names a stream twice (its streams take positions in order).
 */
async function appendInOrder(ctx: ProjectionDb, recorded: readonly Recorded[]): Promise<void> {
  let pending: { streamId: string; events: EventToAppend[] }[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    await ctx.store.appendMany(
      pending.map(({ streamId, events }) => ({ streamId, events, expectedRevision: 'any' })),
    );
    pending = [];
  };
  for (const r of recorded) {
    const toAppend: EventToAppend = { id: r.id, type: r.event.type, data: r.event.data };
    const last = pending.at(-1);
    if (last?.streamId === r.streamId) {
      last.events.push(toAppend);
      continue;
    }
    if (pending.some((p) => p.streamId === r.streamId)) await flush();
    pending.push({ streamId: r.streamId, events: [toAppend] });
  }
  await flush();
}

async function readAfter(ctx: ProjectionDb, after: number): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  const head = await ctx.store.headPosition();
  for (let at = after; at < head;) {
    const page = await ctx.store.readAll({ after: at, maxCount: 500 });
    if (page.readUpTo === at) break;
    events.push(...page.events);
    at = page.readUpTo;
  }
  return events;
}

/**
 * Appends the run's events to the target's log in chunks, catches its projection up, and returns
 * the events at their positions (checked against the log as read back).
 */
async function appendAndProject(
  target: Target,
  recorded: readonly Recorded[],
  chunkSizes: readonly number[],
): Promise<Positioned[]> {
  const { ctx, runner } = target;
  const start = await ctx.store.headPosition();
  let batches = 0;
  const count = (outcome: { moved: boolean }) => {
    if (outcome.moved) batches += 1;
  };
  for (let at = 0, k = 0; at < recorded.length; k += 1) {
    const size = chunkSizes[k % chunkSizes.length] ?? recorded.length;
    await appendInOrder(ctx, recorded.slice(at, at + size));
    at += size;
    if (target.catchUpEachChunk) await runner.catchUp(count);
  }
  const checkpoint = await runner.catchUp(count);
  const head = await ctx.store.headPosition();
  expect(head).toBe(start + recorded.length);
  expect(checkpoint).toBe(head);
  if (target.oneBatch) expect(batches).toBe(recorded.length === 0 ? 0 : 1);

  const log = positioned(recorded, start);
  const read = await readAfter(ctx, start);
  expect(read.map((e) => [e.position, e.streamId, e.id])).toEqual(
    log.map((e, i) => [e.position, e.streamId, recorded[i]!.id]),
  );
  return log;
}

/** The world's sums from the read model, now or as of `asOf`, in key order. */
async function projectedSums(target: Target, world: World, asOf?: number): Promise<FactSum[]> {
  const { sums, checkpoint } = await factSums(target.ctx.db, ALL_DAYS, asOf);
  expect(checkpoint).toBe(await target.ctx.store.headPosition());
  return sums.filter((s) => world.siteIds.has(s.siteId)).sort(byKey(factKey));
}

async function projectedChanges(
  target: Target,
  world: World,
  asOf: number,
): Promise<TicketChange[]> {
  const changes = await changesSince(target.ctx.db, ALL_DAYS, asOf, 100_000);
  return changes.filter((c) => world.siteIds.has(c.siteId)).sort(byKey(changeKey));
}

/** Positions worth asking about: before the world's events, and every one of them. */
function positionsOf(log: readonly Positioned[]): number[] {
  const start = (log[0]?.position ?? 1) - 1;
  return [0, Math.floor(start / 2), ...Array.from({ length: log.length + 1 }, (_, i) => start + i)];
}

/** The world's sites as the indicators know them (master data). */
function siteFactsOf(world: World): Map<string, SiteFacts> {
  return new Map(world.sites.map((s): [string, SiteFacts] => [s.siteId, s]));
}

// ---------------------------------------------------------------------------------------------

describe.each([
  { harness: pgliteHarness, skip: false },
  { harness: postgresHarness, skip: !postgres },
])('compliance facts on $harness.name', ({ harness, skip }) => {
  const targets: Target[] = [];
  const at = (k: number) => targets[k]!;

  beforeAll(async () => {
    if (skip) return;
    for (const layout of LAYOUTS) targets.push(await openTarget(harness, layout));
  }, 60_000);
  afterAll(async () => {
    for (const target of targets) await target.ctx.close();
  });

  it.skipIf(skip)(
    'now: the sums equal a fold of factsOf over each ticket’s final state, whatever the batching',
    async () => {
      await fc.assert(
        fc.asyncProperty(historyArb, chunkSizesArb, async (ops, chunkSizes) => {
          const world = newWorld('cf', '鲁C');
          const recorded = decideAll(world, ops);
          for (const target of targets) {
            const log = await appendAndProject(target, recorded, chunkSizes);
            expect(await projectedSums(target, world), target.label).toEqual(
              foldSums(statesAt(log)),
            );
          }
        }),
        { seed: SEED, numRuns: 20 },
      );
    },
  );

  it.skipIf(skip)(
    'as of any position: the sums equal a fold of only the events at or before it',
    async () => {
      await fc.assert(
        fc.asyncProperty(historyArb, chunkSizesArb, async (ops, chunkSizes) => {
          const world = newWorld('cf', '鲁C');
          const recorded = decideAll(world, ops);
          for (const target of targets) {
            const log = await appendAndProject(target, recorded, chunkSizes);
            for (const p of positionsOf(log)) {
              expect(await projectedSums(target, world, p), `${target.label} as of ${p}`).toEqual(
                foldSums(statesAt(log, p)),
              );
            }
          }
        }),
        { seed: SEED + 1, numRuns: 12 },
      );
    },
  );

  it.skipIf(skip)(
    'batching changes no figure: batches of 1, of 7 and all at once agree now and as of every position',
    async () => {
      await fc.assert(
        fc.asyncProperty(historyArb, chunkSizesArb, async (ops, chunkSizes) => {
          const world = newWorld('cf', '鲁C');
          const recorded = decideAll(world, ops);
          const figures: FactSum[][][] = [];
          for (const target of targets) {
            const log = await appendAndProject(target, recorded, chunkSizes);
            // Relative to the run's first position: every log holds the same events before it.
            const start = (log[0]?.position ?? 1) - 1;
            const asked = Array.from({ length: log.length + 1 }, (_, i) => start + i);
            figures.push([
              await projectedSums(target, world),
              ...(await Promise.all(asked.map((p) => projectedSums(target, world, p)))),
            ]);
          }
          for (const [k, other] of figures.entries()) {
            expect(other, at(k).label).toEqual(figures[0]);
          }
        }),
        { seed: SEED + 2, numRuns: 10 },
      );
    },
  );

  it.skipIf(skip)(
    'arrival order: two interleavings of the same tickets give the same sums and indicators',
    async () => {
      const rules = ruleSets[0]!;
      expect(rules).toMatchObject({
        id: 'domain-default',
        version: 1,
        denominator: 'collected',
        excavatedSoilInConstructionScope: false,
        estimatedRecyclablesCount: false,
      });
      await fc.assert(
        fc.asyncProperty(
          historyArb,
          picksArb,
          picksArb,
          chunkSizesArb,
          async (ops, picksA, picksB, chunkSizes) => {
            const world = newWorld('cf', '鲁C');
            const recorded = decideAll(world, ops);
            const streams = new Map<string, Recorded[]>();
            for (const r of recorded)
              streams.set(r.streamId, [...(streams.get(r.streamId) ?? []), r]);
            const logs = [
              interleave([...streams.values()], picksA),
              interleave([...streams.values()], picksB),
            ];
            for (const log of logs) {
              for (const [streamId, events] of streams) {
                expect(log.filter((r) => r.streamId === streamId)).toEqual(events);
              }
            }
            // One interleaving applied all at once, the other in batches of 7.
            const [a, b] = [at(0), at(1)];
            const logA = await appendAndProject(a, logs[0]!, chunkSizes);
            const logB = await appendAndProject(b, logs[1]!, chunkSizes);
            const sumsA = await projectedSums(a, world);
            const sumsB = await projectedSums(b, world);
            expect(sumsB).toEqual(sumsA);
            expect(sumsA).toEqual(foldSums(statesAt(logA)));
            expect(sumsB).toEqual(foldSums(statesAt(logB)));

            const sites = siteFactsOf(world);
            const indicatorsA = computeIndicators(sumsA, sites, rules, PERIOD_DAYS);
            // As the read model answers them (unsorted), from the other log.
            const unsortedB = (await factSums(b.ctx.db, ALL_DAYS)).sums.filter((s) =>
              world.siteIds.has(s.siteId),
            );
            expect(computeIndicators(unsortedB, sites, rules, PERIOD_DAYS)).toEqual(indicatorsA);
          },
        ),
        { seed: SEED + 3, numRuns: 20 },
      );
    },
  );

  it.skipIf(skip)(
    'changesSince(p): exactly the tickets whose kg in a (day, site, flow, material) differ between p and now',
    async () => {
      await fc.assert(
        fc.asyncProperty(historyArb, chunkSizesArb, async (ops, chunkSizes) => {
          const world = newWorld('cf', '鲁C');
          const recorded = decideAll(world, ops);
          for (const target of targets) {
            const log = await appendAndProject(target, recorded, chunkSizes);
            for (const p of positionsOf(log)) {
              if (p === 0) continue; // every world's history: not this run's business
              expect(
                await projectedChanges(target, world, p),
                `${target.label} since ${p}`,
              ).toEqual(foldChanges(log, p));
            }
          }
        }),
        { seed: SEED + 4, numRuns: 12 },
      );
    },
  );

  it.skipIf(skip)(
    'redelivery changes nothing: with the checkpoint moved back and the same events applied again, every figure is unchanged now and as of every position',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          historyArb,
          chunkSizesArb,
          fc.double({ min: 0, max: 1, noNaN: true }),
          async (ops, chunkSizes, back) => {
            const world = newWorld('cf', '鲁C');
            const recorded = decideAll(world, ops);
            for (const target of targets) {
              const log = await appendAndProject(target, recorded, chunkSizes);
              const start = (log[0]?.position ?? 1) - 1;
              const head = await target.ctx.store.headPosition();
              const rewindTo = start + Math.floor(back * (head - start));
              await sql`UPDATE projection_checkpoints SET position = ${rewindTo}
                         WHERE name = ${complianceFacts.name}`.execute(target.ctx.db);
              expect(await target.runner.catchUp()).toBe(head);
              for (const p of [...positionsOf(log), undefined]) {
                expect(
                  await projectedSums(target, world, p),
                  `${target.label}, redelivered after ${rewindTo}, as of ${p ?? 'now'}`,
                ).toEqual(foldSums(statesAt(log, p)));
              }
            }
          },
        ),
        { seed: SEED + 5, numRuns: 10 },
      );
    },
  );
});

/** Day-grain sums folded into period sums (day ''), as `periodSums` answers. */
function toPeriodSums(sums: readonly FactSum[]): FactSum[] {
  const byDims = new Map<string, FactSum>();
  for (const s of sums) {
    const key = factKey({ ...s, day: '' });
    const d = byDims.get(key);
    byDims.set(
      key,
      d === undefined
        ? { ...s, day: '' }
        : { ...d, netKg: d.netKg + s.netKg, tickets: d.tickets + s.tickets },
    );
  }
  return [...byDims.values()].filter((s) => s.netKg !== 0 || s.tickets !== 0).sort(byKey(factKey));
}

describe.each([
  { harness: pgliteHarness, skip: false },
  { harness: postgresHarness, skip: !postgres },
])('period sums with snapshots on $harness.name', ({ harness, skip }) => {
  let target: Target | undefined;
  beforeAll(async () => {
    if (skip) return;
    const ctx = await openProjectionDb(harness);
    // A snapshot every 5 positions, so every run crosses several.
    const runner = new ProjectionRunner<string>({
      store: ctx.store,
      db: ctx.db,
      projection: complianceFactsProjection({ snapshotEvery: 5 }),
      batchSize: 3,
    });
    await runner.setup();
    target = { label: 'snapshots every 5', ctx, runner, catchUpEachChunk: true, oneBatch: false };
  }, 60_000);
  afterAll(async () => {
    await target?.ctx.close();
  });

  it.skipIf(skip)(
    'now and as of every position: periodSums over whole months equal the fold, by dimension and by facility-day',
    async () => {
      const t = target!;
      await fc.assert(
        fc.asyncProperty(historyArb, chunkSizesArb, async (ops, chunkSizes) => {
          const world = newWorld('cf', '鲁C');
          const recorded = decideAll(world, ops);
          const log = await appendAndProject(t, recorded, chunkSizes);
          for (const p of [...positionsOf(log), undefined]) {
            const folded = foldSums(statesAt(log, p));
            const { sums, intakeDays } = await periodSums(t.ctx.db, ALL_DAYS, p);
            const label = `as of ${p ?? 'now'}`;
            expect(
              sums.filter((s) => world.siteIds.has(s.siteId)).sort(byKey(factKey)),
              label,
            ).toEqual(toPeriodSums(folded));
            const dayKey = (d: { day: string; siteId: string }) => `${d.day}|${d.siteId}`;
            expect(
              intakeDays.filter((d) => world.siteIds.has(d.siteId)).sort(byKey(dayKey)),
              label,
            ).toEqual(
              intakeDaysOf(folded)
                .filter((d) => d.totalKg !== 0 || d.householdKg !== 0)
                .sort(byKey(dayKey)),
            );
          }
        }),
        { seed: SEED + 6, numRuns: 15 },
      );
    },
  );
});
