import type { CityDay, SimulatedItem } from './city.js';

/**
 * Posts a simulated city day to a running ledger over HTTP: master data first (one POST per
 * district, site and vehicle; 409 means it is already there), then the weighbridge commands in
 * batches. Every item carries its event id, so a retried batch records nothing twice.
 *
 * @example
 * const summary = await postCityDay(day, { url: 'http://127.0.0.1:3000' });
 * summary.recorded; // 16 226 the first time, 0 (all duplicates) the second
 */

/** One answer of `POST /v1/weighings/batch`, per item. */
export interface BatchResult {
  readonly index: number;
  /** Missing when the item could not be read at all. */
  readonly eventId?: string;
  readonly status: 'recorded' | 'duplicate' | 'rejected';
  readonly streamId?: string;
  readonly revision?: number | string;
  /** Global log position, a number or (for very large logs) a decimal string. */
  readonly position?: number | string;
  /** Names of the findings recorded with the item (e.g. TareDriftFound). */
  readonly findings?: readonly string[];
  /** RFC 9457 problem details, for a rejected item. */
  readonly problem?: Problem;
}

export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly detail?: string;
  readonly code?: string;
  readonly [key: string]: unknown;
}

export interface RejectedItem {
  /** Index of the item in the whole day, not in its batch. */
  readonly index: number;
  readonly eventId: string | undefined;
  readonly type: SimulatedItem['type'];
  readonly problem: Problem | undefined;
}

export interface PostProgress {
  readonly phase: 'master-data' | 'weighings';
  readonly done: number;
  readonly total: number;
  readonly recorded: number;
  readonly duplicates: number;
  readonly rejected: number;
}

export interface PostSummary {
  /** Registered now, and already there (200 for the same body again, 409 for another). */
  readonly masterData: { readonly created: number; readonly existing: number };
  readonly items: number;
  readonly recorded: number;
  readonly duplicates: number;
  readonly rejected: number;
  /** Findings the ledger recorded alongside the items, by name. */
  readonly findings: Readonly<Record<string, number>>;
  /** The first few rejected items, with the ledger's problem details. */
  readonly rejections: readonly RejectedItem[];
  /** The largest log position among the answers (a read model caught up to it shows the day). */
  readonly largestPosition: bigint | undefined;
  /** The log's head after the last batch, as the ledger reported it. */
  readonly headPosition: bigint | undefined;
}

export interface PostOptions {
  /** Base URL of the ledger, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** Sent as `Authorization: Bearer <key>`: master data needs an admin key. */
  readonly apiKey?: string;
  readonly batchSize?: number;
  /** Attempts per request, the first included, before giving up on network errors and 5xx. */
  readonly maxAttempts?: number;
  /** Delay before the first retry; it doubles on each further one. */
  readonly retryDelayMs?: number;
  /** Time allowed for one request. */
  readonly timeoutMs?: number;
  /** Master-data requests in flight at once. */
  readonly concurrency?: number;
  /** How many rejected items to keep for the summary. */
  readonly keepRejections?: number;
  readonly onProgress?: (progress: PostProgress) => void;
  /** Defaults to the global `fetch`; tests pass their own. */
  readonly fetch?: typeof fetch;
}

/** The ledger could not be reached (connection refused, DNS, timeout) after every attempt. */
export class LedgerUnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      `Cannot reach the ledger at ${url} after ${attempts} attempt${attempts === 1 ? '' : 's'} (${describeCause(cause)}). Is it running? Start it with npm start`,
      { cause },
    );
    this.name = 'LedgerUnreachableError';
  }
}

/** The ledger answered with a status the poster does not expect. */
export class LedgerHttpError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method} ${url} answered ${status}: ${body.slice(0, 500)}`);
    this.name = 'LedgerHttpError';
  }
}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
  }
  return error.message;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Sender {
  /** Sends a JSON request, retrying network errors, 429 and 5xx; any other answer is returned. */
  send(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; text: string }>;
}

/** A small HTTP client for the ledger with bounded, exponential retries. */
export function ledgerClient(
  options: Pick<
    PostOptions,
    'url' | 'apiKey' | 'maxAttempts' | 'retryDelayMs' | 'timeoutMs' | 'fetch'
  >,
): Sender {
  const base = options.url.replace(/\/+$/, '');
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const retryDelayMs = options.retryDelayMs ?? 250;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const doFetch = options.fetch ?? fetch;
  const authorization: Record<string, string> =
    options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` };
  return {
    async send(method, path, body) {
      const url = `${base}${path}`;
      let lastError: unknown;
      let lastAnswer: { status: number; text: string } | undefined;
      /** What a 429 asked for (Retry-After), at most a minute: the rate limit's window. */
      let retryAfterMs = 0;
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        if (attempt > 1) await sleep(Math.max(retryAfterMs, retryDelayMs * 2 ** (attempt - 2)));
        retryAfterMs = 0;
        try {
          const response = await doFetch(url, {
            method,
            headers:
              body === undefined
                ? { accept: 'application/json', ...authorization }
                : {
                    accept: 'application/json',
                    'content-type': 'application/json',
                    ...authorization,
                  },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            signal: AbortSignal.timeout(timeoutMs),
          });
          const text = await response.text();
          if (response.status >= 500 || response.status === 429) {
            const retryAfter = Number(response.headers.get('retry-after'));
            if (Number.isFinite(retryAfter)) retryAfterMs = Math.min(60, retryAfter) * 1000;
            lastAnswer = { status: response.status, text };
            lastError = undefined;
            continue;
          }
          return { status: response.status, text };
        } catch (error) {
          lastError = error;
          lastAnswer = undefined;
        }
      }
      if (lastAnswer !== undefined) {
        throw new LedgerHttpError(method, url, lastAnswer.status, lastAnswer.text);
      }
      throw new LedgerUnreachableError(base, maxAttempts, lastError);
    },
  };
}

