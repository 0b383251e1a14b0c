/**
 * Replaying the ledger's own projections (src/projections/ledger-projections.ts) into scratch
 * schemas and diffing them with the live read models (src/audit/replay.ts), run unchanged on
 * PGlite (replay.int.spec.ts) and PostgreSQL (replay.e2e.spec.ts).
 *
 * One weighbridge history per database, written through the API in two phases a few
 * milliseconds apart, with the live runners caught up in several batches along the way:
 *
 *   phase 1, DAY1 (catch-up after the first three tickets, and again at the end of the phase):
 *     collection at the transfer station: residual 4 000, kitchen 3 000, paper 1 200 (dump
 *     truck), residual 2 500 three minutes after the kitchen one (same compactor: a repeat
 *     weighing); a two-pass residual load, gross 16 000, tare 10 600 (stored 10 000: tare drift)
 *   phase 2, DAY2:
 *     a haul station → plant, 9 000 sent, 8 000 received; collection residual 5 000 corrected
 *     to 5 500; collection kitchen 700, then voided.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportEvents, storeEvents } from '../../src/audit/event-sources.js';
import { exportLines } from '../../src/audit/log-audit.js';
import {
  diffProjection,
  dropScratch,
  replayProjection,
  type TableDiff,
} from '../../src/audit/replay.js';
import { verifyExportLines } from '../../src/audit/verify-export.js';
import { ledgerProjections } from '../../src/projections/ledger-projections.js';
import type { Projection } from '../../src/projections/runner/projection.js';
import { ProjectionRunner } from '../../src/projections/runner/runner.js';
import type { RecordedEvent } from '../../src/store/port.js';
import { correct, record, voidTicket } from '../api/fixtures.js';
import {
  at,
  collect,
  collectEach,
  collectTwoPass,
  haulEach,
  INCINERATION,
  kitchen,
  openComplianceApi,
  paper,
  registerDistrict,
  registerSite,
  residual,
  transferStation,
  type ComplianceApi,
} from '../compliance/support.js';
import { delay, readLog } from '../projections/fixtures.js';
import type { StoreHarness } from '../support/databases.js';

const DAY1 = '2026-02-02';
const DAY2 = '2026-02-03';

const byName = (name: string): Projection<string> => {
  const projection = ledgerProjections.find((p) => p.name === name);
  if (projection === undefined) throw new Error(`no projection ${name}`);
  return projection;
};
const dailyTonnage = byName('daily-tonnage-v2');
const findings = byName('findings');
const complianceFacts = byName('compliance-facts-v1');

/** A table's rows as JSON text, sorted: two tables hold the same rows iff these are equal. */
async function rowsOf(db: Kysely<unknown>, table: string): Promise<string[]> {
  const { rows } = await sql<{ j: string }>`
    SELECT row_to_json(t)::text AS j FROM ${sql.table(table)} AS t ORDER BY 1`.execute(db);
  return rows.map((r) => r.j);
}

interface DayRow {
  day: string;
  material: string;
  flow: string;
  operation: string;
  net_kg: string | number;
  tickets: number;
}

async function byDay(db: Kysely<unknown>, table: string): Promise<DayRow[]> {
  const { rows } = await sql<DayRow>`
    SELECT day, material, flow, operation, net_kg::int AS net_kg, tickets
      FROM ${sql.table(table)} ORDER BY day, material, flow, operation`.execute(db);
  return rows;
}

const diffOf = (diffs: readonly TableDiff[], table: string): TableDiff => {
  const d = diffs.find((x) => x.table === table);
  if (d === undefined) throw new Error(`no diff for ${table}`);
  return d;
};

/** Thrown to roll back a transaction that corrupted a live table on purpose. */
class Rollback extends Error {}

