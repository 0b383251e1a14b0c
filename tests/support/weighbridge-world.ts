/**
 * Random weighbridge reports for property tests of projections: a small world (a district, an
 * incineration plant, a transfer station, six trucks) and reports about eight tickets over four
 * days, many of which break a rule, as a weighbridge's would. Tests run them through the real
 * decider, so a log holds only what ingestion would record.
 */
import fc from 'fast-check';
import {
  siteSchema,
  vehicleSchema,
  type Site,
  type Vehicle,
} from '../../src/domain/master-data/master-data.js';
import type { Load } from '../../src/domain/shared/materials.js';
import {
  weighingCommandSchemas,
  type WeighingCommand,
} from '../../src/domain/weighing/commands.js';
import type { TicketState } from '../../src/domain/weighing/ticket.js';

export const TIME_ZONE = 'Asia/Shanghai';
export const MINUTE_MS = 60_000;
/** Weighings fall on 1–4 March 2026 (Shanghai); the decider's clock is fixed well after them. */
export const EPOCH = Date.parse('2026-03-01T00:00:00+08:00');
export const NOW = EPOCH + 30 * 24 * 60 * MINUTE_MS;
export const PERIOD_DAYS = 4;

// ---------------------------------------------------------------------------------------------
// A world per property run: its own district, incineration plant, transfer station and plates,
// so runs share the logs and the read models without seeing each other's tickets.

export interface World {
  readonly districtId: string;
  /** A second district loads are collected in. */
  readonly otherDistrictId: string;
  /** Site 0: incineration plant (licensed, rated); site 1: transfer station. */
  readonly sites: readonly [Site, Site];
  readonly siteIds: ReadonlySet<string>;
  readonly vehicles: ReadonlyMap<string, Vehicle>;
  readonly plates: readonly string[];
}

let worlds = 0;

/**
 * `tag` keeps each test file's sites, districts and plates apart (they may share a database);
 * the plant is licensed and rated, which only the compliance figures look at.
 */
export function newWorld(tag: string, platePrefix: string): World {
  worlds += 1;
  const districtId = `d-${tag}${worlds}`;
  const plant = siteSchema.parse({
    siteId: `inc-${tag}${worlds}`,
    name: 'Incineration plant',
    kind: 'treatment_facility',
    operation: 'incineration_energy_recovery',
    districtId,
    accepts: { categories: ['residual', 'kitchen'], residues: ['sorting_residue'] },
    capacityKgPerDay: 40_000,
    permitNumber: `JN-INC-${worlds}`,
    validFrom: '2020-01-01',
  });
  const station = siteSchema.parse({
    siteId: `ts-${tag}${worlds}`,
    name: 'Transfer station',
    kind: 'transfer_station',
    districtId,
    accepts: { categories: ['kitchen', 'recyclable', 'residual'] },
    validFrom: '2020-01-01',
  });
  const plates = [0, 1, 2, 3, 4, 5].map(
    (k) => `${platePrefix}${String(worlds * 10 + k).padStart(5, '0')}`,
  );
  const vehicles = new Map(
    plates.map((plate): [string, Vehicle] => [
      plate,
      vehicleSchema.parse({
        plate,
        axles: 3,
        storedTareKg: 10_000,
        tareMeasuredOn: '2026-01-05',
        operator: 'Jinan Environmental Sanitation Group',
      }),
    ]),
  );
  return {
    districtId,
    otherDistrictId: `${districtId}-x`,
    sites: [plant, station],
    siteIds: new Set([plant.siteId, station.siteId]),
    vehicles,
    plates,
  };
}

// ---------------------------------------------------------------------------------------------
// Random weighbridge reports. Many break a rule (tare above gross, a category the site refuses,
// a weigh-out of a ticket that is not open…): the decider refuses those and they record nothing.

