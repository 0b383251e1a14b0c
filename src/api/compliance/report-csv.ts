import type { ComplianceReport } from '../../compliance/compliance-report.js';

const cell = (value: string | number | boolean | null | undefined): string => {
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
  return `\uFEFF${[header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}
