import type { ComplianceReport } from '../../compliance/compliance-report.js';
import type { SeriesPoint } from '../../compliance/indicator-series.js';

type Cell = string | number | boolean | null | undefined;

const cell = (value: Cell): string => {
  const text = value === undefined || value === null ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/**
 * A report as CSV, one row per target, with what it was computed from (rule set, positions,
 * moment) on every row so a row copied into another sheet still says where it came from.
 * Starts with a UTF-8 byte-order mark: spreadsheet software in China otherwise reads GBK.
 */
export function reportCsv(report: ComplianceReport): string {
  const header = [
    'plan',
    'target_id',
    'label_zh',
    'label_en',
    'indicator',
    'comparator',
    'target',
    'unit',
    'actual',
    'status',
    'numerator_kg',
    'denominator_kg',
    'period_from',
    'period_to',
    'district',
    'rules',
    'positions_up_to',
    'moment',
  ];
  const rows = report.entries.map((e) => [
    report.plan.id,
    e.targetId,
    e.labelZh,
    e.labelEn,
    e.indicator,
    e.comparator,
    e.target,
    e.unit,
    e.actual,
    e.status,
    e.basis?.numeratorKg ?? e.basis?.kitchenCollectedKg,
    e.basis?.denominatorKg ?? e.basis?.days,
    report.period.from,
    report.period.to,
    report.districtId,
    report.rules.label,
    report.positions.upTo,
    report.moment.kind === 'now' ? 'now' : (report.moment.recordedAt ?? report.moment.position),
  ]);
  return toCsv(header, rows);
}

const toCsv = (header: readonly string[], rows: readonly (readonly Cell[])[]): string =>
  `\uFEFF${[header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;

/** An indicator's series as CSV, one row per day or month. */
export function seriesCsv(series: {
  indicator: string;
  rules: string;
  districtId: string | null;
  positions: { upTo: number };
  points: readonly SeriesPoint[];
}): string {
  return toCsv(
    [
      'indicator',
      'period',
      'from',
      'to',
      'numerator',
      'denominator',
      'value',
      'district',
      'rules',
      'positions_up_to',
    ],
    series.points.map((p) => [
      series.indicator,
      p.period,
      p.from,
      p.to,
      p.numerator,
      p.denominator,
      p.value,
      series.districtId,
      series.rules,
      series.positions.upTo,
    ]),
  );
}
