import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  legalGrossLimitKg,
  plateSchema,
  siteSchema,
  siteValidOn,
  treatmentOperations,
  vehicleSchema,
} from '../../src/domain/master-data/master-data.js';
import { loadSchema, subtypesByCategory } from '../../src/domain/shared/materials.js';

/** The paths and messages of a refused parse, or [] when it parses. */
function issuesOf(schema: z.ZodType, input: unknown): { path: PropertyKey[]; message: string }[] {
  const result = schema.safeParse(input);
  return result.success ? [] : result.error.issues.map(({ path, message }) => ({ path, message }));
}

const station = {
  siteId: 'ts-licheng-1',
  name: '历城区第一转运站',
  kind: 'transfer_station',
  districtId: 'licheng',
  accepts: { categories: ['kitchen', 'residual'] },
  validFrom: '2025-01-01',
} as const;

const incinerator = {
  siteId: 'inc-licheng',
  name: '历城生活垃圾焚烧发电厂',
  kind: 'treatment_facility',
  operation: 'incineration_energy_recovery',
  districtId: 'licheng',
  accepts: { categories: ['residual'], residues: ['sorting_residue'] },
  capacityKgPerDay: 2_250_000,
  permitNumber: 'JN-2023-017',
  validFrom: '2023-07-01',
} as const;

describe('plates', () => {
  it.each([
    ['鲁A·12345', '鲁A12345'],
    ['鲁A•12345', '鲁A12345'],
    ['鲁A 12345', '鲁A12345'],
    ['鲁a12345', '鲁A12345'],
    ['鲁a·d12345', '鲁AD12345'],
    ['鲁AD8821F', '鲁AD8821F'],
    ['津C6688挂', '津C6688挂'],
  ])('normalises %s to %s', (printed, normalised) => {
    expect(plateSchema.parse(printed)).toBe(normalised);
  });

  it.each(['ABC123', '鲁12345', '鲁A123', '鲁A1234567', 'A鲁12345', '', '鲁A-12345'])(
    'refuses %j',
    (bad) => {
      expect(issuesOf(plateSchema, bad)).toStrictEqual([
        { path: [], message: 'is not a Chinese plate' },
      ]);
    },
  );
});

describe('legal gross limits', () => {
  it.each([
    [2, 18_000],
    [3, 25_000],
    [4, 31_000],
    [5, 43_000],
    [6, 49_000],
    [7, 49_000],
  ])('%i axles: %i kg', (axles, limit) => {
    expect(legalGrossLimitKg(axles)).toBe(limit);
  });
});

describe('vehicles', () => {
  const compactor = {
    plate: '鲁A·12345',
    axles: 2,
    storedTareKg: 10_000,
    tareMeasuredOn: '2026-01-15',
    operator: '历城环卫',
  };

  it('parses with the plate normalised', () => {
    expect(vehicleSchema.parse(compactor)).toStrictEqual({ ...compactor, plate: '鲁A12345' });
  });

  it('refuses a fractional or zero tare, one axle, and an unknown dedicated category', () => {
    for (const bad of [
      { storedTareKg: 10_000.5 },
      { storedTareKg: 0 },
      { axles: 1 },
      { dedicatedCategory: 'mixed' },
    ]) {
      expect(vehicleSchema.safeParse({ ...compactor, ...bad }).success).toBe(false);
    }
  });
});

describe('sites', () => {
  it('parse, with unnamed accepted materials defaulting to none', () => {
    expect(siteSchema.parse(station)).toStrictEqual({
      ...station,
      accepts: { categories: ['kitchen', 'residual'], residues: [] },
    });
    expect(siteSchema.parse(incinerator)).toStrictEqual(incinerator);
  });

  it.each(treatmentOperations)('a treatment facility may name its operation: %s', (operation) => {
    expect(siteSchema.safeParse({ ...incinerator, operation }).success).toBe(true);
  });

  it('a treatment facility must name its operation', () => {
    expect(issuesOf(siteSchema, { ...incinerator, operation: undefined })).toStrictEqual([
      {
        path: ['operation'],
        message: 'a treatment facility names its operation; other sites have none',
      },
    ]);
  });

  it.each(['transfer_station', 'collection_point'] as const)(
    'a %s must not name an operation',
    (kind) => {
      expect(issuesOf(siteSchema, { ...station, kind, operation: 'composting' })).toStrictEqual([
        {
          path: ['operation'],
          message: 'a treatment facility names its operation; other sites have none',
        },
      ]);
    },
  );

  it('refuses validTo before validFrom; the same day is a one-day permit', () => {
    expect(issuesOf(siteSchema, { ...station, validTo: '2024-12-31' })).toStrictEqual([
      { path: ['validTo'], message: 'must not be before validFrom' },
    ]);
    const oneDay = siteSchema.parse({ ...station, validTo: '2025-01-01' });
    expect(siteValidOn(oneDay, '2025-01-01')).toBe(true);
    expect(siteValidOn(oneDay, '2024-12-31')).toBe(false);
    expect(siteValidOn(oneDay, '2025-01-02')).toBe(false);
  });

  it('refuses an id with capitals and a date that does not exist', () => {
    expect(siteSchema.safeParse({ ...station, siteId: 'TS-1' }).success).toBe(false);
    expect(siteSchema.safeParse({ ...station, validFrom: '2025-13-01' }).success).toBe(false);
  });
});

describe('loads', () => {
  const pairs = Object.entries(subtypesByCategory).flatMap(([category, subtypes]) =>
    (subtypes as readonly string[]).map((subtype) => [category, subtype] as const),
  );

  it.each(pairs)('%s may be %s', (category, subtype) => {
    expect(loadSchema.parse({ kind: 'waste', category, subtype })).toStrictEqual({
      kind: 'waste',
      category,
      subtype,
    });
  });

  it('refuses a subtype of another category', () => {
    expect(
      issuesOf(loadSchema, { kind: 'waste', category: 'kitchen', subtype: 'batteries' }),
    ).toStrictEqual([
      { path: ['subtype'], message: 'kitchen has subtypes household, restaurant, other' },
    ]);
    expect(
      issuesOf(loadSchema, { kind: 'waste', category: 'construction', subtype: 'paper' }),
    ).toStrictEqual([
      {
        path: ['subtype'],
        message:
          'construction has subtypes excavated_soil, engineering_mud, construction, demolition, decoration',
      },
    ]);
  });

  it('refuses any subtype of residual waste, which has none', () => {
    expect(
      issuesOf(loadSchema, { kind: 'waste', category: 'residual', subtype: 'household' }),
    ).toStrictEqual([{ path: ['subtype'], message: 'residual has no subtypes' }]);
  });

  it('accepts a category without a subtype, and a residue', () => {
    expect(loadSchema.parse({ kind: 'waste', category: 'residual' })).toStrictEqual({
      kind: 'waste',
      category: 'residual',
    });
    expect(loadSchema.parse({ kind: 'residue', residue: 'fly_ash' })).toStrictEqual({
      kind: 'residue',
      residue: 'fly_ash',
    });
    expect(loadSchema.safeParse({ kind: 'residue', residue: 'slag' }).success).toBe(false);
  });
});
