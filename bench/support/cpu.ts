import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU seconds (user + system) used so far by a process, from /proc (Linux). Benchmarks print
 * where the CPU went, because on a 2-core machine the server, PostgreSQL and the clients share
 * it: a phase's throughput means little without knowing who was busy. Undefined off Linux.
 */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Linux reports CPU time in clock ticks; 100 per second on every common configuration. */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds used so far by every process named `postgres` (the server and its backends). */
export function postgresCpuSeconds(): number | undefined {
  let total = 0;
  let found = false;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue; // the process ended meanwhile
    }
    const seconds = processCpuSeconds(Number(pid));
    if (seconds === undefined) continue;
    total += seconds;
    found = true;
  }
  return found ? total : undefined;
}

/** CPU used by the server, PostgreSQL and this process between two snapshots. */
export interface CpuSplit {
  readonly serverSeconds?: number;
  readonly postgresSeconds?: number;
  readonly clientSeconds: number;
}

export function cpuSnapshot(serverPid: number | undefined): () => CpuSplit {
  const server0 = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
  const pg0 = postgresCpuSeconds();
  const client0 = process.cpuUsage();
  return () => {
    const server1 = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
    const pg1 = postgresCpuSeconds();
    const client = process.cpuUsage(client0);
    return {
      ...(server0 !== undefined && server1 !== undefined
        ? { serverSeconds: round(server1 - server0) }
        : {}),
      ...(pg0 !== undefined && pg1 !== undefined ? { postgresSeconds: round(pg1 - pg0) } : {}),
      clientSeconds: round((client.user + client.system) / 1e6),
    };
  };
}

const round = (n: number) => Math.round(n * 100) / 100;
