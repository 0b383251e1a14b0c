import { z } from 'zod';
import {
  idSchema,
  operationSchema,
  plateSchema,
  siteKindSchema,
} from '../master-data/master-data.js';
import { kgSchema } from '../shared/kilograms.js';
import { loadSchema } from '../shared/materials.js';
import { calendarDateSchema, offsetTimestampSchema } from '../shared/time.js';

/** A site's ticket number as its weighbridge prints it. */
export const ticketNoSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,39}$/, 'must be 1–40 letters, digits or dashes');

/** Where an inbound load came from. */
export const originSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('collection'),
    districtId: idSchema,
    collectionPointId: idSchema.optional(),
    tripId: idSchema.optional(),
  }),
  z.object({
    kind: z.literal('transfer'),
    /** The dispatching site and its outbound ticket. */
    fromSiteId: idSchema,
    outboundTicketNo: ticketNoSchema,
  }),
]);
export type Origin = z.infer<typeof originSchema>;

/** Where an outbound load goes: the receiving site, whose inbound ticket links back. */
export const destinationSchema = z.object({ siteId: idSchema });
export type Destination = z.infer<typeof destinationSchema>;

export const directionSchema = z.enum(['inbound', 'outbound']);
export type Direction = z.infer<typeof directionSchema>;

/** The site as the ledger knew it at the weighing, so figures need no later lookup. */
export const siteSnapshotSchema = z.object({
  kind: siteKindSchema,
  operation: operationSchema.optional(),
  districtId: idSchema,
});
export type SiteSnapshot = z.infer<typeof siteSnapshotSchema>;

const ticketRef = { siteId: idSchema, ticketNo: ticketNoSchema };

const firstWeighing = {
  ...ticketRef,
  direction: directionSchema,
  plate: plateSchema,
  load: loadSchema,
  grossKg: kgSchema,
  /** When the loaded vehicle was weighed: the ticket's business day is this one's. */
  weighedInAt: offsetTimestampSchema,
  /** Local calendar date of `weighedInAt` in the ledger's time zone. */
  businessDay: calendarDateSchema,
  origin: originSchema.optional(),
  destination: destinationSchema.optional(),
  site: siteSnapshotSchema,
  /** The weighbridge terminal. */
  device: z.string().max(100).optional(),
};

export const tareSourceSchema = z.enum(['measured', 'stored', 'preset']);

/**
 * The ticket stream's events, version 1. The `type` string equals the name; a change of shape
 * gets a new schema version (metadata `schemaVersion`) and an upcaster, never an edit here.
 */
export const weighingEventSchemas = {
  VehicleWeighedIn: z.object(firstWeighing),
  VehicleWeighedOut: z.object({
    ...ticketRef,
    tareKg: kgSchema,
    tareSource: z.literal('measured'),
    weighedOutAt: offsetTimestampSchema,
    /** gross − tare, exactly. */
    netKg: kgSchema,
  }),
  VehicleWeighedOnePass: z.object({
    ...firstWeighing,
    tareKg: kgSchema,
    tareSource: z.enum(['stored', 'preset']),
    netKg: kgSchema,
  }),
  LoadRejected: z.object({
    ...ticketRef,
    plate: plateSchema,
    load: loadSchema,
    reason: z.enum([
      'category_not_accepted',
      'mixed_load',
      'over_legal_limit',
      'contaminated',
      'other',
    ]),
    note: z.string().max(500).optional(),
    rejectedAt: offsetTimestampSchema,
    businessDay: calendarDateSchema,
    origin: originSchema.optional(),
    site: siteSnapshotSchema,
  }),
  TicketCorrected: z.object({
    ...ticketRef,
    /** 2 for the first correction: version 1 is the original weighing. */
    version: z.number().int().min(2),
    grossKg: kgSchema,
    tareKg: kgSchema,
    netKg: kgSchema,
    load: loadSchema,
    origin: originSchema.optional(),
    destination: destinationSchema.optional(),
    reason: z.string().min(1).max(500),
    approvedBy: z.string().min(1).max(100),
    correctedAt: offsetTimestampSchema,
  }),
  TicketVoided: z.object({
    ...ticketRef,
    reason: z.string().min(1).max(500),
    approvedBy: z.string().min(1).max(100),
    voidedAt: offsetTimestampSchema,
  }),
  /** Finding: the measured tare differs from the stored one beyond tolerance. */
  TareDriftFound: z.object({
    ...ticketRef,
    plate: plateSchema,
    storedTareKg: kgSchema,
    measuredTareKg: kgSchema,
    driftKg: z.number().int(),
    toleranceKg: z.number().int(),
  }),
  /** Finding: the same plate weighed in again at this site within a few minutes. */
  RepeatWeighingSuspected: z.object({
    ...ticketRef,
    plate: plateSchema,
    previousTicketNo: ticketNoSchema,
    previousWeighedInAt: offsetTimestampSchema,
    secondsApart: z.number().int().min(0),
  }),
} as const;

export type WeighingEventType = keyof typeof weighingEventSchemas;
export type WeighingEventData<T extends WeighingEventType> = z.infer<
  (typeof weighingEventSchemas)[T]
>;
export type WeighingEvent = {
  [T in WeighingEventType]: { readonly type: T; readonly data: WeighingEventData<T> };
}[WeighingEventType];

/**
 * The gate stream of a plate at a site: which of its tickets is open, and when it was last
 * weighed in. It makes "one open ticket per plate and site" hold under concurrency: both
 * streams are appended together, each with its expected revision.
 */
export const gateEventSchemas = {
  PlateWeighedInAtGate: z.object({
    ...ticketRef,
    plate: plateSchema,
    weighedInAt: offsetTimestampSchema,
    /** False for a one-pass weighing, which opens and closes the ticket at once. */
    ticketOpen: z.boolean(),
  }),
  PlateTicketClosedAtGate: z.object({ ...ticketRef, plate: plateSchema }),
} as const;

export type GateEventType = keyof typeof gateEventSchemas;
export type GateEvent = {
  [T in GateEventType]: { readonly type: T; readonly data: z.infer<(typeof gateEventSchemas)[T]> };
}[GateEventType];

export const ticketStreamId = (siteId: string, ticketNo: string) => `ticket-${siteId}-${ticketNo}`;
export const gateStreamId = (siteId: string, plate: string) => `gate-${siteId}-${plate}`;

export const EVENT_SCHEMA_VERSION = 1;
