import { describe, expect, it } from 'vitest';
import { splitPeriod } from '../../../src/projections/compliance-facts/query.js';

describe('splitting a period into whole months and edge days', () => {
  it.each([
    ['2022-01-01', '2022-12-31', { months: { first: '2022-01', last: '2022-12' }, days: [] }],
    ['2022-06-01', '2022-06-30', { months: { first: '2022-06', last: '2022-06' }, days: [] }],
    [
      '2022-01-15',
      '2022-03-10',
      {
        months: { first: '2022-02', last: '2022-02' },
        days: [
          { from: '2022-01-15', to: '2022-01-31' },
          { from: '2022-03-01', to: '2022-03-10' },
        ],
      },
    ],
    ['2022-06-01', '2022-06-29', { days: [{ from: '2022-06-01', to: '2022-06-29' }] }],
    ['2022-06-02', '2022-06-30', { days: [{ from: '2022-06-02', to: '2022-06-30' }] }],
    [
      '2024-02-01',
      '2024-02-29',
      { months: { first: '2024-02', last: '2024-02' }, days: [] }, // a leap year's February
    ],
    [
      '2022-12-15',
      '2023-01-31',
      {
        months: { first: '2023-01', last: '2023-01' },
        days: [{ from: '2022-12-15', to: '2022-12-31' }],
      },
    ],
  ])('%s … %s', (from, to, expected) => {
    expect(splitPeriod(from, to)).toEqual(expected);
  });
});
