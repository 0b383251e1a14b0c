import { z } from 'zod';

/**
 * An instant with an explicit offset, e.g. `2026-03-03T08:15:00+08:00` or `…Z`. A time without
 * an offset is refused: whose 08:15 would it be?
 */
export const offsetTimestampSchema = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/,
    'must be an ISO 8601 date-time with an offset, e.g. 2026-03-03T08:15:00+08:00',
  )
  .refine(
    (s) => !Number.isNaN(Date.parse(s)) && isRealDate(s.slice(0, 10)),
    'is not a real date-time',
  );

export type OffsetTimestamp = z.infer<typeof offsetTimestampSchema>;

/**
 * True when `YYYY-MM-DD` names a day of the calendar. `Date.parse` alone is not enough: it rolls
 * 2026-02-30 over to 2 March instead of refusing it.
 */
function isRealDate(date: string): boolean {
  const ms = Date.parse(`${date}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === date;
}

/** A calendar date, `YYYY-MM-DD`. */
export const calendarDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
  .refine(isRealDate, 'is not a real date');

export function epochMs(timestamp: OffsetTimestamp): number {
  return Date.parse(timestamp);
}

/** How far ahead of the ledger's clock a reported time may be (weighbridge clocks drift). */
export const MAX_CLOCK_AHEAD_MS = 10 * 60 * 1000;

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The business day of an instant: its local calendar date in the jurisdiction's time zone
 * (Asia/Shanghai by default). A weighing at 23:50 local belongs to that day, whatever the
 * offset it was reported with.
 */
export function businessDay(timestamp: OffsetTimestamp, timeZone: string): string {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  const date = new Date(epochMs(timestamp));
  const day = format.format(date);
  // en-CA writes years before 1000 unpadded (449-09-27) and drops the era before year 1, which
  // would compare wrongly with YYYY-MM-DD dates (a permit from 2020 would cover year 449).
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? day : isoDayOfDistantYear(date, timeZone);
}

/** `YYYY-MM-DD` with the ISO year (year 0 is 1 BC), signed and six digits outside 0–9999. */
function isoDayOfDistantYear(date: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    era: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes) =>
    parts.find((p) => p.type === type)?.value ?? '';
  const written = Number(part('year').replace(/\D/g, ''));
  const year = part('era') === 'BC' ? 1 - written : written;
  const yyyy =
    year >= 0 && year <= 9999
      ? String(year).padStart(4, '0')
      : `${year < 0 ? '-' : '+'}${String(Math.abs(year)).padStart(6, '0')}`;
  return `${yyyy}-${part('month')}-${part('day')}`;
}

/** True when the name is a time zone this runtime knows (e.g. Asia/Shanghai). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}
