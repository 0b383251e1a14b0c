import { parseArgs } from 'node:util';

/** The workload: what a run without size overrides measures (and writes as results). */
export const PEER_DEFAULTS = { tickets: 20_000, sequential: 2000, runs: 3 } as const;
export const GROWTH_DEFAULT_MAX = 1_000_000;
const GROWTH_SMALLEST = 100_000;

export interface PeerOptions {
  readonly tickets: number;
  readonly sequential: number;
  readonly runs: number;
  readonly databaseUrl: string;
  /** True when a size was lowered: the figures are a check that it runs, not results. */
  readonly smoke: boolean;
}

export interface GrowthOptions {
  readonly sizes: readonly number[];
  readonly databaseUrl: string;
  readonly smoke: boolean;
}

export type BenchMode =
  | { readonly kind: 'peer'; readonly options: PeerOptions }
  | { readonly kind: 'growth'; readonly options: GrowthOptions };

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

/** 100 000, 1 000 000, … (×10) up to `max`, and `max` itself when it is not a power of ten. */
export function growthSizes(max: number): number[] {
  const sizes: number[] = [];
  for (let size = GROWTH_SMALLEST; size <= max; size *= 10) sizes.push(size);
  if (sizes.at(-1) !== max && max > GROWTH_SMALLEST) sizes.push(max);
  return sizes.length > 0 ? sizes : [max];
}

/**
 * The options of `npm run bench -- --peer` and `-- --growth` (strict: a misspelt option fails
 * rather than silently running the full size on a shared machine).
 */
export function parseModeArgs(argv: readonly string[] = process.argv.slice(2)): BenchMode {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      peer: { type: 'boolean', default: false },
      growth: { type: 'boolean', default: false },
      tickets: { type: 'string' },
      sequential: { type: 'string' },
      runs: { type: 'string' },
      'growth-max': { type: 'string' },
      'growth-sizes': { type: 'string' },
      'database-url': {
        type: 'string',
        default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      },
    },
  });
  if (values.peer === values.growth) throw new Error('pass exactly one of --peer and --growth');
  const databaseUrl = values['database-url'];
  if (values.peer) {
    const tickets = positiveInt('tickets', values.tickets, PEER_DEFAULTS.tickets);
    const sequential = positiveInt('sequential', values.sequential, PEER_DEFAULTS.sequential);
    const runs = positiveInt('runs', values.runs, PEER_DEFAULTS.runs);
    const smoke =
      tickets < PEER_DEFAULTS.tickets ||
      sequential < PEER_DEFAULTS.sequential ||
      runs < PEER_DEFAULTS.runs;
    return { kind: 'peer', options: { tickets, sequential, runs, databaseUrl, smoke } };
  }
  const max = positiveInt('growth-max', values['growth-max'], GROWTH_DEFAULT_MAX);
  const explicit = values['growth-sizes'];
  const sizes =
    explicit === undefined
      ? growthSizes(max)
      : explicit.split(',').map((s) => positiveInt('growth-sizes', s.trim(), 0));
  const ascending = [...new Set(sizes)].sort((a, b) => a - b);
  return {
    kind: 'growth',
    options: {
      sizes: ascending,
      databaseUrl,
      smoke: (ascending.at(-1) ?? 0) < GROWTH_DEFAULT_MAX,
    },
  };
}
