import { describe, expect, it } from 'vitest';
import {
  districtSchema,
  legalGrossLimitKg,
  siteSchema,
  vehicleSchema,
} from '../../src/domain/master-data/master-data.js';
import type { Category } from '../../src/domain/shared/materials.js';
import { businessDay } from '../../src/domain/shared/time.js';
import {
  weighingCommandSchemas,
  type WeighingCommand,
} from '../../src/domain/weighing/commands.js';
import { decideWeighing, plateOf } from '../../src/domain/weighing/decide.js';
import { gateStreamId, ticketStreamId } from '../../src/domain/weighing/events.js';
import {
  evolveGate,
  evolveTicket,
  initialGateState,
  initialTicketState,
  type GateState,
  type TicketState,
} from '../../src/domain/weighing/ticket.js';
import {
  addDays,
  expectedTonnage,
  generateCityDay,
  householdKg,
  type CityDay,
  type SimulatedItem,
} from '../../src/simulator/city.js';

const DATE = '2025-03-03';
const small = generateCityDay({ date: DATE, seed: 7, scale: 0.02 });
const tiny = generateCityDay({ date: DATE, seed: 11, scale: 0.01 });

const started = performance.now();
const large = generateCityDay({ date: DATE, seed: 1, scale: 1 });
const largeMs = performance.now() - started;

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** What the ledger would know of a ticket after replaying the items in order. */
interface Ticket {
  readonly siteId: string;
  readonly direction: 'inbound' | 'outbound';
  readonly plate: string;
  readonly weighedInAt: string;
  status: 'open' | 'weighed' | 'rejected' | 'voided';
  grossKg: number;
  tareKg: number | undefined;
  category: Category | undefined;
}

/**
 * Replays a day the way the ledger's rules would and returns every rule it breaks (an empty
 * list for a valid day), so a failure names the item.
 */
