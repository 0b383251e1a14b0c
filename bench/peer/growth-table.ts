import type { GrowthRow } from './results.js';
import { printColumns } from './table.js';

/** The targets at 10 000 000 events: µs/event within 1.2× the smallest size's, RSS. */
export const GROWTH_TARGETS = { ratioAt10M: 1.2, peakRssMbAt10M: 300 } as const;
const TARGET_SIZE = 10_000_000;

/** Each row's µs/event over the same phase's at the smallest size. */
export function withRatios(rows: readonly Omit<GrowthRow, 'ratioToSmallest'>[]): GrowthRow[] {
  return rows.map((row) => {
    const base = rows.find((r) => r.phase === row.phase);
    return {
      ...row,
      usPerEvent: Number(row.usPerEvent.toFixed(2)),
      ratioToSmallest:
        base === undefined ? NaN : Number((row.usPerEvent / base.usPerEvent).toFixed(2)),
    };
  });
}

/** Whether a row meets the targets; undefined below 10 M, where the issue sets none. */
export function meetsTargets(row: GrowthRow): boolean | undefined {
  if (row.size < TARGET_SIZE) return undefined;
  return (
    row.ratioToSmallest <= GROWTH_TARGETS.ratioAt10M &&
    row.peakRssMb < GROWTH_TARGETS.peakRssMbAt10M
  );
}

export function printGrowth(rows: readonly GrowthRow[], sizes: readonly number[]): void {
  printColumns(
    `Cost per event as the log grows (targets at 10 000 000 events: ≤ ${GROWTH_TARGETS.ratioAt10M}× the smallest size's µs/event, peak RSS < ${GROWTH_TARGETS.peakRssMbAt10M} MB)`,
    [
      'size',
      'phase',
      'events',
      'seconds',
      'µs/event',
      '× smallest',
      'peak RSS MB (start)',
      'targets',
      'check',
    ],
    rows.map((r) => {
      const met = meetsTargets(r);
      return [
        String(r.size),
        r.phase,
        String(r.events),
        r.seconds.toFixed(2),
        r.usPerEvent.toFixed(2),
        `${r.ratioToSmallest.toFixed(2)}×`,
        `${r.peakRssMb.toFixed(0)} (${r.startRssMb.toFixed(0)})`,
        met === undefined ? '' : met ? 'met' : 'NOT met',
        `${r.ok ? 'ok' : 'FAILED'}: ${r.check}`,
      ];
    }),
  );
  if ((sizes.at(-1) ?? 0) < TARGET_SIZE) {
    console.log(
      '\nThe targets are for 10 000 000 events: `npm run bench -- --growth --growth-max 10000000`.',
    );
  }
  for (const r of rows) {
    if (meetsTargets(r) === false) {
      console.log(
        `Target missed at ${r.size}, ${r.phase}: ${r.ratioToSmallest}× the smallest size's µs/event, peak RSS ${r.peakRssMb} MB.`,
      );
    }
  }
}
