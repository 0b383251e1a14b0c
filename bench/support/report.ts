import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';

export interface PhaseResult {
  readonly phase: string;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** The target for this phase (events/s), if it sets one. */
  readonly target?: number;
  /** What was checked about the phase's output, and whether it held. */
  readonly check?: string;
  readonly ok?: boolean;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { value, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

export function phase(
  name: string,
  events: number,
  seconds: number,
  extra: Omit<PhaseResult, 'phase' | 'events' | 'seconds' | 'eventsPerSecond'> = {},
): PhaseResult {
  return { phase: name, events, seconds, eventsPerSecond: Math.round(events / seconds), ...extra };
}

export function printTable(title: string, rows: readonly PhaseResult[]): void {
  console.log(`\n${title}`);
  const header = ['phase', 'events', 'seconds', 'events/s', 'target', 'vs target', 'check'];
  const lines = rows.map((r) => [
    r.phase,
    String(r.events),
    r.seconds.toFixed(2),
    String(r.eventsPerSecond),
    r.target === undefined ? '' : `≥ ${r.target}`,
    r.target === undefined ? '' : `${(r.eventsPerSecond / r.target).toFixed(2)}×`,
    r.check === undefined
      ? ''
      : r.ok === undefined
        ? r.check
        : `${r.ok ? 'ok' : 'FAILED'}: ${r.check}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(fmt(line));
}

export function machine() {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  };
}

export async function writeResults(file: string, results: unknown): Promise<void> {
  await mkdir(new URL('.', `file://${file}`).pathname, { recursive: true });
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
}
