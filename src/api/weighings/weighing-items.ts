import type { z } from 'zod';
import { weighingCommandSchemas, type WeighingCommand } from '../../domain/weighing/commands.js';
import type { IngestItem } from '../../ingestion/weighing-ingestion.js';
import { parseReportItem, reportItemSchema } from '../reports/report-items.js';

/** One weighbridge report: the client's event id (its idempotency key), a command type and data. */
export const weighingItemSchema: z.ZodType = reportItemSchema(weighingCommandSchemas);

/** Parses one item as the API does, or throws InvalidInputError naming the first wrong field. */
export function parseWeighingItem(raw: unknown, prefix: string): IngestItem {
  return parseReportItem<WeighingCommand>(weighingItemSchema, raw, prefix);
}
