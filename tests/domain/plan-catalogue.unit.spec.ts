import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { plans } from '../../src/domain/compliance/plan-catalogue.js';
import { planSchema } from '../../src/domain/compliance/plans.js';
import { ruleSetOf } from '../../src/domain/compliance/rules.js';

/** The plan texts, copied into the repository (docs/plans) so every machine checks against them. */
const plansFolder = new URL('../../docs/plans/', import.meta.url);
if (!existsSync(plansFolder))
  throw new Error(`The plan texts are missing from ${plansFolder.pathname}`);
const textOf = (id: string): string =>
  readFileSync(new URL(`../../docs/plans/${id}.txt`, import.meta.url), 'utf8');

describe('plan catalogue', () => {
  it('holds the five plans', () => {
    expect(plans.map((p) => p.id)).toStrictEqual([
      'jinan-2022',
      'jining-2021',
      'suizhou-2025',
      'tianjin-2019',
      'wuxi-binhu-2023',
    ]);
  });

  it.each(plans.map((p) => [p.id, p] as const))('%s parses with planSchema', (_id, plan) => {
    expect(planSchema.parse(plan)).toStrictEqual(plan);
  });

  it.each(plans.map((p) => [p.id, p] as const))('%s has unique target ids', (_id, plan) => {
    const ids = plan.targets.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(plans.map((p) => [p.id, p] as const))('%s names a rule set that exists', (_id, plan) => {
    expect(plan.rules).toStrictEqual({ id: 'domain-default', version: 1 });
    expect(ruleSetOf(plan.rules)).toBeDefined();
  });

  it.each(plans.map((p) => [p.id, p] as const))(
    '%s: every sentence is verbatim in shared/plans/<id>.txt (skipped when the texts are absent)',
    (id, plan) => {
      const text = textOf(id);
      const missing = plan.targets.filter((t) => !text.includes(t.sentence)).map((t) => t.id);
      expect(missing).toStrictEqual([]);
    },
  );

  it('encodes the Jinan 2022 tracked targets', () => {
    const jinan = plans.find((p) => p.id === 'jinan-2022');
    const tracked = (jinan?.targets ?? []).flatMap((t) =>
      t.tracked
        ? [
            {
              indicator: t.indicator,
              comparator: t.comparator,
              target: t.target,
              unit: t.unit,
              judgedOn: t.judgedOn,
              scope: t.scope,
            },
          ]
        : [],
    );
    expect(tracked).toStrictEqual([
      {
        indicator: 'recycling_rate',
        comparator: '>=',
        target: 35,
        unit: 'percent',
        judgedOn: 'period',
        scope: undefined,
      },
      {
        indicator: 'kitchen_separated',
        comparator: '>=',
        target: 1300,
        unit: 't/d',
        judgedOn: 'period_end',
        scope: undefined,
      },
      {
        indicator: 'construction_utilisation',
        comparator: '>=',
        target: 80,
        unit: 'percent',
        judgedOn: 'period',
        scope: undefined,
      },
      {
        indicator: 'harmless_treatment_rate',
        comparator: '>=',
        target: 100,
        unit: 'percent',
        judgedOn: 'period',
        scope: '城乡',
      },
      // The text: 以基本实现生活垃圾“零填埋”为基础.
      {
        indicator: 'zero_landfill',
        comparator: '>=',
        target: 100,
        unit: 'percent',
        judgedOn: 'period',
        scope: undefined,
      },
    ]);
  });

  it('jinan-2022: the text states zero landfill (skipped when the texts are absent)', () => {
    expect(textOf('jinan-2022')).toContain('零填埋');
  });
});