export const ticketArb = fc.integer({ min: 0, max: 7 });
export const minuteArb = fc.integer({ min: 0, max: PERIOD_DAYS * 24 * 60 - 1 });
export const loadArb: fc.Arbitrary<Load> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .constantFrom(
        'kitchen' as const,
        'recyclable' as const,
        'residual' as const,
        'hazardous' as const,
      )
      .map((category): Load => ({ kind: 'waste', category })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('sorting_residue' as const, 'bottom_ash' as const)
      .map((residue): Load => ({ kind: 'residue', residue })),
  },
);
export const firstPassArb = {
  ticket: ticketArb,
  plate: fc.integer({ min: 0, max: 5 }),
  load: loadArb,
  direction: fc.constantFrom('inbound' as const, 'inbound' as const, 'outbound' as const),
  origin: fc.constantFrom('collection' as const, 'other-district' as const, 'transfer' as const),
  grossKg: fc.integer({ min: 10_500, max: 25_500 }),
  minute: minuteArb,
  utc: fc.boolean(),
};

export const opArb = fc.oneof(
  fc.record({ kind: fc.constant('weighIn' as const), ...firstPassArb }),
  fc.record({
    kind: fc.constant('weighOut' as const),
    ticket: ticketArb,
    tareKg: fc.integer({ min: 9_000, max: 12_000 }),
    delayMinutes: fc.integer({ min: 0, max: 180 }),
  }),
  fc.record({
    kind: fc.constant('onePass' as const),
    ...firstPassArb,
    tareKg: fc.integer({ min: 9_500, max: 10_500 }),
  }),
  fc.record({
    kind: fc.constant('correct' as const),
    ticket: ticketArb,
    grossKg: fc.option(fc.integer({ min: 10_500, max: 25_500 }), { nil: undefined }),
    tareKg: fc.option(fc.integer({ min: 9_000, max: 12_000 }), { nil: undefined }),
    load: fc.option(loadArb, { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('void' as const), ticket: ticketArb }),
  fc.record({ kind: fc.constant('reject' as const), ...firstPassArb }),
);
export type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

/** An instant of the generated days as a weighbridge reports it: in Shanghai time or in UTC. */
export function timestamp(ms: number, utc: boolean): string {
  if (utc) return new Date(ms).toISOString();
  return `${new Date(ms + 8 * 60 * MINUTE_MS).toISOString().slice(0, 19)}+08:00`;
}

export function commandOf(world: World, op: Op, state: TicketState): WeighingCommand {
  const site = world.sites[op.ticket % 2]!;
  const other = world.sites[(op.ticket + 1) % 2]!;
  const ref = { siteId: site.siteId, ticketNo: `P${op.ticket}` };
  const later = NOW - 24 * 60 * MINUTE_MS;
  switch (op.kind) {
    case 'weighIn':
    case 'onePass':
    case 'reject': {
      const plate = world.plates[op.plate]!;
      const at = timestamp(EPOCH + op.minute * MINUTE_MS, op.utc);
      const origin =
        op.origin === 'transfer'
          ? { kind: 'transfer', fromSiteId: other.siteId, outboundTicketNo: 'X1' }
          : {
              kind: 'collection',
              districtId: op.origin === 'collection' ? world.districtId : world.otherDistrictId,
            };
      if (op.kind === 'reject') {
        return {
          type: 'RejectLoad',
          data: weighingCommandSchemas.RejectLoad.parse({
            ...ref,
            plate,
            load: op.load,
            reason: 'contaminated',
            rejectedAt: at,
            origin,
          }),
        };
      }
      const first = {
        ...ref,
        direction: op.direction,
        plate,
        load: op.load,
        grossKg: op.grossKg,
        weighedInAt: at,
        ...(op.direction === 'inbound' ? { origin } : { destination: { siteId: other.siteId } }),
      };
      return op.kind === 'weighIn'
        ? { type: 'RecordWeighIn', data: weighingCommandSchemas.RecordWeighIn.parse(first) }
        : {
            type: 'RecordOnePassWeighing',
            data: weighingCommandSchemas.RecordOnePassWeighing.parse({
              ...first,
              tareKg: op.tareKg,
              tareSource: 'stored',
            }),
          };
    }
    case 'weighOut': {
      const weighedInMs = state.status === 'open' ? Date.parse(state.weighIn.weighedInAt) : EPOCH;
      return {
        type: 'RecordWeighOut',
        data: weighingCommandSchemas.RecordWeighOut.parse({
          ...ref,
          tareKg: op.tareKg,
          weighedOutAt: timestamp(weighedInMs + op.delayMinutes * MINUTE_MS, false),
        }),
      };
    }
    case 'correct':
      return {
        type: 'CorrectTicket',
        data: weighingCommandSchemas.CorrectTicket.parse({
          ...ref,
          ...(op.grossKg === undefined ? {} : { grossKg: op.grossKg }),
          ...(op.tareKg === undefined ? {} : { tareKg: op.tareKg }),
          ...(op.load === undefined ? {} : { load: op.load }),
          reason: 'weighbridge recalibrated',
          approvedBy: 'Wang Lei',
          correctedAt: timestamp(later, false),
        }),
      };
    case 'void':
      return {
        type: 'VoidTicket',
        data: weighingCommandSchemas.VoidTicket.parse({
          ...ref,
          reason: 'printed twice',
          approvedBy: 'Wang Lei',
          voidedAt: timestamp(later, false),
        }),
      };
    default: {
      const unknown: never = op;
      return unknown;
    }
  }
}

// Tickets' lives: a first pass (one-pass, two-pass or a rejection), corrections, maybe a
// void; interleaved across tickets by a list of picks.

const lifeLoadArb: fc.Arbitrary<Load> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom<Load>(
      { kind: 'waste', category: 'residual' },
      { kind: 'waste', category: 'kitchen' },
      { kind: 'waste', category: 'recyclable' },
    ),
  },
  { weight: 1, arbitrary: loadArb },
);
const lifeFirstPassArb = { ...firstPassArb, load: lifeLoadArb };