function parseJson(method: string, url: string, status: number, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new LedgerHttpError(method, url, status, `not JSON: ${text}`);
  }
}

function toPosition(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  return undefined;
}

const maxPosition = (a: bigint | undefined, b: bigint | undefined) =>
  a === undefined ? b : b === undefined ? a : a > b ? a : b;

function isResult(x: unknown): x is BatchResult {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return (
    typeof r.index === 'number' &&
    (r.eventId === undefined || typeof r.eventId === 'string') &&
    (r.findings === undefined ||
      (Array.isArray(r.findings) && r.findings.every((f) => typeof f === 'string'))) &&
    (r.status === 'recorded' || r.status === 'duplicate' || r.status === 'rejected')
  );
}

/** Posts master data then the items; resolves with the counts, rejects if the ledger fails. */
export async function postCityDay(day: CityDay, options: PostOptions): Promise<PostSummary> {
  const client = ledgerClient(options);
  const batchSize = options.batchSize ?? 500;
  const keep = options.keepRejections ?? 20;
  const report = options.onProgress ?? (() => undefined);

  // Master data, a few requests at a time.
  const masterData: { path: string; body: unknown }[] = [
    ...day.districts.map((body) => ({ path: '/v1/districts', body })),
    ...day.sites.map((body) => ({ path: '/v1/sites', body })),
    ...day.vehicles.map((body) => ({ path: '/v1/vehicles', body })),
  ];
  let created = 0;
  let existing = 0;
  let recorded = 0;
  let duplicates = 0;
  let rejected = 0;
  let next = 0;
  const progress = (phase: PostProgress['phase'], done: number, total: number) =>
    report({ phase, done, total, recorded, duplicates, rejected });
  const worker = async () => {
    while (next < masterData.length) {
      const entry = masterData[next++];
      if (entry === undefined) break;
      const { status, text } = await client.send('POST', entry.path, entry.body);
      if (status === 201) created++;
      else if (status === 200 || status === 409) existing++;
      else throw new LedgerHttpError('POST', `${options.url}${entry.path}`, status, text);
      progress('master-data', created + existing, masterData.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));

  // Weighings, batch by batch, in posting order.
  const rejections: RejectedItem[] = [];
  const findings: Record<string, number> = {};
  let largestPosition: bigint | undefined;
  let headPosition: bigint | undefined;
  const path = '/v1/weighings/batch';
  progress('weighings', 0, day.items.length);
  for (let start = 0; start < day.items.length; start += batchSize) {
    const batch = day.items.slice(start, start + batchSize);
    const { status, text } = await client.send('POST', path, { items: batch });
    const url = `${options.url}${path}`;
    if (status !== 200) throw new LedgerHttpError('POST', url, status, text);
    const answer = parseJson('POST', url, status, text) as {
      results?: unknown;
      headPosition?: unknown;
    };
    const results = Array.isArray(answer.results) ? answer.results : undefined;
    if (results === undefined || !results.every(isResult) || results.length !== batch.length) {
      throw new LedgerHttpError(
        'POST',
        url,
        status,
        `expected ${batch.length} results, got: ${text.slice(0, 300)}`,
      );
    }
    // `index` is the item's place in the batch; the event id says it for sure.
    const indexOf = new Map(batch.map((item, i) => [item.eventId, i]));
    for (const result of results) {
      largestPosition = maxPosition(largestPosition, toPosition(result.position));
      for (const finding of result.findings ?? []) findings[finding] = (findings[finding] ?? 0) + 1;
      if (result.status === 'recorded') recorded++;
      else if (result.status === 'duplicate') duplicates++;
      else {
        rejected++;
        const index =
          (result.eventId === undefined ? undefined : indexOf.get(result.eventId)) ?? result.index;
        const item = batch[index];
        if (rejections.length < keep && item !== undefined) {
          rejections.push({
            index: start + index,
            eventId: result.eventId ?? item.eventId,
            type: item.type,
            problem: result.problem,
          });
        }
      }
    }
    headPosition = maxPosition(headPosition, toPosition(answer.headPosition));
    progress('weighings', Math.min(start + batchSize, day.items.length), day.items.length);
  }

  return {
    masterData: { created, existing },
    items: day.items.length,
    recorded,
    duplicates,
    rejected,
    findings,
    rejections,
    largestPosition,
    headPosition,
  };
}