function violations(day: CityDay): string[] {
  const problems: string[] = [];
  const sites = new Map(day.sites.map((s) => [s.siteId, siteSchema.parse(s)]));
  const vehicles = new Map(day.vehicles.map((v) => [v.plate, vehicleSchema.parse(v)]));
  const tickets = new Map<string, Ticket>();
  const openAtGate = new Map<string, string>();
  const key = (d: { siteId: string; ticketNo: string }) => `${d.siteId}|${d.ticketNo}`;
  const limitOf = (plate: string) => legalGrossLimitKg(vehicles.get(plate)?.axles ?? 2);
  const checkWeights = (where: string, plate: string, gross: number, tare: number | undefined) => {
    if (gross > limitOf(plate)) problems.push(`${where}: gross ${gross} over ${limitOf(plate)}`);
    if (tare !== undefined && tare >= gross) {
      problems.push(`${where}: tare ${tare} not below ${gross}`);
    }
  };
  const accepts = (siteId: string, load: SimulatedItemLoad) => {
    const site = sites.get(siteId);
    return (
      site !== undefined &&
      (load.kind === 'waste'
        ? site.accepts.categories.includes(load.category)
        : site.accepts.residues.includes(load.residue))
    );
  };

  day.items.forEach((item, index) => {
    const where = `#${index} ${item.type} ${'ticketNo' in item.data ? item.data.ticketNo : ''}`;
    switch (item.type) {
      case 'RecordWeighIn':
      case 'RecordOnePassWeighing':
      case 'RejectLoad': {
        const d = item.data;
        if (!sites.has(d.siteId)) problems.push(`${where}: unknown site ${d.siteId}`);
        if (!vehicles.has(d.plate)) problems.push(`${where}: unknown vehicle ${d.plate}`);
        if (tickets.has(key(d))) problems.push(`${where}: ticket number reused at ${d.siteId}`);
        if (item.type === 'RejectLoad') {
          tickets.set(key(d), {
            siteId: d.siteId,
            direction: 'inbound',
            plate: d.plate,
            weighedInAt: item.data.rejectedAt,
            status: 'rejected',
            grossKg: 0,
            tareKg: undefined,
            category: undefined,
          });
          return;
        }
        const direction = item.data.direction ?? 'inbound';
        const tare = item.type === 'RecordOnePassWeighing' ? item.data.tareKg : undefined;
        checkWeights(where, d.plate, item.data.grossKg, tare);
        if (direction === 'inbound') {
          if (!accepts(d.siteId, item.data.load)) problems.push(`${where}: load not accepted`);
          const origin = item.data.origin;
          if (origin === undefined) problems.push(`${where}: inbound without origin`);
          if (origin?.kind === 'transfer') {
            const sent = tickets.get(`${origin.fromSiteId}|${origin.outboundTicketNo}`);
            if (sent?.direction !== 'outbound') problems.push(`${where}: unknown outbound ticket`);
          }
        } else if (item.data.destination === undefined) {
          problems.push(`${where}: outbound without destination`);
        } else if (!accepts(item.data.destination.siteId, item.data.load)) {
          problems.push(`${where}: destination does not accept the load`);
        }
        const gate = `${d.siteId}|${d.plate}`;
        const open = openAtGate.get(gate);
        if (open !== undefined) problems.push(`${where}: ${d.plate} still has ticket ${open} open`);
        if (item.type === 'RecordWeighIn') openAtGate.set(gate, d.ticketNo);
        tickets.set(key(d), {
          siteId: d.siteId,
          direction,
          plate: d.plate,
          weighedInAt: item.data.weighedInAt,
          status: tare === undefined ? 'open' : 'weighed',
          grossKg: item.data.grossKg,
          tareKg: tare,
          category: item.data.load.kind === 'waste' ? item.data.load.category : undefined,
        });
        return;
      }
      case 'RecordWeighOut': {
        const t = tickets.get(key(item.data));
        if (t?.status !== 'open') {
          problems.push(`${where}: ticket not open`);
          return;
        }
        if (Date.parse(item.data.weighedOutAt) < Date.parse(t.weighedInAt)) {
          problems.push(`${where}: weigh-out before weigh-in`);
        }
        checkWeights(where, t.plate, t.grossKg, item.data.tareKg);
        t.status = 'weighed';
        t.tareKg = item.data.tareKg;
        openAtGate.delete(`${t.siteId}|${t.plate}`);
        return;
      }
      case 'CorrectTicket': {
        const t = tickets.get(key(item.data));
        if (t?.status !== 'weighed') {
          problems.push(`${where}: ticket not weighed`);
          return;
        }
        t.grossKg = item.data.grossKg ?? t.grossKg;
        t.tareKg = item.data.tareKg ?? t.tareKg;
        checkWeights(where, t.plate, t.grossKg, t.tareKg);
        const load = item.data.load;
        if (load !== undefined && t.direction === 'inbound' && !accepts(t.siteId, load)) {
          problems.push(`${where}: corrected load not accepted`);
        }
        return;
      }
      case 'VoidTicket': {
        const t = tickets.get(key(item.data));
        if (t === undefined || t.status === 'voided' || t.status === 'rejected') {
          problems.push(`${where}: nothing to void`);
          return;
        }
        if (t.status === 'open') openAtGate.delete(`${t.siteId}|${t.plate}`);
        t.status = 'voided';
        return;
      }
      default: {
        const unknown: never = item;
        return unknown;
      }
    }
  });
  for (const [gate, ticketNo] of openAtGate) problems.push(`${gate}: ticket ${ticketNo} left open`);
  return problems;
}

type SimulatedItemLoad = Extract<SimulatedItem, { type: 'RecordWeighIn' }>['data']['load'];

/** The item as the API would hand it to the decider: parsed by its schema. */
function commandOf(item: SimulatedItem): WeighingCommand {
  return {
    type: item.type,
    data: weighingCommandSchemas[item.type].parse(item.data),
  } as WeighingCommand;
}

/**
 * Replays a day through the ledger's own decider (the clock a day after the simulated one) and
 * returns the rule violations, the findings recorded, and the final ticket states.
 */
