import { z } from 'zod';

/** A weight in integer kilograms: the only unit the ledger stores. Tonnes are for display. */
export type Kg = number & { readonly __unit: 'kg' };

/** Largest weight a single weighing may carry (a 6-axle combination is 49 t). */
export const MAX_WEIGHING_KG = 100_000;

/** A positive whole number of kilograms, as weighbridges report them. */
export const kgSchema = z
  .number()
  .int('must be a whole number of kilograms')
  .positive('must be more than 0 kg')
  .max(MAX_WEIGHING_KG, `must be at most ${MAX_WEIGHING_KG} kg`)
  .transform((n) => n as Kg);

export function kg(n: number): Kg {
  return kgSchema.parse(n);
}

/** Tonnes with three decimals, for display only (never stored or summed). */
export function tonnesForDisplay(weight: number): string {
  return (weight / 1000).toFixed(3);
}
