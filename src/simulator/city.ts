import type { z } from 'zod';
import {
  legalGrossLimitKg,
  type districtSchema,
  type siteSchema,
  type TreatmentOperation,
  type vehicleSchema,
} from '../domain/master-data/master-data.js';
import { householdCategories, type Category, type Residue } from '../domain/shared/materials.js';
import { businessDay } from '../domain/shared/time.js';
import type { WeighingCommandType, weighingCommandSchemas } from '../domain/weighing/commands.js';

/**
 * A simulated day of a large Chinese city (modelled on Jinan): master data and the weighbridge
 * commands its transfer stations and treatment facilities would post, in posting order.
 *
 * Pure and seeded: the same `{ date, seed, scale }` gives the same day, byte for byte (event ids
 * included, so posting a day twice records nothing new). The city itself (districts, sites,
 * vehicles) depends only on `scale`, so consecutive days share their master data.
 *
 * @example
 * const day = generateCityDay({ date: '2025-03-03', seed: 1, scale: 0.02 });
 * day.items[0]; // { eventId: '…', type: 'RecordWeighIn', data: { siteId: 'ts-lixia-01', … } }
 */

// ---------------------------------------------------------------------------------------------
// Public shapes

export type DistrictBody = z.input<typeof districtSchema>;
export type SiteBody = z.input<typeof siteSchema>;
export type VehicleBody = z.input<typeof vehicleSchema>;
export type CommandData<T extends WeighingCommandType> = z.input<
  (typeof weighingCommandSchemas)[T]
>;

/** One weighbridge command as the batch endpoint takes it; `eventId` makes retries idempotent. */
export type SimulatedItem = {
  [T in WeighingCommandType]: {
    readonly eventId: string;
    readonly type: T;
    readonly data: CommandData<T>;
  };
}[WeighingCommandType];

export interface CityDayOptions {
  /** The business day to simulate, `YYYY-MM-DD` (Asia/Shanghai); it should be in the past. */
  readonly date: string;
  readonly seed: number;
  /** 1 is a large city (about 12 000 t of household waste a day); 0.01 is a test-sized day. */
  readonly scale?: number;
}

export interface CityDay {
  readonly date: string;
  readonly seed: number;
  readonly scale: number;
  readonly districts: readonly DistrictBody[];
  readonly sites: readonly SiteBody[];
  readonly vehicles: readonly VehicleBody[];
  /** In posting order: the day's tickets by time, then the previous day's late uploads. */
  readonly items: readonly SimulatedItem[];
}

type LoadInput = CommandData<'RecordWeighIn'>['load'];
type OriginInput = NonNullable<CommandData<'RecordWeighIn'>['origin']>;
type CollectionOrigin = Extract<OriginInput, { kind: 'collection' }>;
type RejectionReason = CommandData<'RejectLoad'>['reason'];

/** Offset of every generated timestamp: the city's local time. */
const OFFSET = '+08:00';
const TIME_ZONE = 'Asia/Shanghai';
/** The fixed seed of the city's master data (the year of the Jinan plan). */
const CITY_SEED = 2022;
/** Sites are permitted, and stored tares measured, from this day on. */
const VALID_FROM = '2020-01-01';
export const MAX_SCALE = 10;

// ---------------------------------------------------------------------------------------------
// Seeded randomness (mulberry32)