export function describeReplaySuite(harness: StoreHarness): void {
  describe(`replay (${harness.name})`, () => {
    let api: ComplianceApi;
    let db: Kysely<unknown>;
    let log: RecordedEvent[];
    /** The head at the end of phase 1, and the live daily rows as they were then. */
    let head1: number;
    let head2: number;
    let liveAtHead1: DayRow[];
    let findingsAtHead1: { transferLinks: number; recorded: number };
    const schemas: string[] = [];

    let counter = 0;
    const scratch = () => {
      counter += 1;
      const name = `replay_${harness.name}_${counter}_${randomBytes(4).toString('hex')}`;
      schemas.push(name);
      return name;
    };

    const replay = <T extends string>(
      projection: Projection<T>,
      options: {
        events?: AsyncIterable<RecordedEvent>;
        upTo?: { position?: number; recordedAt?: string };
      } = {},
    ) =>
      replayProjection({
        db,
        projection,
        schema: scratch(),
        events: options.events ?? storeEvents(api.ledger.store),
        ...(options.upTo === undefined ? {} : { upTo: options.upTo }),
      });

    beforeAll(async () => {
      api = await openComplianceApi(harness);
      db = api.ledger.db;
      const runners = ledgerProjections.map(
        (projection) =>
          new ProjectionRunner<string>({
            store: api.ledger.store,
            db,
            projection,
            batchSize: 7,
          }),
      );
      for (const runner of runners) await runner.setup();
      const catchUp = async () => {
        for (const runner of runners) await runner.catchUp();
      };

      const { app } = api;
      const d = await registerDistrict(app);
      const station = await transferStation(app, d);
      const plant = await registerSite(app, d, {
        operation: INCINERATION,
        accepts: { categories: ['residual', 'kitchen'], residues: ['sorting_residue'] },
      });

      // Phase 1.
      await collectEach(app, d, [
        [station, residual, 4000, at(DAY1, '08:00')],
        [station, kitchen, 3000, at(DAY1, '09:00')],
        [station, paper, 1200, at(DAY1, '10:00'), d.dumpTruck],
      ]);
      await catchUp();
      const repeat = await collect(app, d, [station, residual, 2500, at(DAY1, '09:03')]);
      expect(repeat.findings).toEqual(['RepeatWeighingSuspected']);
      const drift = await collectTwoPass(app, d, {
        siteId: station,
        load: residual,
        grossKg: 16_000,
        tareKg: 10_600,
        inAt: at(DAY1, '11:00'),
        outAt: at(DAY1, '11:20'),
      });
      expect(drift.findings).toEqual(['TareDriftFound']);
      await catchUp();
      head1 = await api.ledger.store.headPosition();
      liveAtHead1 = await byDay(db, 'tonnage_v2_by_day');
      findingsAtHead1 = {
        transferLinks: (await rowsOf(db, 'transfer_links')).length,
        recorded: (await rowsOf(db, 'findings_recorded')).length,
      };
      // Phase 2 is recorded strictly later than anything in phase 1.
      await delay(40);

      await haulEach(app, d, [
        [station, plant, residual, 9000, 8000, at(DAY2, '08:00'), at(DAY2, '09:30')],
      ]);
      const corrected = await collect(app, d, [station, residual, 5000, at(DAY2, '10:00')]);
      await record(
        app,
        correct({
          siteId: station,
          ticketNo: corrected.ticketNo,
          grossKg: d.compactor.tareKg + 5500,
          correctedAt: at(DAY2, '12:00'),
        }),
      );
      const voided = await collect(app, d, [station, kitchen, 700, at(DAY2, '10:30')]);
      await record(
        app,
        voidTicket({ siteId: station, ticketNo: voided.ticketNo, voidedAt: at(DAY2, '12:30') }),
      );
      await catchUp();
      head2 = await api.ledger.store.headPosition();
      log = await readLog(api.ledger.store);
      expect(log).toHaveLength(head2);
    });

    afterAll(async () => {
      for (const schema of schemas) await dropScratch(db, schema);
      const { rows } = await sql<{ n: string }>`
        SELECT count(*) AS n FROM information_schema.schemata
         WHERE schema_name = ANY(${schemas})`.execute(db);
      expect(Number(rows[0]?.n)).toBe(0);
      await api.close();
    });

    it('the live daily tonnage holds what was weighed (the figures the replays must match)', async () => {
      const row = (
        day: string,
        material: string,
        flow: string,
        net_kg: number,
        tickets: number,
        operation = '',
      ) => ({ day, material, flow, operation, net_kg, tickets });
      const dayOne = [
        row(DAY1, 'kitchen', 'collected', 3000, 1),
        row(DAY1, 'recyclable', 'collected', 1200, 1),
        // 4 000 + 2 500 + the two-pass load's 16 000 − 10 600.
        row(DAY1, 'residual', 'collected', 11_900, 3),
      ];
      expect(liveAtHead1).toEqual(dayOne);
      expect(await byDay(db, 'tonnage_v2_by_day')).toEqual([
        ...dayOne,
        // Corrected from 5 000 to 5 500; the voided kitchen load counts nowhere.
        row(DAY2, 'residual', 'collected', 5500, 1),
        row(DAY2, 'residual', 'transfer_out', 9000, 1),
        row(DAY2, 'residual', 'treatment_intake', 8000, 1, INCINERATION),
      ]);
    });

    it.each(['daily-tonnage-v2', 'findings', 'compliance-facts-v1'])(
      '%s: a replay of the whole log equals the live read model, table by table',
      async (name) => {
        const projection = byName(name);
        const result = await replay(projection);
        expect(result.upToPosition).toBe(head2);
        expect(result.applied).toBe(log.filter((e) => projection.handles.includes(e.type)).length);
        expect(result.applied).toBeGreaterThan(10);
        const diffs = await diffProjection(db, projection, result.tables);
        expect(diffs.map((d) => d.table)).toEqual(projection.tables);
        for (const d of diffs) {
          const batchDependent = (projection.batchDependent ?? []).includes(d.table);
          expect(d.compared, d.table).toBe(!batchDependent);
          expect({ table: d.table, onlyLive: d.onlyLive, onlyReplayed: d.onlyReplayed }).toEqual({
            table: d.table,
            onlyLive: 0,
            onlyReplayed: 0,
          });
          expect(d.samples).toEqual({ live: [], replayed: [] });
          if (batchDependent) continue;
          expect(d.replayedRows, d.table).toBe(d.liveRows);
          // Checked without diffProjection too: the same rows, value for value.
          const scratchTable = result.tables[d.table]!;
          expect(await rowsOf(db, scratchTable)).toEqual(await rowsOf(db, d.table));
        }
        const nonEmpty = diffs.filter((d) => d.compared && d.liveRows > 0).map((d) => d.table);
        expect(nonEmpty).toEqual(
          projection.tables.filter((t) => !(projection.batchDependent ?? []).includes(t)),
        );
      },
    );

    it('findings: the replay holds the recorded findings and the transfer link', async () => {
      const result = await replay(findings);
      const tables = result.tables;
      const recorded = await sql<{ kind: string; day: string }>`
        SELECT kind, day FROM ${sql.table(tables.findings_recorded!)} ORDER BY position`.execute(
        db,
      );
      expect(recorded.rows).toEqual([
        { kind: 'repeat_weighing', day: DAY1 },
        { kind: 'tare_drift', day: DAY1 },
      ]);
      const links = await sql<{ dispatched_kg: string; received_kg: string }>`
        SELECT dispatched_kg::int AS dispatched_kg, received_kg::int AS received_kg
          FROM ${sql.table(tables.transfer_links!)}`.execute(db);
      expect(links.rows).toEqual([{ dispatched_kg: 9000, received_kg: 8000 }]);
    });

    it('a corrupted live row shows in that table only: one row only live, one only replayed', async () => {
      const result = await replay(dailyTonnage);
      const target = liveAtHead1.find((r) => r.material === 'residual')!;
      const net = Number(target.net_kg);
      await expect(
        db.transaction().execute(async (trx) => {
          const updated = await sql`
            UPDATE tonnage_v2_by_day SET net_kg = net_kg + 7
             WHERE day = ${target.day} AND material = ${target.material}
               AND flow = ${target.flow} AND operation = ${target.operation}`.execute(trx);
          expect(Number(updated.numAffectedRows)).toBe(1);
          const diffs = await diffProjection(trx, dailyTonnage, result.tables);
          const corrupted = diffOf(diffs, 'tonnage_v2_by_day');
          expect(corrupted).toMatchObject({
            compared: true,
            onlyLive: 1,
            onlyReplayed: 1,
          });
          expect(corrupted.liveRows).toBe(corrupted.replayedRows);
          const sample = {
            day: target.day,
            material: target.material,
            flow: target.flow,
            operation: target.operation,
            tickets: target.tickets,
          };
          expect(corrupted.samples.live).toEqual([{ ...sample, net_kg: net + 7 }]);
          expect(corrupted.samples.replayed).toEqual([{ ...sample, net_kg: net }]);
          for (const other of diffs.filter((x) => x.table !== 'tonnage_v2_by_day')) {
            expect([other.table, other.onlyLive, other.onlyReplayed]).toEqual([other.table, 0, 0]);
          }
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);
      // Rolled back: the live model equals its replay again.
      const after = await diffProjection(db, dailyTonnage, result.tables);
      expect(after.every((x) => x.onlyLive === 0 && x.onlyReplayed === 0)).toBe(true);
    });

    it('a missing live row counts only on the replayed side', async () => {
      const result = await replay(findings);
      await expect(
        db.transaction().execute(async (trx) => {
          await sql`DELETE FROM transfer_links`.execute(trx);
          const diffs = await diffProjection(trx, findings, result.tables);
          expect(diffOf(diffs, 'transfer_links')).toMatchObject({
            onlyLive: 0,
            onlyReplayed: 1,
            liveRows: 0,
            replayedRows: 1,
            samples: {
              live: [],
              replayed: [expect.objectContaining({ dispatched_kg: 9000, received_kg: 8000 })],
            },
          });
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);
    });

    it('a replay up to an earlier position stops there: fewer rows, the live figures of then', async () => {
      const tonnage = await replay(dailyTonnage, { upTo: { position: head1 } });
      expect(tonnage.upToPosition).toBe(head1);
      expect(tonnage.applied).toBe(
        log.filter((e) => e.position <= head1 && dailyTonnage.handles.includes(e.type)).length,
      );
      const tables = tonnage.tables;
      expect(await byDay(db, tables.tonnage_v2_by_day!)).toEqual(liveAtHead1);
      const diffs = await diffProjection(db, dailyTonnage, tonnage.tables);
      const day = diffOf(diffs, 'tonnage_v2_by_day');
      expect(day.replayedRows).toBe(liveAtHead1.length);
      expect(day.replayedRows).toBeLessThan(day.liveRows);
      expect(day.onlyReplayed).toBe(0);
      expect(day.onlyLive).toBe(day.liveRows - day.replayedRows);

      const found = await replay(findings, { upTo: { position: head1 } });
      const findingTables = found.tables;
      expect((await rowsOf(db, findingTables.transfer_links!)).length).toBe(
        findingsAtHead1.transferLinks,
      );
      expect(findingsAtHead1.transferLinks).toBe(0);
      expect((await rowsOf(db, findingTables.findings_recorded!)).length).toBe(
        findingsAtHead1.recorded,
      );
    });

    it('a replay up to a recorded time stops at the last event recorded at or before it', async () => {
      const last1 = log[head1 - 1]!;
      expect(last1.position).toBe(head1);
      const first2 = log[head1]!;
      expect(Date.parse(first2.recordedAt)).toBeGreaterThanOrEqual(
        Date.parse(last1.recordedAt) + 40,
      );

      const exact = await replay(dailyTonnage, { upTo: { recordedAt: last1.recordedAt } });
      expect(exact.upToPosition).toBe(head1);
      expect(await byDay(db, exact.tables.tonnage_v2_by_day!)).toEqual(liveAtHead1);

      const between = new Date(Date.parse(last1.recordedAt) + 20).toISOString();
      const later = await replay(dailyTonnage, { upTo: { recordedAt: between } });
      expect(later.upToPosition).toBe(head1);

      // A time inside the log: the last event recorded at or before it, whatever its position.
      const middle = log[Math.floor(head1 / 2)]!;
      const expected = Math.max(
        ...log
          .filter((e) => Date.parse(e.recordedAt) <= Date.parse(middle.recordedAt))
          .map((e) => e.position),
      );
      const mid = await replay(dailyTonnage, { upTo: { recordedAt: middle.recordedAt } });
      expect(mid.upToPosition).toBe(expected);
      expect(mid.upToPosition).toBeGreaterThanOrEqual(middle.position);
      expect(mid.upToPosition).toBeLessThan(head1);

      const before = new Date(Date.parse(log[0]!.recordedAt) - 1).toISOString();
      const none = await replay(dailyTonnage, { upTo: { recordedAt: before } });
      expect(none).toMatchObject({ upToPosition: 0, applied: 0 });
      expect(await rowsOf(db, none.tables.tonnage_v2_by_day!)).toEqual([]);

      // Position and time together: whichever comes first.
      const both = await replay(dailyTonnage, {
        upTo: { position: head1 - 3, recordedAt: first2.recordedAt },
      });
      expect(both.upToPosition).toBe(head1 - 3);
    });

    it('a replay from an export equals the replay from the database', async () => {
      let text = '';
      for await (const chunk of exportLines(api.ledger.store)) text += chunk;
      const lines = text.split('\n');
      const verified = await verifyExportLines(lines);
      expect(verified).toMatchObject({ ok: true, events: head2, lastPosition: head2 });

      for (const projection of [dailyTonnage, findings, complianceFacts]) {
        const fromDb = await replay(projection);
        const fromExport = await replay(projection, { events: exportEvents(lines) });
        expect(fromExport.upToPosition).toBe(head2);
        expect(fromExport.applied).toBe(fromDb.applied);
        for (const table of projection.tables) {
          const a = fromDb.tables[table]!;
          const b = fromExport.tables[table]!;
          const rows = await rowsOf(db, a);
          expect(rows.length > 0 || table.includes('snapshot'), `${projection.name} ${table}`).toBe(
            true,
          );
          expect(await rowsOf(db, b), `${projection.name} ${table}`).toEqual(rows);
        }
        const diffs = await diffProjection(db, projection, fromExport.tables);
        expect(diffs.every((x) => x.onlyLive === 0 && x.onlyReplayed === 0)).toBe(true);
      }
    });

    it('refuses a bad or existing scratch schema and never touches the live tables', async () => {
      const before = await rowsOf(db, 'tonnage_v2_by_day');
      await expect(
        replayProjection({
          db,
          projection: dailyTonnage,
          schema: 'Bad-Name',
          events: storeEvents(api.ledger.store),
        }),
      ).rejects.toThrow('bad scratch schema name Bad-Name');
      const existing = scratch();
      await sql`CREATE SCHEMA ${sql.id(existing)}`.execute(db);
      await expect(
        replayProjection({
          db,
          projection: dailyTonnage,
          schema: existing,
          events: storeEvents(api.ledger.store),
        }),
      ).rejects.toThrow();
      expect(await rowsOf(db, 'tonnage_v2_by_day')).toEqual(before);
    });

    it('dropScratch drops the schema with its tables, and again is a no-op', async () => {
      const result = await replay(dailyTonnage, { upTo: { position: 5 } });
      const schema = schemas.at(-1)!;
      const count = async () =>
        Number(
          (
            await sql<{ n: string }>`
              SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = ${schema}`.execute(
              db,
            )
          ).rows[0]?.n,
        );
      expect(await count()).toBe(dailyTonnage.tables.length);
      expect(Object.values(result.tables)).toEqual(
        dailyTonnage.tables.map((t) => `${schema}.${t}`),
      );
      await dropScratch(db, schema);
      expect(await count()).toBe(0);
      await dropScratch(db, schema);
      expect((await rowsOf(db, 'tonnage_v2_by_day')).length).toBeGreaterThan(0);
    });
  });
}
