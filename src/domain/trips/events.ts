import { z } from 'zod';
import { idSchema, plateSchema } from '../master-data/master-data.js';
import { kgSchema } from '../shared/kilograms.js';
import { categorySchema } from '../shared/materials.js';
import { offsetTimestampSchema } from '../shared/time.js';
import { ticketNoSchema } from '../weighing/events.js';

const tripRef = { tripId: idSchema };

/**
 * The trip stream's events, version 1: a vehicle is dispatched, collects from points, arrives
 * at a transfer station or treatment facility and leaves it again. The `type` string equals the
 * name; a change of shape gets a new schema version and an upcaster, never an edit here.
 */
export const tripEventSchemas = {
  TripDispatched: z.object({
    ...tripRef,
    plate: plateSchema,
    /** The district whose collection points the trip serves. */
    districtId: idSchema,
    /** The category the vehicle is dispatched for (a dedicated kitchen-waste tanker, …). */
    category: categorySchema,
    dispatchedAt: offsetTimestampSchema,
  }),
  CollectedAtPoint: z.object({
    ...tripRef,
    collectionPointId: idSchema,
    /** The category actually collected at the point (differs from the trip's on a mixed load). */
    category: categorySchema,
    /** Bins emptied, counted at the point (0 when the point had nothing to collect). */
    bins: z.number().int().min(0),
    /** Where the point weighs (an on-board scale), its weight in integer kg; not a weigh ticket. */
    kg: kgSchema.optional(),
    collectedAt: offsetTimestampSchema,
  }),
  ArrivedAtSite: z.object({
    ...tripRef,
    /** The transfer station or treatment facility receiving the load. */
    siteId: idSchema,
    arrivedAt: offsetTimestampSchema,
    /** The site's weigh ticket for the load, once known; links the trip to the weighing. */
    ticketNo: ticketNoSchema.optional(),
  }),
  DepartedSite: z.object({
    ...tripRef,
    siteId: idSchema,
    departedAt: offsetTimestampSchema,
  }),
} as const;

export type TripEventType = keyof typeof tripEventSchemas;
export type TripEventData<T extends TripEventType> = z.infer<(typeof tripEventSchemas)[T]>;
export type TripEvent = {
  [T in TripEventType]: { readonly type: T; readonly data: TripEventData<T> };
}[TripEventType];

export const tripStreamId = (tripId: string) => `trip-${tripId}`;
