/** A one-line progress bar on stderr (a terminal redraws it; a log file gets a line per step). */
export function progressBar(label: string): (done: number, total: number) => void {
  const started = performance.now();
  let lastDrawn = 0;
  return (done, total) => {
    const now = performance.now();
    if (done < total && now - lastDrawn < 200) return;
    lastDrawn = now;
    const share = total === 0 ? 1 : done / total;
    const width = 30;
    const filled = Math.round(share * width);
    const rate = done / Math.max(0.001, (now - started) / 1000);
    const line =
      `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` +
      `${(share * 100).toFixed(0)}% ${done}/${total} events, ${Math.round(rate)} events/s`;
    process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
    if (done >= total && process.stderr.isTTY) process.stderr.write('\n');
  };
}
