import { describe, expect, it } from 'vitest';
import type { FactSum } from '../../src/domain/compliance/facts.js';
import type { SiteFacts } from '../../src/domain/compliance/indicators.js';
import { ruleSets } from '../../src/domain/compliance/rules.js';
import { indicatorSeries } from '../../src/compliance/indicator-series.js';

const rules = ruleSets[0];
if (rules === undefined) throw new Error('no rule set');
const sites = new Map<string, SiteFacts>([
  ['ts', { kind: 'transfer_station', districtId: 'd', validFrom: '2020-01-01' }],
]);
const collected = (day: string, material: string, netKg: number): FactSum => ({
  day,
  districtId: 'd',
  siteId: 'ts',
  flow: 'collected',
  material,
  subtype: '',
  operation: '',
  destSiteId: '',
  netKg,
  tickets: 1,
});

describe('indicator series', () => {
  const sums = [
    collected('2022-01-31', 'kitchen', 3_100_000),
    collected('2022-02-01', 'kitchen', 2_800_000),
    collected('2022-02-15', 'residual', 1_000),
  ];

  it('month by month, each month total ÷ its own days, empty buckets included', () => {
    expect(
      indicatorSeries('kitchen_separated', sums, sites, rules, {
        from: '2022-01-15',
        to: '2022-03-31',
        interval: 'month',
      }),
    ).toEqual([
      // 15–31 January: 17 days; 3 100 t ÷ 17
      {
        period: '2022-01',
        from: '2022-01-15',
        to: '2022-01-31',
        numerator: 3_100_000,
        denominator: 17,
        value: 3_100_000 / 17 / 1000,
      },
      {
        period: '2022-02',
        from: '2022-02-01',
        to: '2022-02-28',
        numerator: 2_800_000,
        denominator: 28,
        value: 100,
      },
      {
        period: '2022-03',
        from: '2022-03-01',
        to: '2022-03-31',
        numerator: 0,
        denominator: 31,
        value: 0,
      },
    ]);
  });

  it('day by day for tonnage', () => {
    expect(
      indicatorSeries('collected_tonnage', sums, sites, rules, {
        from: '2022-01-31',
        to: '2022-02-01',
        interval: 'day',
      }).map((p) => [p.period, p.numerator, p.value]),
    ).toEqual([
      ['2022-01-31', 3_100_000, 3_100],
      ['2022-02-01', 2_800_000, 2_800],
    ]);
  });
});
