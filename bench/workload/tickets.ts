import type { EventToAppend, StreamAppend } from '../../src/store/port.js';

/** A small seeded PRNG (mulberry32): the same seed gives the same workload on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A version-4-shaped UUID from the PRNG (deterministic, unlike crypto.randomUUID). */
export function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const CATEGORIES = ['kitchen', 'recyclable', 'hazardous', 'residual', 'construction'] as const;
const DISTRICTS = ['lixia', 'shizhong', 'huaiyin', 'tianqiao', 'licheng', 'changqing', 'zhangqiu'];
export const TICKET_EVENT_TYPES = [
  'TicketOpened',
  'VehicleWeighedIn',
  'LoadInspected',
  'VehicleWeighedOut',
  'TicketClosed',
] as const;

/**
 * One weigh ticket as five events of about 350 bytes of JSON each, shaped like what a transfer
 * station posts (site, ticket, plate, category, origin, weights in integer kg, times with offset).
 * Every event carries the category and the weigh-in time, so a projection can group any of them
 * by (business day, category); the net kg is on `VehicleWeighedOut`.
 */
export function ticketEvents(random: () => number, index: number): StreamAppend {
  const category = CATEGORIES[Math.floor(random() * CATEGORIES.length)] ?? 'residual';
  const day = 1 + Math.floor(random() * 28);
  const minute = Math.floor(random() * 24 * 60);
  const weighedInAt = `2026-03-${String(day).padStart(2, '0')}T${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:00+08:00`;
  const tareKg = 8000 + Math.floor(random() * 4000);
  const netKg = 2000 + Math.floor(random() * 9000);
  const site = `site-${String(index % 40).padStart(4, '0')}`;
  const ticketNo = `T${String(index).padStart(8, '0')}`;
  const common = {
    siteId: site,
    ticketNo,
    category,
    weighedInAt,
    plate: `鲁A${String(10_000 + (index % 90_000))}`,
    districtId: DISTRICTS[index % DISTRICTS.length] ?? 'lixia',
  };
  const metadata = {
    correlationId: uuidFrom(random),
    actor: `station-${site}`,
    sourceDevice: `wb-${site}-01`,
  };
  const data: Record<
    (typeof TICKET_EVENT_TYPES)[number],
    Record<string, string | number | boolean>
  > = {
    TicketOpened: {
      ...common,
      origin: 'collection',
      collectionPointId: `cp-${index % 5000}`,
      vehicleAxles: 2,
    },
    VehicleWeighedIn: { ...common, grossKg: tareKg + netKg, scale: 'scale-1', operator: 'op-17' },
    LoadInspected: { ...common, inspector: 'insp-3', mixedLoad: false, remark: 'ok' },
    VehicleWeighedOut: {
      ...common,
      tareKg,
      netKg,
      tareSource: 'measured',
      weighedOutAt: weighedInAt,
    },
    TicketClosed: { ...common, netKg, destination: 'incineration', closedBy: 'op-17' },
  };
  const events: EventToAppend[] = TICKET_EVENT_TYPES.map((type) => ({
    id: uuidFrom(random),
    type,
    data: data[type],
    metadata,
  }));
  return { streamId: `weighing-${site}-${ticketNo}`, events, expectedRevision: 'no_stream' };
}

/** The business day (Asia/Shanghai, UTC+8, no daylight saving) of an ISO time with an offset. */
export function businessDay(isoWithOffset: string): string {
  const local = new Date(Date.parse(isoWithOffset) + 8 * 3_600_000);
  return local.toISOString().slice(0, 10);
}
