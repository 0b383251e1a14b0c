import { describe, expect, it } from 'vitest';
import type { FactSum } from '../../src/domain/compliance/facts.js';
import { computeIndicators, type SiteFacts } from '../../src/domain/compliance/indicators.js';
import { plans } from '../../src/domain/compliance/plan-catalogue.js';
import { judgePlan } from '../../src/domain/compliance/report.js';
import { ruleSets } from '../../src/domain/compliance/rules.js';

const [rulesV1, rulesV2] = ruleSets;
if (rulesV1 === undefined || rulesV2 === undefined) throw new Error('rule sets missing');

const facility = (operation: string, capacityKgPerDay?: number): SiteFacts => ({
  kind: 'treatment_facility',
  operation,
  districtId: 'd1',
  permitNumber: 'P-1',
  validFrom: '2020-01-01',
  ...(capacityKgPerDay === undefined ? {} : { capacityKgPerDay }),
});
const sites = new Map<string, SiteFacts>([
  ['ts', { kind: 'transfer_station', districtId: 'd1', validFrom: '2020-01-01' }],
  ['mrf', facility('material_recovery')],
  ['ad', facility('anaerobic_digestion', 1_000)],
  ['inc', facility('incineration_energy_recovery')],
  ['lf', facility('sanitary_landfill')],
  ['cwr', facility('construction_recycling')],
  ['cwd', facility('construction_disposal')],
]);

const sum = (f: Partial<FactSum> & Pick<FactSum, 'flow' | 'siteId' | 'material' | 'netKg'>) =>
  ({
    day: '2022-03-01',
    districtId: 'd1',
    subtype: '',
    operation: sites.get(f.siteId)?.operation ?? '',
    destSiteId: '',
    tickets: 1,
    ...f,
  }) satisfies FactSum;

// One day, by hand: 10 000 kg household collected at the station (4 000 recyclable, 2 000
// kitchen, 4 000 residual); it goes on to the plants; the material-recovery site sends 500 kg
// of sorting residue to the incinerator; 1 000 kg of residual and 300 kg of fly ash are
// landfilled; construction: 6 000 recycled, 2 000 disposed, 1 000 excavated soil disposed.
const day: FactSum[] = [
  sum({ flow: 'collected', siteId: 'ts', material: 'recyclable', netKg: 4_000 }),
  sum({ flow: 'collected', siteId: 'ts', material: 'kitchen', netKg: 2_000 }),
  sum({ flow: 'collected', siteId: 'ts', material: 'residual', netKg: 4_000 }),
  sum({
    flow: 'transfer_out',
    siteId: 'ts',
    material: 'residual',
    netKg: 9_800,
    destSiteId: 'inc',
  }),
  sum({ flow: 'treatment_intake', siteId: 'mrf', material: 'recyclable', netKg: 4_000 }),
  sum({ flow: 'treatment_intake', siteId: 'ad', material: 'kitchen', netKg: 2_000 }),
  sum({ flow: 'treatment_intake', siteId: 'inc', material: 'residual', netKg: 3_000 }),
  sum({ flow: 'treatment_intake', siteId: 'lf', material: 'residual', netKg: 1_000 }),
  sum({ flow: 'treatment_intake', siteId: 'lf', material: 'fly_ash', netKg: 300 }),
  sum({
    flow: 'residue_out',
    siteId: 'mrf',
    material: 'sorting_residue',
    netKg: 500,
    destSiteId: 'inc',
  }),
  sum({
    flow: 'residue_out',
    siteId: 'ad',
    material: 'digestate_residue',
    netKg: 200,
    destSiteId: 'mrf',
  }),
  sum({ flow: 'treatment_intake', siteId: 'inc', material: 'sorting_residue', netKg: 500 }),
  sum({ flow: 'treatment_intake', siteId: 'cwr', material: 'construction', netKg: 6_000 }),
  sum({ flow: 'treatment_intake', siteId: 'cwd', material: 'construction', netKg: 2_000 }),
  sum({
    flow: 'treatment_intake',
    siteId: 'cwd',
    material: 'construction',
    subtype: 'excavated_soil',
    netKg: 1_000,
  }),
];