function decideAll(day: CityDay) {
  const sites = new Map(day.sites.map((s) => [s.siteId, siteSchema.parse(s)]));
  const vehicles = new Map(day.vehicles.map((v) => [v.plate, vehicleSchema.parse(v)]));
  const tickets = new Map<string, TicketState>();
  const gates = new Map<string, GateState>();
  const violations: string[] = [];
  const findings: Record<string, number> = {};
  const now = Date.parse(`${addDays(day.date, 1)}T12:00:00+08:00`);
  day.items.forEach((item, index) => {
    const command = commandOf(item);
    const ticketId = ticketStreamId(command.data.siteId, command.data.ticketNo);
    const state = tickets.get(ticketId) ?? initialTicketState();
    const plate = plateOf(command, state);
    const gateId = plate === undefined ? undefined : gateStreamId(command.data.siteId, plate);
    try {
      const decision = decideWeighing(command, state, {
        now,
        timeZone: 'Asia/Shanghai',
        site: sites.get(command.data.siteId),
        vehicle: plate === undefined ? undefined : vehicles.get(plate),
        gate: (gateId === undefined ? undefined : gates.get(gateId)) ?? initialGateState(),
      });
      tickets.set(ticketId, decision.ticket.reduce(evolveTicket, state));
      if (gateId !== undefined) {
        const gate = gates.get(gateId) ?? initialGateState();
        gates.set(gateId, decision.gate.reduce(evolveGate, gate));
      }
      for (const e of decision.ticket.slice(1)) findings[e.type] = (findings[e.type] ?? 0) + 1;
    } catch (error) {
      violations.push(`#${index} ${item.type} ${ticketId}: ${(error as Error).message}`);
    }
  });
  return { violations, findings, tickets };
}

function timesOf(item: SimulatedItem): string[] {
  const d: Record<string, unknown> = item.data;
  return ['weighedInAt', 'weighedOutAt', 'rejectedAt', 'correctedAt', 'voidedAt']
    .map((k) => d[k])
    .filter((t): t is string => typeof t === 'string');
}

