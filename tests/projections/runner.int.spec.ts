import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuildProjection } from '../../src/projections/runner/rebuild.js';
import {
  ProjectionRunner,
  type BatchOutcome,
  type RunnerOptions,
} from '../../src/projections/runner/runner.js';
import type { Projection } from '../../src/projections/runner/projection.js';
import type { EventStore, RecordedEvent } from '../../src/store/port.js';
import { pgliteHarness, postgresAvailable, postgresHarness } from '../support/databases.js';
import {
  append,
  checkpointOf,
  delay,
  eventually,
  indexesOf,
  InjectedFailure,
  namespace,
  openProjectionDb,
  readLog,
  snapshot,
  tableExists,
  type Namespace,
  type ProjectionDb,
} from './fixtures.js';
import { fold, readTotals, writeRow } from './test-projection.js';

const postgres = await postgresAvailable();

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Wraps a projection so every batch handed to `apply` is recorded (even one that rolls back). */
function recording(projection: Projection<string>): {
  projection: Projection<string>;
  batches: RecordedEvent[][];
} {
  const batches: RecordedEvent[][] = [];
  return {
    batches,
    projection: {
      ...projection,
      apply(trx, events, tables) {
        batches.push([...events]);
        return projection.apply(trx, events, tables);
      },
    },
  };
}

