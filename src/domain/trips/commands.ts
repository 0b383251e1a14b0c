import { z } from 'zod';
import { idSchema, plateSchema } from '../master-data/master-data.js';
import { kgSchema } from '../shared/kilograms.js';
import { categorySchema } from '../shared/materials.js';
import { offsetTimestampSchema } from '../shared/time.js';
import { ticketNoSchema } from '../weighing/events.js';

const tripRef = { tripId: idSchema };

/**
 * What a vehicle's dispatch system reports, as commands. Each carries the time it happened (the
 * decider reads no clock). The API accepts each with the client's event id, which becomes the id
 * of the event it records (so a retry is recognised).
 */
export const tripCommandSchemas = {
  /** Send a vehicle out on a collection trip. */
  DispatchTrip: z.object({
    ...tripRef,
    plate: plateSchema,
    districtId: idSchema,
    category: categorySchema,
    dispatchedAt: offsetTimestampSchema,
  }),
  /** The vehicle emptied bins at a collection point. */
  RecordCollection: z.object({
    ...tripRef,
    collectionPointId: idSchema,
    category: categorySchema,
    bins: z.number().int().min(0),
    /** Integer kg, only where the point weighs. */
    kg: kgSchema.optional(),
    collectedAt: offsetTimestampSchema,
  }),
  /** The vehicle reached the receiving site. */
  RecordArrival: z.object({
    ...tripRef,
    siteId: idSchema,
    arrivedAt: offsetTimestampSchema,
    ticketNo: ticketNoSchema.optional(),
  }),
  /** The vehicle left the receiving site: the trip is over. */
  RecordDeparture: z.object({ ...tripRef, siteId: idSchema, departedAt: offsetTimestampSchema }),
} as const;

export type TripCommandType = keyof typeof tripCommandSchemas;
export type TripCommand = {
  [T in TripCommandType]: {
    readonly type: T;
    readonly data: z.infer<(typeof tripCommandSchemas)[T]>;
  };
}[TripCommandType];
