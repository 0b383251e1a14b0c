import v8 from 'node:v8';
import vm from 'node:vm';

const SAMPLE_MS = 50;
const MB = 2 ** 20;

let collect: (() => void) | undefined;

/**
 * A full garbage collection before a measured phase, so that its peak RSS is not what the load
 * before it left on the heap. The benchmark runs under tsx, without --expose-gc: the flag is set
 * now and `gc` taken from a fresh context (a known V8 idiom).
 */
export function collectGarbage(): void {
  if (collect === undefined) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  collect();
}

/**
 * Runs `work` while sampling the resident set size every 50 ms (and at start and end); returns
 * the RSS when it started and the highest sample, in MB.
 */
export async function withPeakRss<T>(
  work: () => Promise<T>,
): Promise<{ value: T; startRssMb: number; peakRssMb: number }> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, SAMPLE_MS);
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, startRssMb: round(start / MB), peakRssMb: round(peak / MB) };
  } finally {
    clearInterval(timer);
  }
}

function round(mb: number): number {
  return Math.round(mb * 10) / 10;
}
