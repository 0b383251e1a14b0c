import { z } from 'zod';

/** GB/T 19095-2019 household categories, and construction waste (not household). */
export const categories = [
  'kitchen',
  'recyclable',
  'hazardous',
  'residual',
  'construction',
] as const;
export const categorySchema = z.enum(categories);
export type Category = z.infer<typeof categorySchema>;

export const householdCategories: readonly Category[] = [
  'kitchen',
  'recyclable',
  'hazardous',
  'residual',
];

export const subtypesByCategory = {
  kitchen: ['household', 'restaurant', 'other'],
  recyclable: ['paper', 'plastic', 'metal', 'glass', 'textile'],
  hazardous: ['lamps', 'household_chemicals', 'batteries'],
  residual: [],
  construction: ['excavated_soil', 'engineering_mud', 'construction', 'demolition', 'decoration'],
} as const satisfies Record<Category, readonly string[]>;

/** What treatment leaves behind and sends on; a material of its own, not raw household waste. */
export const residues = ['sorting_residue', 'digestate_residue', 'bottom_ash', 'fly_ash'] as const;
export const residueSchema = z.enum(residues);
export type Residue = z.infer<typeof residueSchema>;

/** What a vehicle carries: waste of a category (optionally a subtype), or a residue. */
export const loadSchema = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('waste'),
      category: categorySchema,
      subtype: z.string().min(1).optional(),
    }),
    z.object({ kind: z.literal('residue'), residue: residueSchema }),
  ])
  .superRefine((load, ctx) => {
    if (load.kind !== 'waste' || load.subtype === undefined) return;
    const allowed: readonly string[] = subtypesByCategory[load.category];
    if (!allowed.includes(load.subtype)) {
      ctx.addIssue({
        code: 'custom',
        path: ['subtype'],
        message: `${load.category} has ${allowed.length === 0 ? 'no subtypes' : `subtypes ${allowed.join(', ')}`}`,
      });
    }
  });
export type Load = z.infer<typeof loadSchema>;

/** The material a load counts as in figures: its category, or its residue. */
export function materialOf(load: Load): Category | Residue {
  return load.kind === 'waste' ? load.category : load.residue;
}