/** One ticket's reports: a first pass (one-pass, two-pass or a rejection), corrections, a void. */
export const lifeArb = fc.record({
  first: fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('onePass' as const),
        ...lifeFirstPassArb,
        tareKg: fc.integer({ min: 9_500, max: 10_500 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('twoPass' as const),
        ...lifeFirstPassArb,
        tareKg: fc.integer({ min: 9_000, max: 12_000 }),
        delayMinutes: fc.integer({ min: 0, max: 180 }),
        weighedOut: fc.constantFrom(true, true, true, false),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('reject' as const), ...lifeFirstPassArb }),
    },
  ),
  corrections: fc.array(
    fc.record({
      grossKg: fc.option(fc.integer({ min: 12_000, max: 25_000 }), { nil: undefined }),
      tareKg: fc.option(fc.integer({ min: 9_000, max: 11_500 }), { nil: undefined }),
      load: fc.option(lifeLoadArb, { nil: undefined }),
    }),
    { maxLength: 3 },
  ),
  voided: fc.boolean(),
});
export type Life = typeof lifeArb extends fc.Arbitrary<infer T> ? T : never;

export function opsOfLife(life: Life, ticket: number): Op[] {
  const { first } = life;
  const ops: Op[] = [];
  if (first.kind === 'twoPass') {
    const { weighedOut, delayMinutes, tareKg, ...weighIn } = first;
    ops.push({ ...weighIn, kind: 'weighIn', ticket });
    if (weighedOut) ops.push({ kind: 'weighOut', ticket, tareKg, delayMinutes });
  } else {
    ops.push({ ...first, ticket });
  }
  ops.push(...life.corrections.map((c): Op => ({ kind: 'correct', ticket, ...c })));
  if (life.voided) ops.push({ kind: 'void', ticket });
  return ops;
}

/** Merges the lists, each in its own order, taking the next from the list `picks` points at. */
export function interleave<T>(lists: readonly (readonly T[])[], picks: readonly number[]): T[] {
  const queues = lists.map((l) => [...l]);
  const merged: T[] = [];
  for (let k = 0; ; k += 1) {
    const open = queues.filter((q) => q.length > 0);
    const queue = open[(picks[k] ?? k) % Math.max(open.length, 1)];
    const next = queue?.shift();
    if (next === undefined) return merged;
    merged.push(next);
  }
}