describe('simulated city day', () => {
  it('is the same day for the same seed, and another day for another seed', () => {
    expect(generateCityDay({ date: DATE, seed: 7, scale: 0.02 })).toEqual(small);
    const other = generateCityDay({ date: DATE, seed: 8, scale: 0.02 });
    expect(other.items).not.toEqual(small.items);
    // The city is the same whatever the seed: consecutive days share their master data.
    expect(other.sites).toEqual(small.sites);
    expect(other.vehicles).toEqual(small.vehicles);
    const nextDay = generateCityDay({ date: addDays(DATE, 1), seed: 7, scale: 0.02 });
    const ids = new Set(small.items.map((i) => i.eventId));
    expect(nextDay.items.filter((i) => ids.has(i.eventId))).toEqual([]);
  });

  it('refuses a date that is not a calendar date and a scale out of range', () => {
    expect(() => generateCityDay({ date: '2025-02-30', seed: 1 })).toThrow(RangeError);
    expect(() => generateCityDay({ date: DATE, seed: 1, scale: 0 })).toThrow(RangeError);
    expect(() => generateCityDay({ date: DATE, seed: 1.5 })).toThrow(RangeError);
  });

  it('has master data that the master-data schemas accept as they are', () => {
    expect(small.districts.map((d) => d.name)).toEqual([
      '历下区',
      '市中区',
      '槐荫区',
      '天桥区',
      '历城区',
      '长清区',
      '章丘区',
    ]);
    for (const d of small.districts) expect(districtSchema.parse(d)).toEqual(d);
    for (const s of small.sites) expect(siteSchema.parse(s)).toEqual(s);
    for (const v of small.vehicles) expect(vehicleSchema.parse(v)).toEqual(v);
    expect(new Set(small.sites.map((s) => s.siteId)).size).toBe(small.sites.length);
    expect(new Set(small.vehicles.map((v) => v.plate)).size).toBe(small.vehicles.length);
  });

  for (const [name, day] of [
    ['scale 0.02', small],
    ['scale 0.01', tiny],
  ] as const) {
    it(`${name}: every item parses with its command schema, unchanged, under a UUID v4`, () => {
      expect(day.items.length).toBeGreaterThan(50);
      for (const item of day.items) {
        const parsed = weighingCommandSchemas[item.type].safeParse(item.data);
        expect(parsed.error, `${item.type} ${JSON.stringify(item.data)}`).toBeUndefined();
        expect(parsed.data).toEqual(item.data);
        expect(item.eventId).toMatch(UUID_V4);
      }
      expect(new Set(day.items.map((i) => i.eventId)).size).toBe(day.items.length);
    });

    it(`${name}: replays without breaking a ledger rule`, () => {
      expect(violations(day)).toEqual([]);
    });

    it(`${name}: the ledger's decider accepts every item`, () => {
      expect(decideAll(day).violations).toEqual([]);
    });

    it(`${name}: has every kind of command, the day's tickets first and the late uploads last`, () => {
      const types = new Set(day.items.map((i) => i.type));
      expect([...types].sort()).toEqual(Object.keys(weighingCommandSchemas).sort());
      const days = day.items.map((i) => timesOf(i).map((t) => businessDay(t, 'Asia/Shanghai')));
      const firstLate = days.findIndex((ds) => ds.includes(addDays(DATE, -1)));
      expect(firstLate).toBeGreaterThan(0);
      expect(
        days
          .slice(0, firstLate)
          .flat()
          .every((d) => d === DATE),
      ).toBe(true);
      expect(
        days
          .slice(firstLate)
          .flat()
          .every((d) => d === addDays(DATE, -1)),
      ).toBe(true);
      for (const item of day.items) {
        for (const t of timesOf(item)) expect(t).toMatch(/\+08:00$/);
      }
    });
  }

  it('sends transfers on that arrive within a few per cent, but for a clearly short one', () => {
    const sent = new Map<string, number>();
    const weighIns = new Map<string, { gross: number; from: string }>();
    const ratios: number[] = [];
    for (const item of large.items) {
      if (item.type === 'RecordOnePassWeighing' && item.data.direction === 'outbound') {
        sent.set(`${item.data.siteId}|${item.data.ticketNo}`, item.data.grossKg - item.data.tareKg);
      }
      if (item.type === 'RecordWeighIn' && item.data.origin?.kind === 'transfer') {
        const { fromSiteId, outboundTicketNo } = item.data.origin;
        weighIns.set(`${item.data.siteId}|${item.data.ticketNo}`, {
          gross: item.data.grossKg,
          from: `${fromSiteId}|${outboundTicketNo}`,
        });
      }
      if (item.type === 'RecordWeighOut') {
        const w = weighIns.get(`${item.data.siteId}|${item.data.ticketNo}`);
        const dispatched = w === undefined ? undefined : sent.get(w.from);
        if (w !== undefined && dispatched !== undefined) {
          ratios.push((w.gross - item.data.tareKg) / dispatched);
        }
      }
    }
    expect(ratios.length).toBeGreaterThan(500);
    const short = ratios.filter((r) => r < 0.9);
    expect(short.length).toBeGreaterThanOrEqual(1);
    expect(short.length).toBeLessThanOrEqual(2);
    const close = ratios.filter((r) => r >= 0.95 && r <= 1.03);
    expect(close.length / ratios.length).toBeGreaterThan(0.97);
  });

  it('at scale 1: a large city, generated in under 2 s', () => {
    expect(largeMs).toBeLessThan(2_000);
    expect(large.items.length).toBeGreaterThanOrEqual(15_000);
    expect(large.items.length).toBeLessThanOrEqual(30_000);
    const collected = expectedTonnage(large);
    const household = householdKg(collected);
    expect(household).toBeGreaterThan(10_000_000);
    expect(household).toBeLessThan(14_000_000);
    expect(collected.kitchen).toBeGreaterThan(1_100_000);
    expect(collected.kitchen).toBeLessThan(1_500_000);
    expect(collected.hazardous).toBeGreaterThan(0);
    expect(collected.hazardous).toBeLessThan(10_000);
    expect(collected.construction).toBeGreaterThan(3 * household);
    expect(large.sites.filter((s) => s.kind === 'transfer_station')).toHaveLength(40);
    expect(violations(large)).toEqual([]);
  });

  it('at scale 1: the decider accepts every item and its tickets add up to expectedTonnage', () => {
    const { violations: broken, findings, tickets } = decideAll(large);
    expect(broken).toEqual([]);
    // A few vehicles drift from their stored tare; nobody is weighed twice within minutes.
    expect(findings.TareDriftFound).toBeGreaterThan(0);
    expect(findings.RepeatWeighingSuspected).toBeUndefined();
    const collected: Record<Category, number> = {
      kitchen: 0,
      recyclable: 0,
      hazardous: 0,
      residual: 0,
      construction: 0,
    };
    for (const t of tickets.values()) {
      if (t.status !== 'weighed') continue;
      const w = t.weighing;
      if (w.direction !== 'inbound' || w.origin?.kind !== 'collection') continue;
      if (w.businessDay !== DATE || w.load.kind !== 'waste') continue;
      collected[w.load.category] += w.netKg;
    }
    expect(collected).toEqual(expectedTonnage(large));
  });

  it('counts collected tonnage with the latest correction, without voided, rejected or late tickets', () => {
    const station = small.sites.find((s) => s.kind === 'transfer_station')?.siteId ?? '';
    const day: CityDay = {
      ...small,
      items: [
        ...weighing(station, 'T1', 'kitchen', 14_000, 10_000, DATE),
        ...weighing(station, 'T2', 'residual', 15_000, 10_000, DATE),
        correct(station, 'T2', { grossKg: 15_500 }),
        ...weighing(station, 'T3', 'residual', 12_000, 10_000, DATE),
        voidTicket(station, 'T3'),
        ...weighing(station, 'T4', 'residual', 13_000, 10_000, addDays(DATE, -1)),
        ...weighing(station, 'T5', 'kitchen', 13_000, 10_000, DATE),
        correct(station, 'T5', { load: { kind: 'waste', category: 'residual' } }),
        {
          eventId: 'r',
          type: 'RejectLoad',
          data: {
            siteId: station,
            ticketNo: 'T6',
            plate: '鲁AH1234',
            load: { kind: 'waste', category: 'residual' },
            reason: 'mixed_load',
            rejectedAt: `${DATE}T09:00:00+08:00`,
            origin: { kind: 'collection', districtId: 'lixia' },
          },
        },
      ],
    };
    expect(expectedTonnage(day)).toEqual({
      kitchen: 4_000,
      recyclable: 0,
      hazardous: 0,
      residual: 5_500 + 3_000,
      construction: 0,
    });
  });
});

