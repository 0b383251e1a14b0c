import { z } from 'zod';

/** Indicators the ledger computes from its events (DOMAIN.md, Indicators). */
export const indicatorIds = [
  'collected_tonnage',
  'recycling_rate',
  'harmless_treatment_rate',
  'zero_landfill',
  'kitchen_separated',
  'construction_utilisation',
] as const;
export const indicatorIdSchema = z.enum(indicatorIds);
export type IndicatorId = z.infer<typeof indicatorIdSchema>;

/**
 * One target of a plan. `tracked` targets name an indicator the ledger computes; the others
 * (facilities to build, coverage of units, street lighting…) are listed with the reason the
 * ledger cannot judge them, so a report never silently drops part of a plan.
 */
export const planTargetSchema = z.discriminatedUnion('tracked', [
  z.object({
    tracked: z.literal(true),
    id: z.string().regex(/^[a-z0-9-]+$/),
    indicator: indicatorIdSchema,
    comparator: z.enum(['>=', '<=']),
    /** Percent for rates (35 means 35 %), tonnes per day for kitchen_separated, tonnes for tonnage. */
    target: z.number().nonnegative(),
    unit: z.enum(['percent', 't/d', 't']),
    /** When the plan wants it reached: over the whole period, or by its end (a run rate). */
    judgedOn: z.enum(['period', 'period_end']),
    /** Where the plan limits the target (e.g. 建成区, 中心城区); undefined: the whole jurisdiction. */
    scope: z.string().optional(),
    labelZh: z.string().min(1),
    labelEn: z.string().min(1),
    /** The plan's own words, verbatim, so a reader can find them in the document. */
    sentence: z.string().min(1),
  }),
  z.object({
    tracked: z.literal(false),
    id: z.string().regex(/^[a-z0-9-]+$/),
    labelZh: z.string().min(1),
    labelEn: z.string().min(1),
    target: z.string().min(1),
    whyNotTracked: z.string().min(1),
    sentence: z.string().min(1),
  }),
]);
export type PlanTarget = z.infer<typeof planTargetSchema>;

export const planSchema = z.object({
  /** e.g. `jinan-2022`, also the name of the plan's text in shared/plans. */
  id: z.string().regex(/^[a-z0-9-]+$/),
  jurisdictionZh: z.string().min(1),
  jurisdictionEn: z.string().min(1),
  year: z.number().int().min(2000).max(2100),
  titleZh: z.string().min(1),
  issuedBy: z.string().min(1),
  /** The rule set the plan's figures are computed under. */
  rules: z.object({ id: z.string(), version: z.number().int().min(1) }),
  targets: z.array(planTargetSchema).min(1),
});
export type Plan = z.infer<typeof planSchema>;
