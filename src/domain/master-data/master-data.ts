import { z } from 'zod';
import { kgSchema, type Kg } from '../shared/kilograms.js';
import {
  categorySchema,
  residueSchema,
  type Category,
  type Load,
  type Residue,
} from '../shared/materials.js';
import { calendarDateSchema } from '../shared/time.js';

/** Identifiers chosen by the bureau: lower-case letters, digits and dashes. */
export const idSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be 1–64 lower-case letters, digits or dashes');

/**
 * A Chinese plate as printed, e.g. 鲁A12345 or 鲁A·D12345 (the dot is dropped). Only ASCII letters
 * are upper-cased: `toUpperCase` would turn ſ into S, ß into SS and ı into I, and so accept them.
 */
export const plateSchema = z
  .string()
  .transform((s) => s.replace(/[·•\s]/g, '').replace(/[a-z]+/g, (ascii) => ascii.toUpperCase()))
  .pipe(
    z
      .string()
      .regex(/^[\u4e00-\u9fa5][A-Z][A-Z0-9]{4,6}[\u4e00-\u9fa5]?$/, 'is not a Chinese plate'),
  );

export const treatmentOperations = [
  'incineration_energy_recovery',
  'anaerobic_digestion',
  'composting',
  'material_recovery',
  'sanitary_landfill',
  'hazardous_treatment',
  'construction_recycling',
  'construction_disposal',
] as const;
export const operationSchema = z.enum(treatmentOperations);
export type TreatmentOperation = z.infer<typeof operationSchema>;

export const siteKinds = ['collection_point', 'transfer_station', 'treatment_facility'] as const;
export const siteKindSchema = z.enum(siteKinds);
export type SiteKind = z.infer<typeof siteKindSchema>;

export const districtSchema = z.object({
  districtId: idSchema,
  name: z.string().min(1).max(100),
  /** The city or county the district belongs to, e.g. `jinan`. */
  jurisdiction: idSchema,
});
export type District = z.infer<typeof districtSchema>;

export const siteSchema = z
  .object({
    siteId: idSchema,
    name: z.string().min(1).max(200),
    kind: siteKindSchema,
    /** Only for treatment facilities. */
    operation: operationSchema.optional(),
    districtId: idSchema,
    accepts: z.object({
      categories: z.array(categorySchema).max(5).default([]),
      residues: z.array(residueSchema).max(4).default([]),
    }),
    /** Rated capacity in kg per day (t/d × 1000); master data, not a weigh event. */
    capacityKgPerDay: z.number().int().positive().max(100_000_000).optional(),
    permitNumber: z.string().min(1).max(100).optional(),
    validFrom: calendarDateSchema,
    validTo: calendarDateSchema.optional(),
  })
  .superRefine((site, ctx) => {
    if ((site.kind === 'treatment_facility') !== (site.operation !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['operation'],
        message: 'a treatment facility names its operation; other sites have none',
      });
    }
    if (site.validTo !== undefined && site.validTo < site.validFrom) {
      ctx.addIssue({ code: 'custom', path: ['validTo'], message: 'must not be before validFrom' });
    }
  });
export type Site = z.infer<typeof siteSchema>;

/** Legal gross limits in China by axle count (2: 18 t … 6 and more: 49 t). */
export function legalGrossLimitKg(axles: number): Kg {
  const limits: Record<number, number> = { 2: 18_000, 3: 25_000, 4: 31_000, 5: 43_000 };
  return (axles >= 6 ? 49_000 : (limits[axles] ?? 18_000)) as Kg;
}

export const vehicleSchema = z.object({
  plate: plateSchema,
  axles: z.number().int().min(2).max(12),
  /** The tare on record and the day it was measured; one-pass weighings use it. */
  storedTareKg: kgSchema,
  tareMeasuredOn: calendarDateSchema,
  dedicatedCategory: categorySchema.optional(),
  operator: z.string().min(1).max(200),
});
export type Vehicle = z.infer<typeof vehicleSchema>;

export function siteAccepts(site: Site, load: Load): boolean {
  return load.kind === 'waste'
    ? site.accepts.categories.includes(load.category)
    : site.accepts.residues.includes(load.residue);
}

/** Whether the site's permit covers a business day. */
export function siteValidOn(site: Site, day: string): boolean {
  return site.validFrom <= day && (site.validTo === undefined || day <= site.validTo);
}

export type AcceptedMaterial = Category | Residue;