function weighing(
  siteId: string,
  ticketNo: string,
  category: Category,
  grossKg: number,
  tareKg: number,
  date: string,
): SimulatedItem[] {
  return [
    {
      eventId: `${ticketNo}-in`,
      type: 'RecordWeighIn',
      data: {
        siteId,
        ticketNo,
        direction: 'inbound',
        plate: '鲁AH1234',
        load: { kind: 'waste', category },
        grossKg,
        weighedInAt: `${date}T08:00:00+08:00`,
        origin: { kind: 'collection', districtId: 'lixia' },
      },
    },
    {
      eventId: `${ticketNo}-out`,
      type: 'RecordWeighOut',
      data: { siteId, ticketNo, tareKg, weighedOutAt: `${date}T08:10:00+08:00` },
    },
  ];
}

function correct(
  siteId: string,
  ticketNo: string,
  change: Partial<Extract<SimulatedItem, { type: 'CorrectTicket' }>['data']>,
): SimulatedItem {
  return {
    eventId: `${ticketNo}-correct`,
    type: 'CorrectTicket',
    data: {
      siteId,
      ticketNo,
      ...change,
      reason: 'test',
      approvedBy: 'tester',
      correctedAt: `${DATE}T12:00:00+08:00`,
    },
  };
}

function voidTicket(siteId: string, ticketNo: string): SimulatedItem {
  return {
    eventId: `${ticketNo}-void`,
    type: 'VoidTicket',
    data: {
      siteId,
      ticketNo,
      reason: 'test',
      approvedBy: 'tester',
      voidedAt: `${DATE}T12:00:00+08:00`,
    },
  };
}