function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** A whole number in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return at(xs, Math.floor(this.float() * xs.length));
  }

  weighted<T>(xs: readonly T[], weight: (x: T) => number): T {
    const total = xs.reduce((sum, x) => sum + weight(x), 0);
    let u = this.float() * total;
    for (const x of xs) {
      u -= weight(x);
      if (u < 0) return x;
    }
    return at(xs, xs.length - 1);
  }

  normal(mean: number, sd: number): number {
    const u = 1 - this.float();
    const v = this.float();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A UUID with the version-4 layout, from this generator (never from the platform). */
  uuid(): string {
    const hex = Array.from({ length: 4 }, () =>
      Math.floor(this.float() * 4_294_967_296)
        .toString(16)
        .padStart(8, '0'),
    ).join('');
    const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}

function at<T>(xs: readonly T[], i: number): T {
  const x = xs[i];
  if (x === undefined) throw new Error(`index ${i} out of range 0..${xs.length - 1}`);
  return x;
}

// ---------------------------------------------------------------------------------------------
// Time: seconds since local midnight of the simulated day (negative: the day before)

const MIN = 60;
const hm = (h: number, m = 0): number => h * 3600 + m * MIN;
const LAST_SECOND = hm(23, 59) + 59;

/** The calendar date `days` after `date` (negative: before). */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function timestamp(date: string, seconds: number): string {
  const wall = new Date(Date.parse(`${date}T00:00:00Z`) + seconds * 1000).toISOString();
  return `${wall.slice(0, 19)}${OFFSET}`;
}

/** Weighbridges read in steps of 20 kg. */
const round20 = (kg: number): number => Math.round(kg / 20) * 20;

// ---------------------------------------------------------------------------------------------
// The city (master data), from CITY_SEED and scale only

const DISTRICTS = [
  { districtId: 'lixia', name: '历下区', weight: 0.14 },
  { districtId: 'shizhong', name: '市中区', weight: 0.13 },
  { districtId: 'huaiyin', name: '槐荫区', weight: 0.1 },
  { districtId: 'tianqiao', name: '天桥区', weight: 0.12 },
  { districtId: 'licheng', name: '历城区', weight: 0.22 },
  { districtId: 'changqing', name: '长清区', weight: 0.09 },
  { districtId: 'zhangqiu', name: '章丘区', weight: 0.2 },
] as const;
type DistrictId = (typeof DISTRICTS)[number]['districtId'];

/** Districts in proportion to their weights, interleaved so that every prefix is balanced. */
function districtSequence(n: number): DistrictId[] {
  const counts = DISTRICTS.map(() => 0);
  const out: DistrictId[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestGap = -Infinity;
    DISTRICTS.forEach((d, k) => {
      const gap = d.weight * (i + 1) - at(counts, k);
      if (gap > bestGap) {
        best = k;
        bestGap = gap;
      }
    });
    counts[best] = at(counts, best) + 1;
    out.push(at(DISTRICTS, best).districtId);
  }
  return out;
}

function districtName(id: string): string {
  return DISTRICTS.find((d) => d.districtId === id)?.name ?? id;
}

interface FacilitySpec {
  readonly siteId: string;
  readonly name: string;
  readonly districtId: DistrictId;
  readonly operation: TreatmentOperation;
  readonly categories: readonly Category[];
  readonly residues: readonly Residue[];
  readonly capacityT: number;
}

const FACILITIES: readonly FacilitySpec[] = [
  {
    siteId: 'inc-licheng',
    name: '济南市第二生活垃圾焚烧发电厂',
    districtId: 'licheng',
    operation: 'incineration_energy_recovery',
    categories: ['residual'],
    residues: ['sorting_residue', 'digestate_residue'],
    capacityT: 5_500,
  },
  {
    siteId: 'inc-zhangqiu',
    name: '章丘区生活垃圾焚烧发电厂',
    districtId: 'zhangqiu',
    operation: 'incineration_energy_recovery',
    categories: ['residual'],
    residues: ['sorting_residue', 'digestate_residue'],
    capacityT: 3_000,
  },
  {
    siteId: 'ad-changqing-mashan',
    name: '长清区马山餐厨垃圾处理厂',
    districtId: 'changqing',
    operation: 'anaerobic_digestion',
    categories: ['kitchen'],
    residues: [],
    capacityT: 600,
  },
  {
    siteId: 'ad-tianqiao',
    name: '济南市餐厨废弃物资源化处理厂',
    districtId: 'tianqiao',
    operation: 'anaerobic_digestion',
    categories: ['kitchen'],
    residues: [],
    capacityT: 1_000,
  },
  {
    siteId: 'mrf-huaiyin',
    name: '槐荫区再生资源分拣中心',
    districtId: 'huaiyin',
    operation: 'material_recovery',
    categories: ['recyclable'],
    residues: [],
    capacityT: 1_800,
  },
  {
    siteId: 'mrf-licheng',
    name: '历城区再生资源分拣中心',
    districtId: 'licheng',
    operation: 'material_recovery',
    categories: ['recyclable'],
    residues: [],
    capacityT: 1_500,
  },
  {
    siteId: 'haz-licheng',
    name: '济南市危险废物集中处置中心',
    districtId: 'licheng',
    operation: 'hazardous_treatment',
    categories: ['hazardous'],
    residues: [],
    capacityT: 100,
  },
  {
    siteId: 'landfill-licheng',
    name: '济南市第二生活垃圾卫生填埋场',
    districtId: 'licheng',
    operation: 'sanitary_landfill',
    categories: ['residual'],
    residues: ['bottom_ash', 'fly_ash'],
    capacityT: 2_000,
  },
  {
    siteId: 'cwr-licheng',
    name: '历城区建筑垃圾资源化利用中心',
    districtId: 'licheng',
    operation: 'construction_recycling',
    categories: ['construction'],
    residues: [],
    capacityT: 30_000,
  },
  {
    siteId: 'cwr-zhangqiu',
    name: '章丘区建筑垃圾资源化利用厂',
    districtId: 'zhangqiu',
    operation: 'construction_recycling',
    categories: ['construction'],
    residues: [],
    capacityT: 20_000,
  },
  {
    siteId: 'cwd-changqing',
    name: '长清区建筑垃圾消纳场',
    districtId: 'changqing',
    operation: 'construction_disposal',
    categories: ['construction'],
    residues: [],
    capacityT: 40_000,
  },
];

type VehicleKind =
  | 'compactor'
  | 'small_compactor'
  | 'kitchen_tanker'
  | 'recyclable_truck'
  | 'hazardous_van'
  | 'container_truck'
  | 'residue_truck'
  | 'dump_truck';

interface FleetSpec {
  readonly kind: VehicleKind;
  /** Plate letter after 鲁A, so a plate tells its fleet. */
  readonly letter: string;
  /** Vehicles at scale 1, and the least at any scale. */
  readonly fleet: number;
  readonly min: number;
  readonly variants: readonly {
    readonly axles: number;
    readonly tareKg: readonly [number, number];
    readonly share: number;
  }[];
  readonly payloadKg: readonly [number, number];
  readonly category?: Category;
  readonly operator: (home: DistrictId, i: number) => string;
}

const CONSTRUCTION_HAULIERS = [
  '济南恒通渣土运输有限公司',
  '济南鲁建土方工程有限公司',
  '济南泉城建筑垃圾清运有限公司',
  '章丘明水运输有限公司',
];

const FLEET: readonly FleetSpec[] = [
  {
    kind: 'compactor',
    letter: 'H',
    fleet: 260,
    min: 2,
    variants: [{ axles: 2, tareKg: [9_000, 11_000], share: 1 }],
    payloadKg: [3_000, 8_000],
    category: 'residual',
    operator: (home) => `${districtName(home)}环卫服务中心`,
  },
  {
    kind: 'small_compactor',
    letter: 'J',
    fleet: 280,
    min: 2,
    variants: [{ axles: 2, tareKg: [4_200, 5_200], share: 1 }],
    payloadKg: [1_500, 3_200],
    category: 'residual',
    operator: (home) => `${districtName(home)}环卫服务中心`,
  },
  {
    kind: 'kitchen_tanker',
    letter: 'C',
    fleet: 70,
    min: 2,
    variants: [{ axles: 2, tareKg: [8_500, 10_000], share: 1 }],
    payloadKg: [3_000, 8_000],
    category: 'kitchen',
    operator: () => '济南餐厨废弃物收运有限公司',
  },
  {
    kind: 'recyclable_truck',
    letter: 'K',
    fleet: 260,
    min: 2,
    variants: [{ axles: 2, tareKg: [5_500, 6_500], share: 1 }],
    payloadKg: [1_000, 3_500],
    category: 'recyclable',
    operator: (home) => `${districtName(home)}再生资源回收有限公司`,
  },
  {
    kind: 'hazardous_van',
    letter: 'W',
    fleet: 4,
    min: 1,
    variants: [{ axles: 2, tareKg: [3_300, 3_900], share: 1 }],
    payloadKg: [200, 900],
    category: 'hazardous',
    operator: () => '济南市危险废物收运中心',
  },
  {
    kind: 'container_truck',
    letter: 'Z',
    fleet: 130,
    min: 2,
    variants: [
      { axles: 3, tareKg: [10_500, 11_500], share: 0.4 },
      { axles: 4, tareKg: [12_000, 13_000], share: 0.6 },
    ],
    payloadKg: [8_000, 18_000],
    operator: () => '济南城市环境集团转运分公司',
  },
  {
    kind: 'residue_truck',
    letter: 'S',
    fleet: 40,
    min: 2,
    variants: [{ axles: 3, tareKg: [11_000, 12_000], share: 1 }],
    payloadKg: [9_000, 13_000],
    operator: () => '济南城市环境集团物流分公司',
  },
  {
    kind: 'dump_truck',
    letter: 'T',
    fleet: 720,
    min: 2,
    variants: [{ axles: 4, tareKg: [12_000, 13_000], share: 1 }],
    payloadKg: [15_000, 18_000],
    category: 'construction',
    operator: (_home, i) => at(CONSTRUCTION_HAULIERS, i % CONSTRUCTION_HAULIERS.length),
  },
];

interface VehicleModel {
  readonly body: VehicleBody;
  readonly plate: string;
  readonly kind: VehicleKind;
  readonly axles: number;
  readonly storedTareKg: number;
  /** What the empty vehicle really weighs today; a few drift away from the stored tare. */
  readonly trueTareKg: number;
  readonly home: DistrictId;
  /** The most it may carry and stay under its legal gross limit. */
  readonly maxPayloadKg: number;
  readonly payloadKg: readonly [number, number];
}

interface SiteModel {
  readonly body: SiteBody;
  readonly id: string;
  readonly kind: 'transfer_station' | 'treatment_facility';
  readonly operation: TreatmentOperation | undefined;
  readonly districtId: DistrictId;
  readonly capacityKg: number;
  readonly categories: readonly Category[];
}

interface City {
  readonly districts: readonly DistrictBody[];
  readonly stations: readonly SiteModel[];
  readonly facilities: readonly SiteModel[];
  readonly vehicles: readonly VehicleModel[];
}

function buildCity(scale: number): City {
  const districts = DISTRICTS.map(({ districtId, name }) => ({
    districtId,
    name,
    jurisdiction: 'jinan',
  }));

  const stationCount = Math.max(2, Math.round(40 * scale));
  const perDistrict = new Map<DistrictId, number>();
  const stations = districtSequence(stationCount).map((districtId, i): SiteModel => {
    const rng = new Rng(hash32(`${CITY_SEED}|station|${i}`));
    const k = (perDistrict.get(districtId) ?? 0) + 1;
    perDistrict.set(districtId, k);
    const size = rng.float();
    const capacityT =
      size < 0.3 ? rng.int(80, 150) : size < 0.8 ? rng.int(150, 450) : rng.int(450, 800);
    const categories: Category[] = i % 3 === 0 ? ['residual', 'kitchen'] : ['residual'];
    const id = `ts-${districtId}-${String(k).padStart(2, '0')}`;
    const body: SiteBody = {
      siteId: id,
      name: `${districtName(districtId)}第${k}垃圾转运站`,
      kind: 'transfer_station',
      districtId,
      accepts: { categories, residues: [] },
      capacityKgPerDay: capacityT * 1000,
      validFrom: VALID_FROM,
    };
    return {
      body,
      id,
      kind: 'transfer_station',
      operation: undefined,
      districtId,
      capacityKg: capacityT * 1000,
      categories,
    };
  });

  const facilities = FACILITIES.map((f, i): SiteModel => {
    const body: SiteBody = {
      siteId: f.siteId,
      name: f.name,
      kind: 'treatment_facility',
      operation: f.operation,
      districtId: f.districtId,
      accepts: { categories: [...f.categories], residues: [...f.residues] },
      capacityKgPerDay: f.capacityT * 1000,
      permitNumber: `济城管许〔2020〕${String(101 + i)}号`,
      validFrom: VALID_FROM,
    };
    return {
      body,
      id: f.siteId,
      kind: 'treatment_facility',
      operation: f.operation,
      districtId: f.districtId,
      capacityKg: f.capacityT * 1000,
      categories: f.categories,
    };
  });

  const vehicles: VehicleModel[] = [];
  for (const spec of FLEET) {
    const count = Math.max(spec.min, Math.ceil(spec.fleet * scale));
    const homes = districtSequence(count);
    for (let i = 0; i < count; i++) {
      const rng = new Rng(hash32(`${CITY_SEED}|vehicle|${spec.kind}|${i}`));
      const variant = rng.weighted(spec.variants, (v) => v.share);
      const storedTareKg = round20(rng.int(variant.tareKg[0], variant.tareKg[1]));
      const trueTareKg = rng.chance(0.015)
        ? storedTareKg + round20(storedTareKg * rng.between(0.03, 0.06))
        : storedTareKg + Math.max(-150, Math.min(150, Math.round(rng.normal(0, 60))));
      const plate = `鲁A${spec.letter}${String((i * 7919 + 1234) % 10_000).padStart(4, '0')}`;
      const home = at(homes, i);
      const measuredOn = addDays(VALID_FROM, rng.int(0, 360));
      const body: VehicleBody = {
        plate,
        axles: variant.axles,
        storedTareKg,
        tareMeasuredOn: measuredOn,
        ...(spec.category === undefined ? {} : { dedicatedCategory: spec.category }),
        operator: spec.operator(home, i),
      };
      vehicles.push({
        body,
        plate,
        kind: spec.kind,
        axles: variant.axles,
        storedTareKg,
        trueTareKg,
        home,
        maxPayloadKg: legalGrossLimitKg(variant.axles) - trueTareKg - 200,
        payloadKg: spec.payloadKg,
      });
    }
  }
  return { districts, stations, facilities, vehicles };
}

// ---------------------------------------------------------------------------------------------
// The day's plan: tickets before they become commands

interface TicketRef {
  readonly siteId: string;
  /** Tickets of the previous day uploaded late carry the backup terminal's numbers. */
  readonly late: boolean;
  /** Assigned in posting order, so numbers run gap-free per site. */
  no: string;
}

type PlanOrigin = CollectionOrigin | { readonly kind: 'transfer'; readonly from: TicketRef };

interface Correction {
  readonly at: number;
  readonly grossKg?: number;
  readonly load?: LoadInput;
  readonly origin?: CollectionOrigin;
  readonly reason: string;
  readonly approvedBy: string;
}

interface Plan {
  readonly ticket: TicketRef;
  readonly site: SiteModel;
  readonly vehicle: VehicleModel;
  readonly direction: 'inbound' | 'outbound';
  /** As recorded at the first weighing (a correction may change it later). */
  load: LoadInput;
  origin: PlanOrigin | undefined;
  readonly destination: string | undefined;
  grossKg: number;
  readonly tareKg: number;
  readonly tareSource: 'measured' | 'stored' | 'preset';
  readonly inAt: number;
  /** Weigh-out (two-pass); equal to `inAt` for one pass. */
  readonly outAt: number;
  /** A load collected from points or construction sites (may receive a correction or void). */
  readonly collected: boolean;
  rejection?: { readonly reason: RejectionReason; readonly note: string };
  correction?: Correction;
  voided?: {
    readonly at: number;
    readonly reason: string;
    readonly approvedBy: string;
    /** Voided before its weigh-out: the weigh-out is never posted. */
    readonly open: boolean;
  };
}

const APPROVERS = ['王建国（站长）', '李秀英（计量主管）', '张伟（运营经理）', '刘洋（站长）'];

const SUBTYPES: Partial<Record<Category, readonly (readonly [string, number])[]>> = {
  kitchen: [
    ['household', 0.7],
    ['restaurant', 0.25],
    ['other', 0.05],
  ],
  recyclable: [
    ['paper', 0.4],
    ['plastic', 0.25],
    ['metal', 0.1],
    ['glass', 0.15],
    ['textile', 0.1],
  ],
  hazardous: [
    ['batteries', 0.4],
    ['lamps', 0.3],
    ['household_chemicals', 0.3],
  ],
};

/** Construction subtypes: share of loads, and the share of them taken to recycling (R5). */
const CONSTRUCTION_SUBTYPES: readonly (readonly [string, number, number])[] = [
  ['excavated_soil', 0.45, 0.2],
  ['engineering_mud', 0.05, 0],
  ['construction', 0.2, 0.85],
  ['demolition', 0.2, 0.9],
  ['decoration', 0.1, 0.7],
];

/** Tonnes a day at scale 1, per collection fleet. */
const COLLECTION_TARGETS_KG: readonly (readonly [VehicleKind, number])[] = [
  ['compactor', 0.6 * 7_900_000],
  ['small_compactor', 0.4 * 7_900_000],
  ['kitchen_tanker', 1_300_000],
  ['recyclable_truck', 2_800_000],
  ['hazardous_van', 3_000],
  ['dump_truck', 60_000_000],
];

interface Shift {
  readonly start: readonly [number, number];
  /** Minutes from one weigh-out to the next weigh-in (collecting, travelling). */
  readonly cycleMin: readonly [number, number];
  readonly unloadMin: readonly [number, number];
  /** When the vehicle may be on the road: [from, to] seconds of the day. */
  readonly windows: readonly (readonly [number, number])[];
}

const SHIFTS: Partial<Record<VehicleKind, Shift>> = {
  compactor: {
    start: [hm(4, 30), hm(6, 30)],
    cycleMin: [70, 130],
    unloadMin: [6, 18],
    windows: [[hm(4, 30), hm(21)]],
  },
  small_compactor: {
    start: [hm(4, 30), hm(6, 30)],
    cycleMin: [45, 95],
    unloadMin: [5, 12],
    windows: [[hm(4, 30), hm(21)]],
  },
  kitchen_tanker: {
    start: [hm(6), hm(8)],
    cycleMin: [70, 130],
    unloadMin: [8, 20],
    windows: [[hm(6), hm(22, 30)]],
  },
  recyclable_truck: {
    start: [hm(7), hm(8, 30)],
    cycleMin: [50, 100],
    unloadMin: [6, 15],
    windows: [[hm(7), hm(19, 30)]],
  },
  hazardous_van: {
    start: [hm(8, 30), hm(9, 30)],
    cycleMin: [120, 240],
    unloadMin: [10, 25],
    windows: [[hm(8, 30), hm(17, 30)]],
  },
  // Construction waste moves at night (渣土车夜间运输).
  dump_truck: {
    start: [hm(0, 10), hm(1, 30)],
    cycleMin: [45, 90],
    unloadMin: [4, 10],
    windows: [
      [hm(0, 10), hm(5, 30)],
      [hm(18, 30), hm(23, 40)],
    ],
  },
};

interface TruckState {
  readonly truck: VehicleModel;
  /** When the truck is back and free for its next haul. */
  free: number;
}

interface Haul {
  readonly truck: VehicleModel;
  readonly kg: number;
  readonly departAt: number;
  readonly arriveAt: number;
  readonly unloadedAt: number;
}

class Planner {
  readonly plans: Plan[] = [];
  private readonly pools = new Map<VehicleKind, TruckState[]>();
  private readonly stationsByDistrict = new Map<DistrictId, SiteModel[]>();

  constructor(
    private readonly rng: Rng,
    private readonly city: City,
    private readonly scale: number,
  ) {
    for (const s of city.stations) {
      this.stationsByDistrict.set(s.districtId, [
        ...(this.stationsByDistrict.get(s.districtId) ?? []),
        s,
      ]);
    }
  }

  private fleet(kind: VehicleKind): VehicleModel[] {
    return this.city.vehicles.filter((v) => v.kind === kind);
  }

  private facilities(op: TreatmentOperation): SiteModel[] {
    return this.city.facilities.filter((f) => f.operation === op);
  }

  private byCapacity(sites: readonly SiteModel[]): SiteModel {
    return this.rng.weighted(sites, (s) => s.capacityKg);
  }

  private station(home: DistrictId, category: Category): SiteModel | undefined {
    const accepting = (xs: readonly SiteModel[]) =>
      xs.filter((s) => s.categories.includes(category));
    const local = accepting(this.stationsByDistrict.get(home) ?? []);
    const any = local.length > 0 ? local : accepting(this.city.stations);
    return any.length > 0 ? this.byCapacity(any) : undefined;
  }

  private subtype(category: Category): string | undefined {
    const options = SUBTYPES[category];
    return options === undefined ? undefined : this.rng.weighted(options, ([, w]) => w)[0];
  }

  private waste(category: Category, subtype: string | undefined): LoadInput {
    return subtype === undefined
      ? { kind: 'waste', category }
      : { kind: 'waste', category, subtype };
  }

  /** A weighing of a vehicle carrying `payloadKg`; mostly two-pass, some one-pass. */
  private weigh(
    vehicle: VehicleModel,
    payloadKg: number,
    onePassShare: number,
  ): Pick<Plan, 'grossKg' | 'tareKg' | 'tareSource'> {
    const limit = legalGrossLimitKg(vehicle.axles);
    const noise = () => Math.max(-60, Math.min(60, Math.round(this.rng.normal(0, 30))));
    const grossKg = Math.min(limit, round20(vehicle.trueTareKg + payloadKg + noise()));
    const u = this.rng.float();
    if (u < onePassShare * 0.9 && vehicle.storedTareKg < grossKg) {
      return { grossKg, tareKg: vehicle.storedTareKg, tareSource: 'stored' };
    }
    const preset = Math.round(vehicle.storedTareKg / 100) * 100;
    if (u < onePassShare && preset < grossKg) {
      return { grossKg, tareKg: preset, tareSource: 'preset' };
    }
    return {
      grossKg,
      tareKg: Math.min(grossKg - 20, round20(vehicle.trueTareKg + noise())),
      tareSource: 'measured',
    };
  }

  private payload(vehicle: VehicleModel): number {
    const [lo, hi] = vehicle.payloadKg;
    return Math.min(vehicle.maxPayloadKg, this.rng.int(lo, hi));
  }

  private add(plan: Plan): Plan {
    this.plans.push(plan);
    return plan;
  }

  // --- 1. Collection trips: each vehicle drives its shift, round by round, until the target.

  collect(): void {
    for (const [kind, targetAtScale1] of COLLECTION_TARGETS_KG) {
      const shift = SHIFTS[kind];
      if (shift === undefined) continue;
      const target = targetAtScale1 * this.scale;
      const states = this.fleet(kind).map((vehicle) => ({
        vehicle,
        clock: this.rng.int(shift.start[0], shift.start[1]),
        done: false,
        route: this.route(vehicle),
      }));
      let total = 0;
      let progressed = true;
      while (total < target && progressed) {
        progressed = false;
        for (const state of states) {
          if (total >= target) break;
          if (state.done) continue;
          const cycle = this.rng.int(shift.cycleMin[0], shift.cycleMin[1]) * MIN;
          const unload = this.rng.int(shift.unloadMin[0], shift.unloadMin[1]) * MIN;
          let inAt = state.clock + cycle;
          const window = shift.windows.find(([, to]) => inAt + unload <= to);
          if (window === undefined) {
            state.done = true;
            continue;
          }
          if (inAt < window[0]) inAt = window[0] + this.rng.int(5, 40) * MIN;
          const outAt = inAt + unload;
          if (outAt > window[1]) {
            state.done = true;
            continue;
          }
          state.clock = outAt;
          const { site, load, origin } = state.route();
          const weighing = this.weigh(state.vehicle, this.payload(state.vehicle), 0.1);
          const plan = this.add({
            ticket: { siteId: site.id, late: false, no: '' },
            site,
            vehicle: state.vehicle,
            direction: 'inbound',
            load,
            origin,
            destination: undefined,
            ...weighing,
            inAt,
            outAt: weighing.tareSource === 'measured' ? outAt : inAt,
            collected: true,
          });
          total += plan.grossKg - plan.tareKg;
          progressed = true;
        }
      }
    }
  }

  /** Where a vehicle takes its loads today, and what it carries. */
  private route(
    vehicle: VehicleModel,
  ): () => { site: SiteModel; load: LoadInput; origin: CollectionOrigin } {
    const rng = this.rng;
    const point = () => `cp-${vehicle.home}-${String(rng.int(1, 800)).padStart(4, '0')}`;
    const origin = (collectionPointId: string): CollectionOrigin => ({
      kind: 'collection',
      districtId: vehicle.home,
      collectionPointId,
    });
    const fixed = (category: Category, sites: () => SiteModel) => () => ({
      site: sites(),
      load: this.waste(category, this.subtype(category)),
      origin: origin(point()),
    });
    switch (vehicle.kind) {
      case 'compactor':
      case 'small_compactor': {
        const u = rng.float();
        const station = this.station(vehicle.home, 'residual');
        const target =
          u < 0.85 && station !== undefined
            ? station
            : u < 0.995
              ? this.byCapacity(this.facilities('incineration_energy_recovery'))
              : at(this.facilities('sanitary_landfill'), 0);
        return fixed('residual', () => target);
      }
      case 'kitchen_tanker': {
        const station = rng.chance(0.4) ? this.station(vehicle.home, 'kitchen') : undefined;
        const target = station ?? this.byCapacity(this.facilities('anaerobic_digestion'));
        return fixed('kitchen', () => target);
      }
      case 'recyclable_truck': {
        const target = this.byCapacity(this.facilities('material_recovery'));
        return fixed('recyclable', () => target);
      }
      case 'hazardous_van':
        return fixed('hazardous', () => at(this.facilities('hazardous_treatment'), 0));
      case 'dump_truck': {
        // A truck serves one construction site all night (产 → 运 → 消).
        const constructionSite = `cs-${vehicle.home}-${String(rng.int(1, 300)).padStart(3, '0')}`;
        const recycling = this.facilities('construction_recycling');
        const disposal = this.facilities('construction_disposal');
        return () => {
          const [subtype, , recycledShare] = rng.weighted(CONSTRUCTION_SUBTYPES, ([, w]) => w);
          const site = rng.chance(recycledShare) ? this.byCapacity(recycling) : rng.pick(disposal);
          return {
            site,
            load: this.waste('construction', subtype),
            origin: origin(constructionSite),
          };
        };
      }
      case 'container_truck':
      case 'residue_truck':
        throw new Error(`${vehicle.kind} does not collect`);
      default: {
        const unknown: never = vehicle.kind;
        return unknown;
      }
    }
  }

  // --- 2. Exceptions: rejections, corrections, voids (on collected loads only).

  exceptions(): void {
    const taken = new Set<Plan>();
    const candidates = (ok: (p: Plan) => boolean) =>
      this.plans.filter((p) => p.collected && !taken.has(p) && ok(p));
    const choose = (ok: (p: Plan) => boolean): Plan | undefined => {
      const xs = candidates(ok);
      if (xs.length === 0) return undefined;
      const p = this.rng.pick(xs);
      taken.add(p);
      return p;
    };
    const count = (atScale1: number) => Math.max(1, Math.round(atScale1 * this.scale));
    const isCategory = (p: Plan, c: Category) => p.load.kind === 'waste' && p.load.category === c;

    const rejections: readonly RejectionReason[] = [
      'mixed_load',
      'over_legal_limit',
      'contaminated',
      'mixed_load',
      'over_legal_limit',
    ];
    for (let i = 0; i < count(8); i++) {
      const reason = at(rejections, i % rejections.length);
      if (reason === 'over_legal_limit') {
        const p = choose((q) => isCategory(q, 'construction'));
        if (p === undefined) continue;
        const limit = legalGrossLimitKg(p.vehicle.axles);
        const gross = limit + round20(this.rng.int(800, 4_000));
        p.rejection = {
          reason,
          note: `毛重 ${gross} kg，超过 ${p.vehicle.axles} 轴车辆限值 ${limit} kg（超载）`,
        };
      } else if (reason === 'contaminated') {
        const p = choose((q) => isCategory(q, 'recyclable'));
        if (p !== undefined) p.rejection = { reason, note: '可回收物受油污污染，无法分拣' };
      } else {
        const p = choose(
          (q) =>
            (isCategory(q, 'kitchen') && q.site.operation === 'anaerobic_digestion') ||
            (isCategory(q, 'residual') && q.site.kind === 'transfer_station'),
        );
        if (p !== undefined) {
          p.rejection = {
            reason,
            note: isCategory(p, 'kitchen')
              ? '厨余垃圾中混入大量其他垃圾（混装混运）'
              : '其他垃圾中混入建筑垃圾（混装混运）',
          };
        }
      }
    }

    const correctionKinds = ['gross', 'category', 'district'] as const;
    for (let i = 0; i < count(10); i++) {
      const kind = at(correctionKinds, i % correctionKinds.length);
      const when = (p: Plan) => Math.min(LAST_SECOND - 60, p.outAt + this.rng.int(30, 240) * MIN);
      const approvedBy = this.rng.pick(APPROVERS);
      const recategorise =
        kind === 'category'
          ? choose(
              (q) =>
                q.vehicle.kind === 'kitchen_tanker' &&
                q.site.categories.includes('residual') &&
                q.site.categories.includes('kitchen'),
            )
          : undefined;
      if (recategorise !== undefined) {
        // The operator picked 其他垃圾 for a kitchen-waste tanker.
        const trueLoad = recategorise.load;
        recategorise.load = { kind: 'waste', category: 'residual' };
        recategorise.correction = {
          at: when(recategorise),
          load: trueLoad,
          reason: '品类录入错误：餐厨车辆所载为厨余垃圾，误录为其他垃圾',
          approvedBy,
        };
        continue;
      }
      if (kind === 'district') {
        const p = choose((q) => q.origin?.kind === 'collection');
        if (p === undefined || p.origin?.kind !== 'collection') continue;
        const trueOrigin = p.origin;
        const wrong = this.rng.pick(
          DISTRICTS.filter((d) => d.districtId !== trueOrigin.districtId),
        );
        p.origin = { ...trueOrigin, districtId: wrong.districtId };
        p.correction = {
          at: when(p),
          origin: trueOrigin,
          reason: `收运来源区县录入错误：应为${districtName(trueOrigin.districtId)}`,
          approvedBy,
        };
        continue;
      }
      // A gross keyed in by hand (the weighbridge link was down), corrected from the printout.
      const limit = (q: Plan) => legalGrossLimitKg(q.vehicle.axles);
      const p = choose((q) => q.grossKg - q.tareKg > 1_200 || limit(q) - q.grossKg > 1_200);
      if (p === undefined) continue;
      const trueGross = p.grossKg;
      const delta = this.rng.pick([1_000, 900, 100, 200, 1_100]);
      p.grossKg = trueGross + delta <= limit(p) ? trueGross + delta : trueGross - delta;
      if (p.grossKg <= p.tareKg) p.grossKg = trueGross;
      p.correction = {
        at: when(p),
        grossKg: trueGross,
        reason: `毛重手工录入错误，按磅单更正为 ${trueGross} kg`,
        approvedBy,
      };
    }

    for (let i = 0; i < count(6); i++) {
      const approvedBy = this.rng.pick(APPROVERS);
      if (i % 2 === 0) {
        // The same load weighed twice: the second ticket is voided.
        const p = choose((q) => q.tareSource === 'measured' && q.outAt < hm(23));
        if (p === undefined) continue;
        const inAt = p.outAt + 60;
        const outAt = inAt + this.rng.int(150, 240);
        const duplicate = this.add({
          ...p,
          ticket: { siteId: p.site.id, late: false, no: '' },
          collected: false,
          grossKg: p.grossKg + 20 * this.rng.int(-2, 2),
          inAt,
          outAt,
        });
        duplicate.voided = {
          at: outAt + this.rng.int(20, 60) * MIN,
          reason: '同一车次重复称重，作废重复磅单',
          approvedBy,
          open: false,
        };
      } else {
        // A weighbridge fault after the weigh-in: voided while open, weighed again.
        const p = choose((q) => q.tareSource === 'measured' && q.outAt - q.inAt >= 12 * MIN);
        if (p === undefined) continue;
        const again = this.add({
          ...p,
          ticket: { siteId: p.site.id, late: false, no: '' },
          inAt: p.inAt + 6 * MIN,
        });
        taken.add(again);
        p.voided = {
          at: p.inAt + 3 * MIN,
          reason: '称重仪表故障，作废后重新过磅',
          approvedBy,
          open: true,
        };
      }
    }
  }

  // --- 3. Transfer: stations fill containers and send them on to treatment.

  transfer(): void {
    interface Request {
      readonly station: SiteModel;
      readonly category: Category;
      readonly kg: number;
      readonly readyAt: number;
    }
    const stock = new Map<string, { kg: number; threshold: number }>();
    const container = () => round20(this.rng.int(8_000, 18_000));
    const requests: Request[] = [];
    const arrivals = this.plans
      .filter((p) => p.site.kind === 'transfer_station' && counts(p))
      .sort((a, b) => a.outAt - b.outAt);
    for (const p of arrivals) {
      const load = effectiveLoad(p);
      if (load.kind !== 'waste') continue;
      const key = `${p.site.id}|${load.category}`;
      const s = stock.get(key) ?? { kg: this.rng.int(0, 10_000), threshold: container() };
      s.kg += effectiveNet(p);
      while (s.kg >= s.threshold) {
        requests.push({
          station: p.site,
          category: load.category,
          kg: s.threshold,
          readyAt: p.outAt + this.rng.int(15, 45) * MIN,
        });
        s.kg -= s.threshold;
        s.threshold = container();
      }
      stock.set(key, s);
    }
    const hauls = this.schedule(
      requests.sort((a, b) => a.readyAt - b.readyAt),
      'container_truck',
      [hm(5), hm(6)],
      hm(22),
    );
    const shortCount = hauls.length === 0 ? 0 : this.scale >= 0.5 ? 2 : 1;
    const short = new Set<number>();
    while (short.size < Math.min(shortCount, hauls.length)) {
      short.add(this.rng.int(0, hauls.length - 1));
    }
    hauls.forEach((haul, i) => {
      const { station, category } = haul.request;
      const destination =
        category === 'kitchen'
          ? this.byCapacity(this.facilities('anaerobic_digestion'))
          : this.byCapacity(this.facilities('incineration_energy_recovery'));
      const factor = short.has(i) ? this.rng.between(0.78, 0.86) : this.rng.between(0.975, 0.998);
      this.haul(haul, station, destination, { kind: 'waste', category }, factor);
    });
  }

  // --- 4. Residues: what treatment leaves behind moves on again.

  residues(): void {
    const intake = (site: SiteModel) =>
      this.plans
        .filter((p) => p.site === site && p.direction === 'inbound' && counts(p))
        .reduce((sum, p) => sum + effectiveNet(p), 0);
    const incinerators = this.facilities('incineration_energy_recovery');
    const landfill = at(this.facilities('sanitary_landfill'), 0);
    const send = (from: SiteModel, residue: Residue, share: number, to: () => SiteModel) => {
      let remaining = Math.round(intake(from) * share);
      const requests: { kg: number; readyAt: number }[] = [];
      while (remaining >= 1_000) {
        const kg = Math.min(remaining, round20(this.rng.int(9_000, 13_000)));
        requests.push({ kg, readyAt: this.rng.int(hm(6, 30), hm(20)) });
        remaining -= kg;
      }
      const hauls = this.schedule(
        requests.sort((a, b) => a.readyAt - b.readyAt),
        'residue_truck',
        [hm(6), hm(6, 30)],
        hm(22),
      );
      for (const haul of hauls) {
        this.haul(haul, from, to(), { kind: 'residue', residue }, this.rng.between(0.985, 1));
      }
    };
    const toIncineration = () => this.byCapacity(incinerators);
    for (const f of this.facilities('material_recovery')) {
      send(f, 'sorting_residue', 0.1, toIncineration);
    }
    for (const f of this.facilities('anaerobic_digestion')) {
      send(f, 'digestate_residue', 0.12, toIncineration);
    }
    for (const f of incinerators) {
      send(f, 'bottom_ash', 0.2, () => landfill);
      send(f, 'fly_ash', 0.03, () => landfill);
    }
  }

  /** The day's timeline of each truck of a fleet, shared by every schedule that uses it. */
  private pool(kind: VehicleKind, start: readonly [number, number]): TruckState[] {
    let pool = this.pools.get(kind);
    if (pool === undefined) {
      pool = this.fleet(kind).map((truck) => ({
        truck,
        free: this.rng.int(start[0], start[1]),
      }));
      this.pools.set(kind, pool);
    }
    return pool;
  }

  /**
   * Trucks take requests in order of readiness, each the earliest truck that can carry it; a
   * request no truck can start by `cutoff` stays where it is (stock for tomorrow).
   */
  private schedule<R extends { readonly kg: number; readonly readyAt: number }>(
    requests: readonly R[],
    kind: VehicleKind,
    start: readonly [number, number],
    cutoff: number,
  ): (Haul & { readonly request: R })[] {
    const pool = this.pool(kind, start);
    const out: (Haul & { readonly request: R })[] = [];
    for (const request of requests) {
      let best: TruckState | undefined;
      let bestAt = Infinity;
      for (const s of pool) {
        const penalty = s.truck.maxPayloadKg >= request.kg ? 0 : 3_600;
        const t = Math.max(request.readyAt, s.free) + penalty;
        if (t < bestAt) {
          best = s;
          bestAt = t;
        }
      }
      if (best === undefined) break;
      const departAt = Math.max(request.readyAt, best.free);
      if (departAt > cutoff) continue;
      const arriveAt = departAt + this.rng.int(25, 70) * MIN;
      const unloadedAt = arriveAt + this.rng.int(8, 20) * MIN;
      best.free = unloadedAt + this.rng.int(25, 60) * MIN;
      out.push({
        request,
        truck: best.truck,
        kg: Math.min(request.kg, best.truck.maxPayloadKg),
        departAt,
        arriveAt,
        unloadedAt,
      });
    }
    return out;
  }

  /** One haul: a one-pass outbound ticket at the sender, an inbound ticket at the receiver. */
  private haul(
    haul: Haul,
    from: SiteModel,
    to: SiteModel,
    load: LoadInput,
    receivedFactor: number,
  ): void {
    const truck = haul.truck;
    const outbound = this.add({
      ticket: { siteId: from.id, late: false, no: '' },
      site: from,
      vehicle: truck,
      direction: 'outbound',
      load,
      origin: undefined,
      destination: to.id,
      grossKg: round20(truck.trueTareKg + haul.kg),
      tareKg: truck.storedTareKg,
      tareSource: 'stored',
      inAt: haul.departAt,
      outAt: haul.departAt,
      collected: false,
    });
    const { arriveAt, unloadedAt } = haul;
    const weighing = this.weigh(truck, Math.round(haul.kg * receivedFactor), 0.05);
    this.add({
      ticket: { siteId: to.id, late: false, no: '' },
      site: to,
      vehicle: truck,
      direction: 'inbound',
      load,
      origin: { kind: 'transfer', from: outbound.ticket },
      destination: undefined,
      ...weighing,
      inAt: arriveAt,
      outAt: weighing.tareSource === 'measured' ? unloadedAt : arriveAt,
      collected: false,
    });
  }

  // --- 5. Late uploads: a station's backup terminal was offline yesterday evening.

  lateUploads(): void {
    const station = this.rng.pick(this.city.stations);
    const compactors = [...this.fleet('compactor'), ...this.fleet('small_compactor')];
    const n = Math.min(compactors.length, Math.max(2, Math.round(20 * this.scale)));
    let clock = hm(-5);
    for (let i = 0; i < n; i++) {
      const vehicle = compactors.splice(this.rng.int(0, compactors.length - 1), 1)[0];
      if (vehicle === undefined) break;
      clock += this.rng.int(2, 8) * MIN;
      const weighing = this.weigh(vehicle, this.payload(vehicle), 0);
      this.add({
        ticket: { siteId: station.id, late: true, no: '' },
        site: station,
        vehicle,
        direction: 'inbound',
        load: { kind: 'waste', category: 'residual' },
        origin: {
          kind: 'collection',
          districtId: vehicle.home,
          collectionPointId: `cp-${vehicle.home}-${String(this.rng.int(1, 800)).padStart(4, '0')}`,
        },
        destination: undefined,
        ...weighing,
        inAt: clock,
        outAt: clock + this.rng.int(6, 15) * MIN,
        collected: false,
      });
    }
  }
}

function counts(p: Plan): boolean {
  return p.rejection === undefined && p.voided === undefined;
}

function effectiveLoad(p: Plan): LoadInput {
  return p.correction?.load ?? p.load;
}

function effectiveNet(p: Plan): number {
  return (p.correction?.grossKg ?? p.grossKg) - p.tareKg;
}

// ---------------------------------------------------------------------------------------------
// From plans to commands, in posting order

interface Draft {
  readonly at: number;
  readonly late: boolean;
  readonly order: number;
  /** The first command of a ticket: its number is assigned when the draft is posted. */
  readonly opens: TicketRef | undefined;
  readonly eventId: string;
  readonly build: (eventId: string) => SimulatedItem;
}

function emit(plans: readonly Plan[], date: string, rng: Rng): SimulatedItem[] {
  const drafts: Draft[] = [];
  const push = (
    plan: Plan,
    atSecond: number,
    opens: boolean,
    build: (eventId: string) => SimulatedItem,
  ) =>
    drafts.push({
      at: atSecond,
      late: plan.ticket.late,
      order: drafts.length,
      opens: opens ? plan.ticket : undefined,
      eventId: rng.uuid(),
      build,
    });
  const time = (s: number) => timestamp(date, s);
  const origin = (o: PlanOrigin | undefined): OriginInput | undefined =>
    o === undefined || o.kind === 'collection'
      ? o
      : { kind: 'transfer', fromSiteId: o.from.siteId, outboundTicketNo: o.from.no };

  for (const plan of plans) {
    const ref = () => ({ siteId: plan.site.id, ticketNo: plan.ticket.no });
    if (plan.rejection !== undefined) {
      const { reason, note } = plan.rejection;
      push(plan, plan.inAt, true, (eventId) => ({
        eventId,
        type: 'RejectLoad',
        data: {
          ...ref(),
          plate: plan.vehicle.plate,
          load: plan.load,
          reason,
          note,
          rejectedAt: time(plan.inAt),
          ...optional('origin', origin(plan.origin)),
        },
      }));
      continue;
    }
    const first = () => ({
      ...ref(),
      direction: plan.direction,
      plate: plan.vehicle.plate,
      load: plan.load,
      grossKg: plan.grossKg,
      weighedInAt: time(plan.inAt),
      ...optional('origin', origin(plan.origin)),
      ...optional(
        'destination',
        plan.destination === undefined ? undefined : { siteId: plan.destination },
      ),
      device: plan.ticket.late ? 'WB-2' : 'WB-1',
    });
    const tareSource = plan.tareSource;
    if (tareSource === 'measured') {
      push(plan, plan.inAt, true, (eventId) => ({
        eventId,
        type: 'RecordWeighIn',
        data: first(),
      }));
      if (plan.voided?.open !== true) {
        push(plan, plan.outAt, false, (eventId) => ({
          eventId,
          type: 'RecordWeighOut',
          data: { ...ref(), tareKg: plan.tareKg, weighedOutAt: time(plan.outAt) },
        }));
      }
    } else {
      push(plan, plan.inAt, true, (eventId) => ({
        eventId,
        type: 'RecordOnePassWeighing',
        data: { ...first(), tareKg: plan.tareKg, tareSource },
      }));
    }
    const correction = plan.correction;
    if (correction !== undefined) {
      push(plan, correction.at, false, (eventId) => ({
        eventId,
        type: 'CorrectTicket',
        data: {
          ...ref(),
          ...optional('grossKg', correction.grossKg),
          ...optional('load', correction.load),
          ...optional('origin', correction.origin),
          reason: correction.reason,
          approvedBy: correction.approvedBy,
          correctedAt: time(correction.at),
        },
      }));
    }
    const voided = plan.voided;
    if (voided !== undefined) {
      push(plan, voided.at, false, (eventId) => ({
        eventId,
        type: 'VoidTicket',
        data: {
          ...ref(),
          reason: voided.reason,
          approvedBy: voided.approvedBy,
          voidedAt: time(voided.at),
        },
      }));
    }
  }

  drafts.sort((a, b) => Number(a.late) - Number(b.late) || a.at - b.at || a.order - b.order);
  const compact = (d: string) => d.replaceAll('-', '');
  const sequences = new Map<string, number>();
  for (const draft of drafts) {
    const ticket = draft.opens;
    if (ticket === undefined) continue;
    const key = `${ticket.siteId}|${ticket.late}`;
    const n = (sequences.get(key) ?? 0) + 1;
    sequences.set(key, n);
    ticket.no = ticket.late
      ? `${compact(addDays(date, -1))}-B${String(n).padStart(4, '0')}`
      : `${compact(date)}-${String(n).padStart(5, '0')}`;
  }
  return drafts.map((d) => d.build(d.eventId));
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Generates one simulated city day (see the module comment). Throws on a bad date or scale. */
export function generateCityDay(options: CityDayOptions): CityDay {
  const { date, seed } = options;
  const scale = options.scale ?? 1;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || addDays(date, 0) !== date) {
    throw new RangeError(`date must be a real calendar date YYYY-MM-DD, got ${date}`);
  }
  if (date <= VALID_FROM) {
    throw new RangeError(`date must be after ${VALID_FROM}, when the simulated sites open`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!(scale > 0 && scale <= MAX_SCALE)) {
    throw new RangeError(`scale must be more than 0 and at most ${MAX_SCALE}, got ${scale}`);
  }

  const city = buildCity(scale);
  const rng = new Rng(hash32(`day|${seed}|${date}|${scale}`));
  const planner = new Planner(rng, city, scale);
  planner.collect();
  planner.exceptions();
  planner.transfer();
  planner.residues();
  planner.lateUploads();
  return {
    date,
    seed,
    scale,
    districts: city.districts,
    sites: [...city.stations, ...city.facilities].map((s) => s.body),
    vehicles: city.vehicles.map((v) => v.body),
    items: emit(planner.plans, date, rng),
  };
}

/**
 * Net kg per category collected on a business day, from the generated items alone: inbound
 * tickets whose origin is a collection, at transfer stations and treatment facilities, with
 * their latest correction; voided and rejected tickets count nowhere. Construction waste is
 * reported under its own category (it is not household waste).
 */
export function expectedTonnage(day: CityDay, onDay: string = day.date): Record<Category, number> {
  const kinds = new Map(day.sites.map((s) => [s.siteId, s.kind]));
  interface Ticket {
    inbound: boolean;
    day: string;
    load: LoadInput;
    origin: OriginInput | undefined;
    grossKg: number;
    tareKg: number | undefined;
    voided: boolean;
  }
  const tickets = new Map<string, Ticket>();
  const key = (d: { siteId: string; ticketNo: string }) => `${d.siteId}|${d.ticketNo}`;
  for (const item of day.items) {
    switch (item.type) {
      case 'RecordWeighIn':
      case 'RecordOnePassWeighing': {
        const d = item.data;
        tickets.set(key(d), {
          inbound: (d.direction ?? 'inbound') === 'inbound',
          day: businessDay(d.weighedInAt, TIME_ZONE),
          load: d.load,
          origin: d.origin,
          grossKg: d.grossKg,
          tareKg: item.type === 'RecordOnePassWeighing' ? item.data.tareKg : undefined,
          voided: false,
        });
        break;
      }
      case 'RecordWeighOut': {
        const t = tickets.get(key(item.data));
        if (t !== undefined) t.tareKg = item.data.tareKg;
        break;
      }
      case 'CorrectTicket': {
        const t = tickets.get(key(item.data));
        if (t === undefined) break;
        const d = item.data;
        t.grossKg = d.grossKg ?? t.grossKg;
        t.tareKg = d.tareKg ?? t.tareKg;
        t.load = d.load ?? t.load;
        t.origin = d.origin ?? t.origin;
        break;
      }
      case 'VoidTicket': {
        const t = tickets.get(key(item.data));
        if (t !== undefined) t.voided = true;
        break;
      }
      case 'RejectLoad':
        break;
      default: {
        const unknown: never = item;
        return unknown;
      }
    }
  }
  const totals: Record<Category, number> = {
    kitchen: 0,
    recyclable: 0,
    hazardous: 0,
    residual: 0,
    construction: 0,
  };
  for (const [k, t] of tickets) {
    const siteKind = kinds.get(k.slice(0, k.indexOf('|')));
    if (siteKind !== 'transfer_station' && siteKind !== 'treatment_facility') continue;
    if (!t.inbound || t.voided || t.tareKg === undefined || t.day !== onDay) continue;
    if (t.origin?.kind !== 'collection' || t.load.kind !== 'waste') continue;
    totals[t.load.category] += t.grossKg - t.tareKg;
  }
  return totals;
}

/** Household waste (the four GB/T 19095 categories) in a tonnage record, kg. */
export function householdKg(totals: Readonly<Record<Category, number>>): number {
  return householdCategories.reduce((sum, c) => sum + totals[c], 0);
}
