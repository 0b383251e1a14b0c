import { z } from 'zod';
import { InvalidInputError } from '../../domain/errors/catalogue.js';
import { weighingCommandSchemas, type WeighingCommand } from '../../domain/weighing/commands.js';
import type { IngestItem } from '../../ingestion/weighing-ingestion.js';

const eventIdSchema = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID')
  .transform((s) => s.toLowerCase());

/** One weighbridge report: the client's event id (its idempotency key), a command type and data. */
export const weighingItemSchema = z.discriminatedUnion('type', [
  z.object({
    eventId: eventIdSchema,
    type: z.literal('RecordWeighIn'),
    data: weighingCommandSchemas.RecordWeighIn,
  }),
  z.object({
    eventId: eventIdSchema,
    type: z.literal('RecordWeighOut'),
    data: weighingCommandSchemas.RecordWeighOut,
  }),
  z.object({
    eventId: eventIdSchema,
    type: z.literal('RecordOnePassWeighing'),
    data: weighingCommandSchemas.RecordOnePassWeighing,
  }),
  z.object({
    eventId: eventIdSchema,
    type: z.literal('RejectLoad'),
    data: weighingCommandSchemas.RejectLoad,
  }),
  z.object({
    eventId: eventIdSchema,
    type: z.literal('CorrectTicket'),
    data: weighingCommandSchemas.CorrectTicket,
  }),
  z.object({
    eventId: eventIdSchema,
    type: z.literal('VoidTicket'),
    data: weighingCommandSchemas.VoidTicket,
  }),
]);

/** zod paths as the field names problems carry: `items[3].data.grossKg`. */
export function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) =>
      typeof key === 'number'
        ? `${acc}[${key}]`
        : acc === ''
          ? String(key)
          : `${acc}.${String(key)}`,
    prefix,
  );
}

/** Parses one item, or throws InvalidInputError naming the first wrong field. */
export function parseWeighingItem(raw: unknown, prefix: string): IngestItem {
  const parsed = weighingItemSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(
      fieldPath(prefix, issue?.path ?? []),
      issue?.message ?? 'is not valid',
    );
  }
  const { eventId, type, data } = parsed.data;
  return { eventId, command: { type, data } as WeighingCommand };
}