describe('indicators over one hand-computed day', () => {
  const figures = computeIndicators(day, sites, rulesV1, 1);

  it('recycling rate: (4 000 + 2 000 − 500 to incineration) ÷ 10 000; residues sent elsewhere are not subtracted', () => {
    expect(figures.recyclingRate).toEqual({
      numeratorKg: 5_500,
      denominatorKg: 10_000,
      ratio: 0.55,
      recyclablesRecoveredKg: 4_000,
      kitchenBiologicalKg: 2_000,
      residuesToDisposalKg: 500,
    });
  });

  it('harmless treatment: household intake at licensed plants (4 000 + 2 000 + 3 000 + 1 000) ÷ 10 000', () => {
    expect(figures.harmlessTreatmentRate).toEqual({
      numeratorKg: 10_000,
      denominatorKg: 10_000,
      ratio: 1,
      unlicensedIntakeKg: 0,
    });
  });

  it('zero landfill: 1 000 raw residual landfilled counts, 300 fly ash does not: (10 000 − 1 000) ÷ 10 000', () => {
    expect(figures.zeroLandfill).toEqual({
      numeratorKg: 9_000,
      denominatorKg: 10_000,
      ratio: 0.9,
      rawLandfilledKg: 1_000,
    });
  });

  it('construction utilisation: 6 000 ÷ 8 000 without excavated soil, 6 000 ÷ 9 000 with it', () => {
    expect(figures.constructionUtilisation).toEqual({
      numeratorKg: 6_000,
      denominatorKg: 8_000,
      ratio: 0.75,
      excavatedSoilInScope: false,
    });
    expect(computeIndicators(day, sites, rulesV2, 1).constructionUtilisation).toEqual({
      numeratorKg: 6_000,
      denominatorKg: 9_000,
      ratio: 6_000 / 9_000,
      excavatedSoilInScope: true,
    });
  });

  it('collected counts household waste once, at the station, by category; kitchen 2 t over 1 day', () => {
    expect(figures.collected).toEqual({
      totalKg: 10_000,
      byCategoryKg: { recyclable: 4_000, kitchen: 2_000, residual: 4_000 },
    });
    expect(figures.kitchenSeparated).toEqual({
      kitchenCollectedKg: 2_000,
      days: 1,
      tonnesPerDay: 2,
    });
  });

  it('capacity: the digester took 2 000 kg against 1 000 kg/day, one day over; mass balance of the station', () => {
    expect(figures.capacity).toEqual([
      {
        siteId: 'ad',
        capacityKgPerDay: 1_000,
        intakeKg: 2_000,
        daysWithIntake: 1,
        peakDay: '2022-03-01',
        peakDayKg: 2_000,
        daysOverCapacity: ['2022-03-01'],
      },
    ]);
    expect(figures.massBalance).toEqual([
      { siteId: 'ts', inKg: 10_000, outKg: 9_800, differenceKg: 200 },
    ]);
  });

  it('an unlicensed day moves intake out of the harmless numerator', () => {
    const expired = new Map(sites).set('inc', {
      ...facility('incineration_energy_recovery'),
      validTo: '2022-02-28',
    });
    expect(computeIndicators(day, expired, rulesV1, 1).harmlessTreatmentRate).toEqual({
      numeratorKg: 7_000,
      denominatorKg: 10_000,
      ratio: 0.7,
      unlicensedIntakeKg: 3_000,
    });
  });

  it('no collection: rates have no ratio rather than a division by zero', () => {
    expect(computeIndicators([], sites, rulesV1, 0).recyclingRate.ratio).toBeNull();
  });
});

describe('judging Jinan 2022 on those figures', () => {
  const jinan = plans.find((p) => p.id === 'jinan-2022');
  if (jinan === undefined) throw new Error('no Jinan plan');
  const figures = computeIndicators(day, sites, rulesV1, 1);
  const status = (periodOver: boolean) =>
    Object.fromEntries(
      judgePlan(jinan, { period: figures, runRate: figures, periodOver }).map((e) => [
        e.targetId,
        e.status,
      ]),
    );

  it('after the period: met or not met; while it runs: on track or at risk; untracked targets say so', () => {
    expect(status(true)).toMatchObject({
      'recycling-rate': 'met', // 55 % ≥ 35 %
      'kitchen-separated': 'not_met', // 2 t/d < 1 300 t/d
      'construction-utilisation': 'not_met', // 75 % < 80 %
      'harmless-treatment-rate': 'met', // 100 %
      'zero-landfill': 'not_met', // 90 %
      'kitchen-capacity': 'not_tracked',
    });
    expect(status(false)).toMatchObject({
      'recycling-rate': 'on_track',
      'kitchen-separated': 'at_risk',
      'zero-landfill': 'at_risk',
    });
  });
});