describe.each([
  { harness: pgliteHarness, skip: false },
  { harness: postgresHarness, skip: !postgres },
])('ProjectionRunner on $harness.name', ({ harness, skip }) => {
  let ctx: ProjectionDb;
  let store: EventStore;

  beforeAll(async () => {
    if (skip) return;
    ctx = await openProjectionDb(harness);
    store = ctx.store;
  });
  afterAll(async () => {
    if (!skip) await ctx.close();
  });

  function runner(
    ns: Namespace,
    options: Partial<RunnerOptions<string>> = {},
  ): ProjectionRunner<string> {
    return new ProjectionRunner({ store, db: ctx.db, projection: ns.projection, ...options });
  }

  /** The events the projection of `ns` reads, and the totals they fold to. */
  async function expected(ns: Namespace, upTo = Infinity) {
    const events = (await readLog(store, [ns.weighed])).filter((e) => e.position <= upTo);
    return { events, totals: fold(events, ns.weighed) };
  }

  it.skipIf(skip)('refuses a table name too long to rebuild under', () => {
    const ns = namespace();
    const long = 'x'.repeat(50);
    expect(() => runner(ns, { projection: { ...ns.projection, tables: [long] } })).toThrow(
      `Projection ${ns.projection.name}: table name ${long} is too long (at most 49 characters)`,
    );
  });

  it.skipIf(skip)('catch-up applies every event and moves the checkpoint to the head', async () => {
    const ns = namespace();
    const live = runner(ns, { batchSize: 3 });
    await live.setup();
    await append(store, [ns.weigh('north', 1200), ns.weigh('south', 800), ns.weigh('north', 5)]);
    await append(
      store,
      [ns.weigh('east', 3), ns.weigh('north', 7), ns.weigh('south', 2_000_000_000_000)],
      'weighbridge-2',
    );
    await append(store, [ns.weigh('west', 1), ns.weigh('east', 10), ns.weigh('east', 100)]);
    await append(store, [ns.weigh('north', 1)]);

    const outcomes: BatchOutcome[] = [];
    const head = await store.headPosition();
    const reached = await live.catchUp((o) => outcomes.push(o));

    expect(reached).toBe(head);
    expect(await checkpointOf(ctx.db, ns.table)).toBe(head);
    // Batches of at most batchSize events each, moving forward, ending at the head.
    expect(outcomes.reduce((sum, o) => sum + o.applied, 0)).toBe(10);
    expect(outcomes.every((o) => o.moved && o.applied <= 3)).toBe(true);
    const checkpoints = outcomes.map((o) => o.checkpoint);
    expect(checkpoints).toEqual([...new Set(checkpoints)].sort((a, b) => a - b));
    expect(checkpoints.at(-1)).toBe(head);
    expect(await readTotals(ctx.db, ns.table)).toEqual([
      { key: 'east', kg: 113, events: 3 },
      { key: 'north', kg: 1213, events: 4 },
      { key: 'south', kg: 2_000_000_000_800, events: 2 },
      { key: 'west', kg: 1, events: 1 },
    ]);
    expect(await readTotals(ctx.db, ns.table)).toEqual((await expected(ns)).totals);

    // Caught up: another batch finds nothing and leaves everything as it is.
    expect(await live.runOnce()).toEqual({ applied: 0, checkpoint: head, moved: false });
    expect(await live.catchUp()).toBe(head);
  });

  it.skipIf(skip)(
    'skips events of other types without handing them over, yet moves past them',
    async () => {
      const ns = namespace();
      const { projection, batches } = recording(ns.projection);
      const live = runner(ns, { projection, batchSize: 2 });
      await live.setup();
      await append(store, [
        ns.weigh('a', 1),
        ns.unrelated('a', 1000),
        ns.unrelated('b', 1000),
        ns.weigh('b', 2),
        ns.unrelated('a', 1000),
        ns.weigh('a', 3),
        ns.unrelated('c', 1000),
      ]);
      // The log ends with events the projection does not handle.
      await append(store, [ns.unrelated('c', 1), ns.unrelated('d', 1)], 'sorting-1');
      const head = await store.headPosition();

      expect(await live.catchUp()).toBe(head);
      expect(await checkpointOf(ctx.db, ns.table)).toBe(head);
      expect(batches.flat().map((e) => e.type)).toEqual([ns.weighed, ns.weighed, ns.weighed]);
      expect(await readTotals(ctx.db, ns.table)).toEqual([
        { key: 'a', kg: 4, events: 2 },
        { key: 'b', kg: 2, events: 1 },
      ]);

      // Only unrelated events: the checkpoint moves, the projection is not called.
      batches.length = 0;
      await append(store, [ns.unrelated('a', 5), ns.unrelated('b', 6)]);
      const outcome = await live.runOnce();
      expect(outcome).toEqual({
        applied: 0,
        checkpoint: await store.headPosition(),
        moved: true,
      });
      expect(batches).toEqual([]);
      expect((await live.lag()).lag).toBe(0);
    },
  );

  it.skipIf(skip)('lag() reports head minus checkpoint', async () => {
    const ns = namespace();
    const live = runner(ns, { batchSize: 2 });
    await live.setup();
    await append(store, [ns.weigh('a', 1), ns.unrelated('a', 3)]);
    const head0 = await store.headPosition();
    // A new projection starts at 0: the whole log is lag, whatever its types.
    expect(await live.lag()).toEqual({ checkpoint: 0, head: head0, lag: head0 });
    expect(await live.catchUp()).toBe(head0);
    expect(await live.lag()).toEqual({ checkpoint: head0, head: head0, lag: 0 });

    await append(store, [
      ns.weigh('a', 1),
      ns.weigh('a', 2),
      ns.unrelated('a', 3),
      ns.weigh('b', 4),
      ns.weigh('c', 5),
    ]);
    const head = head0 + 5;
    expect(await live.lag()).toEqual({ checkpoint: head0, head, lag: 5 });

    const outcome = await live.runOnce();
    expect(outcome.moved).toBe(true);
    expect(outcome.checkpoint).toBeGreaterThan(head0);
    expect(outcome.checkpoint).toBeLessThan(head);
    expect(await live.lag()).toEqual({
      checkpoint: outcome.checkpoint,
      head,
      lag: head - outcome.checkpoint,
    });

    await live.catchUp();
    expect(await live.lag()).toEqual({ checkpoint: head, head, lag: 0 });

    await append(store, [ns.unrelated('x', 1), ns.weigh('x', 1), ns.weigh('y', 1)]);
    expect(await live.lag()).toEqual({ checkpoint: head, head: head + 3, lag: 3 });
  });

  it.skipIf(skip)(
    'a new runner instance resumes from the checkpoint without re-applying',
    async () => {
      const ns = namespace();
      const first = runner(ns, { batchSize: 2 });
      await first.setup();
      await append(store, [ns.weigh('a', 10), ns.weigh('b', 20), ns.weigh('a', 30)]);
      await first.runOnce(); // two of three
      const afterOne = await snapshot(ctx.db, ns);

      // A restart: a new instance, set up again (which must not reset anything).
      const second = runner(ns, { batchSize: 2 });
      await second.setup();
      expect(await snapshot(ctx.db, ns)).toEqual(afterOne);
      await second.catchUp();
      const caughtUp = await snapshot(ctx.db, ns);
      expect(caughtUp.totals).toEqual((await expected(ns)).totals);
      expect(caughtUp.checkpoint).toBe(await store.headPosition());

      // A third instance finds nothing to do: totals unchanged.
      const third = runner(ns);
      await third.setup();
      expect((await third.runOnce()).moved).toBe(false);
      expect(await third.catchUp()).toBe(caughtUp.checkpoint);
      expect(await snapshot(ctx.db, ns)).toEqual(caughtUp);

      // New events are applied once, by whichever instance runs.
      await append(store, [ns.weigh('b', 5), ns.weigh('c', 6)]);
      await third.catchUp();
      await second.catchUp();
      await first.catchUp();
      expect(await readTotals(ctx.db, ns.table)).toEqual([
        { key: 'a', kg: 40, events: 2 },
        { key: 'b', kg: 25, events: 2 },
        { key: 'c', kg: 6, events: 1 },
      ]);
    },
  );

  it.skipIf(skip)('two runners racing runOnce never apply an event twice', async () => {
    const ns = namespace();
    const { projection, batches } = recording({
      ...ns.projection,
      // Hold the transaction (and the checkpoint lock) a little, so that the runners overlap.
      async apply(trx, events, tables) {
        await delay(3);
        return ns.projection.apply(trx, events, tables);
      },
    });
    const one = runner(ns, { projection, batchSize: 4 });
    const two = runner(ns, { projection, batchSize: 4 });
    // One after the other: concurrent CREATE TABLE IF NOT EXISTS can race in PostgreSQL itself.
    await one.setup();
    await two.setup();
    const keys = ['a', 'b', 'c', 'd', 'e'];
    for (let i = 0; i < 6; i += 1) {
      await append(
        store,
        Array.from({ length: 5 }, (_, j) =>
          j === 2 ? ns.unrelated('z', 1) : ns.weigh(keys[(i + j) % 5]!, i * 10 + j + 1),
        ),
        `weighbridge-${i % 2}`,
      );
    }

    const applied: number[] = [];
    async function drain(r: ProjectionRunner<string>): Promise<void> {
      for (;;) {
        const outcome = await r.runOnce();
        applied.push(outcome.applied);
        if (!outcome.moved) return;
      }
    }
    await Promise.all([drain(one), drain(two), drain(one), drain(two)]);

    const { events, totals } = await expected(ns);
    const positions = batches.flat().map((e) => e.position);
    expect(new Set(positions).size).toBe(positions.length);
    expect(positions.sort((a, b) => a - b)).toEqual(events.map((e) => e.position));
    expect(applied.reduce((a, b) => a + b, 0)).toBe(events.length);
    expect(await readTotals(ctx.db, ns.table)).toEqual(totals);
    expect(await checkpointOf(ctx.db, ns.table)).toBe(await store.headPosition());
  });

  it.skipIf(skip || harness.name !== 'postgres')(
    'a runner that read a stale checkpoint while another applied retries from the new one',
    async () => {
      const ns = namespace();
      const inApply = deferred();
      const gate = deferred();
      const slow = runner(ns, {
        batchSize: 3,
        projection: {
          ...ns.projection,
          async apply(trx, events, tables) {
            inApply.resolve();
            await gate.promise; // holds the checkpoint lock, uncommitted
            return ns.projection.apply(trx, events, tables);
          },
        },
      });
      let pagesRead = 0;
      const staleRead = deferred();
      const fast = runner(ns, {
        batchSize: 3,
        store: {
          ...store,
          async readAll(options) {
            const page = await store.readAll(options);
            pagesRead += 1;
            staleRead.resolve();
            return page;
          },
        },
      });
      await slow.setup();
      // Start right before this test's events, so that a batch of 3 is three of them.
      await runner(ns, { batchSize: 100_000 }).catchUp();
      await append(store, [
        ns.weigh('a', 1),
        ns.weigh('b', 2),
        ns.weigh('a', 4),
        ns.weigh('b', 8),
        ns.weigh('c', 16),
        ns.weigh('a', 32),
      ]);
      const { events } = await expected(ns);

      const slowDone = slow.runOnce();
      await inApply.promise;
      const fastDone = fast.runOnce();
      await staleRead.promise; // read from checkpoint 0, the same batch the slow one holds
      await delay(50); // let it reach the lock
      gate.resolve();

      expect(await slowDone).toEqual({
        applied: 3,
        checkpoint: events[2]!.position,
        moved: true,
      });
      expect(await fastDone).toEqual({
        applied: 3,
        checkpoint: events[5]!.position,
        moved: true,
      });
      expect(pagesRead).toBe(2);
      expect(await readTotals(ctx.db, ns.table)).toEqual([
        { key: 'a', kg: 37, events: 3 },
        { key: 'b', kg: 10, events: 2 },
        { key: 'c', kg: 16, events: 1 },
      ]);
    },
  );

  it.skipIf(skip)('run(signal) follows live appends and stops on abort', async () => {
    const ns = namespace();
    const errors: unknown[] = [];
    const live = runner(ns, { batchSize: 2, onError: (e) => errors.push(e) });
    await live.setup();
    await append(store, [ns.weigh('a', 1), ns.weigh('b', 2), ns.weigh('a', 3)]);

    const controller = new AbortController();
    const running = live.run(controller.signal, 10);
    const reflectsLog = async () =>
      isDeepStrictEqual(await readTotals(ctx.db, ns.table), (await expected(ns)).totals) &&
      (await live.lag()).lag === 0;

    expect(await eventually(reflectsLog)).toBe(true);
    for (let i = 0; i < 3; i += 1) {
      await append(store, [ns.weigh('c', 10 + i), ns.unrelated('c', 1), ns.weigh('a', 100)]);
      expect(await eventually(reflectsLog)).toBe(true);
    }
    expect(await readTotals(ctx.db, ns.table)).toEqual([
      { key: 'a', kg: 304, events: 5 },
      { key: 'b', kg: 2, events: 1 },
      { key: 'c', kg: 33, events: 3 },
    ]);

    const aborted = Date.now();
    controller.abort();
    await running;
    expect(Date.now() - aborted).toBeLessThan(1_000);

    // Stopped: what is appended now stays unapplied.
    const stopped = await snapshot(ctx.db, ns);
    await append(store, [ns.weigh('a', 1)]);
    await delay(100);
    expect(await snapshot(ctx.db, ns)).toEqual(stopped);
    expect((await live.lag()).lag).toBe(1);
    expect(errors).toEqual([]);
  });

  it.skipIf(skip)(
    'an apply that throws leaves read model and checkpoint unchanged; run reports it and retries',
    async () => {
      const ns = namespace();
      let calls = 0;
      const flaky: Projection<string> = {
        ...ns.projection,
        async apply(trx, events, tables) {
          calls += 1;
          // Write the whole batch, then fail: the transaction must take it all back.
          await ns.projection.apply(trx, events, tables);
          if (calls <= 2) throw new InjectedFailure(`apply #${calls}`);
        },
      };
      await runner(ns).setup();
      await append(store, [ns.weigh('a', 1), ns.weigh('b', 2)]);
      await runner(ns).catchUp();
      await append(store, [ns.weigh('a', 10), ns.weigh('c', 20)]);
      const before = await snapshot(ctx.db, ns);
      expect(before.totals).toEqual([
        { key: 'a', kg: 1, events: 1 },
        { key: 'b', kg: 2, events: 1 },
      ]);

      const errors: unknown[] = [];
      const live = runner(ns, { projection: flaky, onError: (e) => errors.push(e) });
      await expect(live.runOnce()).rejects.toThrow(InjectedFailure);
      expect(await snapshot(ctx.db, ns)).toEqual(before);
      expect((await live.lag()).lag).toBe(2);

      const controller = new AbortController();
      const running = live.run(controller.signal, 10);
      try {
        expect(await eventually(async () => (await live.lag()).lag === 0)).toBe(true);
      } finally {
        controller.abort();
        await running;
      }
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(InjectedFailure);
      expect(calls).toBe(3);
      expect(await readTotals(ctx.db, ns.table)).toEqual([
        { key: 'a', kg: 11, events: 2 },
        { key: 'b', kg: 2, events: 1 },
        { key: 'c', kg: 20, events: 1 },
      ]);
    },
  );

  it.skipIf(skip)(
    'rebuild replaces the live tables, renames their indexes and can run again',
    async () => {
      const ns = namespace();
      const live = runner(ns, { batchSize: 2 });
      await live.setup();
      await append(store, [ns.weigh('a', 1), ns.unrelated('a', 9), ns.weigh('b', 2)]);
      await append(store, [ns.weigh('a', 3), ns.weigh('c', 4)], 'weighbridge-2');
      await live.catchUp();
      // A read model gone wrong (say, a bug fixed since): the rebuild must not carry it over.
      await writeRow(ctx.db, ns.table, { key: '#bogus', kg: -1, events: 99 });

      for (let round = 0; round < 2; round += 1) {
        const liveBefore = (await checkpointOf(ctx.db, ns.table)) ?? 0;
        const result = await rebuildProjection({
          store,
          db: ctx.db,
          projection: ns.projection,
          batchSize: 2,
        });
        // Swapped once the rebuild reached the live read model (round 1: the live runner lags
        // the appended event), never behind it.
        expect(result.swappedAt).toBeGreaterThanOrEqual(liveBefore);
        expect(result.swappedAt).toBeLessThanOrEqual(await store.headPosition());
        expect(await checkpointOf(ctx.db, ns.table)).toBe(result.swappedAt);
        expect(await checkpointOf(ctx.db, `${ns.table}__rebuild`)).toBeUndefined();
        expect(await tableExists(ctx.db, `${ns.table}__rebuild`)).toBe(false);
        expect(await indexesOf(ctx.db, ns.table)).toEqual([
          `${ns.table}_kg_idx`,
          `${ns.table}_pkey`,
        ]);
        expect(await readTotals(ctx.db, ns.table)).toEqual(
          (await expected(ns, result.swappedAt)).totals,
        );
        await append(store, [ns.weigh('d', 5 + round)]);
      }

      // The live runner goes on from the swapped-in checkpoint.
      await live.catchUp();
      expect(await readTotals(ctx.db, ns.table)).toEqual([
        { key: 'a', kg: 4, events: 2 },
        { key: 'b', kg: 2, events: 1 },
        { key: 'c', kg: 4, events: 1 },
        { key: 'd', kg: 11, events: 2 },
      ]);
    },
  );
});
