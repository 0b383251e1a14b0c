import { z } from 'zod';
import { idSchema, plateSchema } from '../master-data/master-data.js';
import { kgSchema } from '../shared/kilograms.js';
import { loadSchema } from '../shared/materials.js';
import { offsetTimestampSchema } from '../shared/time.js';
import {
  destinationSchema,
  directionSchema,
  originSchema,
  ticketNoSchema,
  weighingEventSchemas,
} from './events.js';

const ticketRef = { siteId: idSchema, ticketNo: ticketNoSchema };

/**
 * The ticket's revision the amendment was decided on: the revision its last answer gave, plus one
 * per finding recorded with it. If the ticket moved since (another station corrected it first),
 * nothing is recorded and the answer is 409 with the ticket's current revision. Left out, the
 * amendment applies to the ticket as it is.
 */
const expectedRevision = z.number().int().min(0).optional();

const weighIn = {
  ...ticketRef,
  direction: directionSchema.default('inbound'),
  plate: plateSchema,
  load: loadSchema,
  grossKg: kgSchema,
  weighedInAt: offsetTimestampSchema,
  origin: originSchema.optional(),
  destination: destinationSchema.optional(),
  device: z.string().max(100).optional(),
};

/**
 * What a weighbridge reports, as commands. The API accepts each with the client's event id,
 * which becomes the id of the event it records (so a retry is recognised).
 */
export const weighingCommandSchemas = {
  /** First pass of a two-pass weighing: the loaded vehicle (gross). */
  RecordWeighIn: z.object(weighIn),
  /** Second pass: the empty vehicle (tare, measured). */
  RecordWeighOut: z.object({ ...ticketRef, tareKg: kgSchema, weighedOutAt: offsetTimestampSchema }),
  /** One pass with a stored or preset tare. */
  RecordOnePassWeighing: z.object({
    ...weighIn,
    tareKg: kgSchema,
    tareSource: z.enum(['stored', 'preset']),
  }),
  RejectLoad: z.object({
    ...ticketRef,
    plate: plateSchema,
    load: loadSchema,
    reason: weighingEventSchemas.LoadRejected.shape.reason,
    note: z.string().max(500).optional(),
    rejectedAt: offsetTimestampSchema,
    origin: originSchema.optional(),
  }),
  /** A new version of a weighed ticket; fields left out keep their values. */
  CorrectTicket: z.object({
    ...ticketRef,
    grossKg: kgSchema.optional(),
    tareKg: kgSchema.optional(),
    load: loadSchema.optional(),
    origin: originSchema.optional(),
    destination: destinationSchema.optional(),
    reason: z.string().min(1).max(500),
    approvedBy: z.string().min(1).max(100),
    correctedAt: offsetTimestampSchema,
    expectedRevision,
  }),
  VoidTicket: z.object({
    ...ticketRef,
    reason: z.string().min(1).max(500),
    approvedBy: z.string().min(1).max(100),
    voidedAt: offsetTimestampSchema,
    expectedRevision,
  }),
} as const;

export type WeighingCommandType = keyof typeof weighingCommandSchemas;
export type WeighingCommand = {
  [T in WeighingCommandType]: {
    readonly type: T;
    readonly data: z.infer<(typeof weighingCommandSchemas)[T]>;
  };
}[WeighingCommandType];
