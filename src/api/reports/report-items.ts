import { z } from 'zod';
import { InvalidInputError } from '../../domain/errors/catalogue.js';

/** The client's event id: its idempotency key, and the id of the event it records. */
export const eventIdSchema = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID')
  .transform((s) => s.toLowerCase());

/** One report schema per command: `{ eventId, type, data }`, discriminated by `type`. */
export function reportItemSchema<S extends Record<string, z.ZodType>>(commandSchemas: S) {
  const variants = Object.entries(commandSchemas).map(([type, data]) =>
    z.object({ eventId: eventIdSchema, type: z.literal(type), data }),
  );
  return z.discriminatedUnion('type', variants as unknown as [z.ZodObject, ...z.ZodObject[]]);
}

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
export function parseReportItem<C>(
  schema: z.ZodType,
  raw: unknown,
  prefix: string,
): { eventId: string; command: C } {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(
      fieldPath(prefix, issue?.path ?? []),
      issue?.message ?? 'is not valid',
    );
  }
  const { eventId, type, data } = parsed.data as { eventId: string; type: string; data: unknown };
  return { eventId, command: { type, data } as C };
}
