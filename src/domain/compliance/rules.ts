import { z } from 'zod';

/**
 * How a city counts (DOMAIN.md, Indicators): definitions differ between cities and years, so they
 * are named, versioned configuration. A figure names the rule set it was computed under, and a
 * new version is a new entry, never an edit: figures under the old and the new version can be
 * compared side by side.
 */
export const ruleSetSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  version: z.number().int().min(1),
  description: z.string(),
  /**
   * The denominator of the recycling and harmless-treatment rates. Only 清运量 (household waste
   * collected, weighed at the first receiving site) is computed from the ledger: 产生量 (waste
   * generated) is an estimate no weighbridge measures.
   */
  denominator: z.literal('collected'),
  /** Whether excavated soil (工程渣土) is in the construction-waste utilisation (engineering mud is, either way). */
  excavatedSoilInConstructionScope: z.boolean(),
  /** Whether recyclables estimated outside the weighbridges count; the ledger holds only weighed loads, so false. */
  estimatedRecyclablesCount: z.literal(false),
});
export type RuleSet = z.infer<typeof ruleSetSchema>;

export const ruleSets: readonly RuleSet[] = [
  {
    id: 'domain-default',
    version: 1,
    description:
      'DOMAIN.md defaults: 清运量 as denominator, excavated soil outside construction-waste utilisation, weighed loads only.',
    denominator: 'collected',
    excavatedSoilInConstructionScope: false,
    estimatedRecyclablesCount: false,
  },
  {
    id: 'domain-default',
    version: 2,
    description:
      'As version 1, with excavated soil (工程渣土) inside construction-waste utilisation.',
    denominator: 'collected',
    excavatedSoilInConstructionScope: true,
    estimatedRecyclablesCount: false,
  },
];

export interface RuleRef {
  readonly id: string;
  readonly version: number;
}

export function ruleSetOf(ref: RuleRef): RuleSet | undefined {
  return ruleSets.find((r) => r.id === ref.id && r.version === ref.version);
}

export const ruleLabel = (ref: RuleRef): string => `${ref.id}@${ref.version}`;

/** `domain-default@2`, the label every figure carries, read back into a reference. */
export const ruleLabelSchema = z
  .string()
  .regex(/^[a-z0-9-]+@[1-9][0-9]*$/, 'must be <rule set>@<version>, e.g. domain-default@1')
  .transform((s): RuleRef => {
    const [id = '', version = '1'] = s.split('@');
    return { id, version: Number(version) };
  });
