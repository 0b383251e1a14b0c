import {
  addDays,
  generateCityDay,
  type CityDay,
  type SimulatedItem,
} from '../../src/simulator/city.js';
import type { Answer, LedgerHttp } from './http.js';
import type { Random } from './random.js';

/** Where the ledger said an event is: what an acknowledgement promises. */
export interface Place {
  readonly streamId: string;
  readonly revision: number;
  readonly position: number;
}

/** Everything the ledger acknowledged (answered 2xx for), and answers that contradict each other. */
export class Acknowledgements {
  /** By the client's event id. */
  readonly events = new Map<string, Place>();
  /** Master data, by stream id (the ledger derives those events' ids). */
  readonly masterData = new Map<string, Place>();
  /** The same event acknowledged at two places: a lost or doubled write seen from outside. */
  readonly contradictions: string[] = [];

  event(eventId: string, place: Place): void {
    this.#record(this.events, eventId, place);
  }

  masterDataStream(place: Place): void {
    this.#record(this.masterData, place.streamId, place);
  }

  #record(into: Map<string, Place>, key: string, place: Place): void {
    const before = into.get(key);
    if (before === undefined) {
      into.set(key, place);
    } else if (before.position !== place.position || before.revision !== place.revision) {
      this.contradictions.push(
        `${key}: acknowledged at position ${before.position} (revision ${before.revision}), ` +
          `later at position ${place.position} (revision ${place.revision})`,
      );
    }
  }
}

/** What the clients saw, for the summary. */
export class LoadStats {
  requests = 0;
  /** Requests sent again after a failed attempt (no answer, 429 or 5xx). */
  resent = 0;
  /** Attempts that got no answer (connection refused or reset: the server was down). */
  noAnswer = 0;
  /** 503 answers (the server starting, stopping, or its database out of reach). */
  unavailable = 0;
  rateLimited = 0;
  /** Other 5xx answers: none is expected. */
  readonly serverErrors: string[] = [];
  /** Items the ledger refused, by problem code: none is expected from a generated day. */
  readonly rejections = new Map<string, number>();
  readonly rejectionSamples: string[] = [];
  /** Items acknowledged as duplicates: retries of writes whose first answer was lost. */
  duplicates = 0;

  reject(code: string, detail: string): void {
    this.rejections.set(code, (this.rejections.get(code) ?? 0) + 1);
    if (this.rejectionSamples.length < 10) this.rejectionSamples.push(`${code}: ${detail}`);
  }

  get rejected(): number {
    let n = 0;
    for (const count of this.rejections.values()) n += count;
    return n;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends a request until the ledger answers it with something other than 429 or 5xx, as a
 * weighbridge does: the server may be down (killed) or restarting. The same body each time, so
 * a write that went through before its answer was lost comes back as a duplicate. `abandon`
 * gives up (the run failed and the server is not coming back).
 */
export async function deliver(
  http: LedgerHttp,
  stats: LoadStats,
  abandon: AbortSignal,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<Answer> {
  stats.requests += 1;
  for (let attempt = 1; ; attempt += 1) {
    abandon.throwIfAborted();
    if (attempt > 1) stats.resent += 1;
    // Short: a refused connection costs nothing, and the server is back within seconds.
    let wait = Math.min(250, 25 * 2 ** attempt);
    try {
      const answer = await http.request(method, path, body);
      if (answer.status < 500 && answer.status !== 429) return answer;
      if (answer.status === 429) stats.rateLimited += 1;
      else if (answer.status === 503) stats.unavailable += 1;
      else if (stats.serverErrors.length < 20) {
        stats.serverErrors.push(
          `${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`,
        );
      }
      const retryAfter = Number(answer.headers['retry-after']);
      if (Number.isFinite(retryAfter) && retryAfter > 0) wait = Math.min(2_000, retryAfter * 1000);
    } catch {
      stats.noAnswer += 1;
    }
    await sleep(wait);
  }
}

interface Accepted {
  readonly status: 'recorded' | 'duplicate';
  readonly eventId: string;
  readonly streamId: string;
  readonly revision: number;
  readonly position: number;
}

interface ItemResult {
  readonly index: number;
  readonly eventId?: string;
  readonly status: 'recorded' | 'duplicate' | 'rejected';
  readonly streamId?: string;
  readonly revision?: number;
  readonly position?: number;
  readonly problem?: { readonly code?: string; readonly detail?: string };
}

function problemOf(body: unknown): { code: string; detail: string } {
  const p = (typeof body === 'object' && body !== null ? body : {}) as {
    code?: unknown;
    detail?: unknown;
  };
  return {
    code: typeof p.code === 'string' ? p.code : 'no code',
    detail: typeof p.detail === 'string' ? p.detail : JSON.stringify(body),
  };
}

/**
 * Simulated city days, one after another, each client taking the items of its own sites in
 * posting order (so that a weigh-out never overtakes its weigh-in), in slices of any size.
 */
export class CityFeed {
  readonly #days = new Map<number, readonly SimulatedItem[][]>();
  readonly #cursor: { day: number; index: number }[];
  readonly #owner: ReadonlyMap<string, number>;
  readonly first: CityDay;

  constructor(
    private readonly options: {
      readonly firstDate: string;
      readonly seed: number;
      readonly scale: number;
      readonly clients: number;
    },
  ) {
    this.first = generateCityDay({
      date: options.firstDate,
      seed: options.seed,
      scale: options.scale,
    });
    const siteIds = this.first.sites.map((s) => s.siteId).sort();
    if (options.clients > siteIds.length) {
      throw new RangeError(`at most ${siteIds.length} clients: one site has one client`);
    }
    this.#owner = new Map(siteIds.map((id, i) => [id, i % options.clients]));
    this.#cursor = Array.from({ length: options.clients }, () => ({ day: 0, index: 0 }));
  }

  /** Days generated so far. */
  get days(): number {
    return this.#days.size;
  }

  /** The client's next `count` items (fewer at the end of a day). */
  next(client: number, count: number): SimulatedItem[] {
    const cursor = this.#cursor[client];
    if (cursor === undefined) throw new Error(`no client ${client}`);
    for (;;) {
      const items = this.#itemsOf(cursor.day)[client] ?? [];
      if (cursor.index < items.length) {
        const slice = items.slice(cursor.index, cursor.index + count);
        cursor.index += slice.length;
        return slice;
      }
      cursor.day += 1;
      cursor.index = 0;
    }
  }

  #itemsOf(day: number): readonly SimulatedItem[][] {
    const known = this.#days.get(day);
    if (known !== undefined) return known;
    const city =
      day === 0
        ? this.first
        : generateCityDay({
            date: addDays(this.options.firstDate, day),
            seed: this.options.seed + day,
            scale: this.options.scale,
          });
    const byClient: SimulatedItem[][] = Array.from({ length: this.options.clients }, () => []);
    for (const item of city.items) byClient[this.#owner.get(item.data.siteId) ?? 0]?.push(item);
    this.#days.set(day, byClient);
    return byClient;
  }
}

/** Registers the city's districts, then its sites, then its vehicles, a few at a time. */
export async function registerMasterData(
  http: LedgerHttp,
  day: CityDay,
  acks: Acknowledgements,
  stats: LoadStats,
  concurrency: number,
  abandon: AbortSignal,
): Promise<void> {
  const phases: { path: string; bodies: readonly unknown[] }[] = [
    { path: '/v1/districts', bodies: day.districts },
    { path: '/v1/sites', bodies: day.sites },
    { path: '/v1/vehicles', bodies: day.vehicles },
  ];
  for (const { path, bodies } of phases) {
    let next = 0;
    const worker = async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const answer = await deliver(http, stats, abandon, 'POST', path, body);
        if (answer.status === 200 || answer.status === 201) {
          acks.masterDataStream(answer.body as Place);
        } else {
          const { code, detail } = problemOf(answer.body);
          stats.reject(code, `POST ${path} ${answer.status}: ${detail}`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
}

/**
 * One weighbridge client: posts its items as single reports or batches of random size until
 * told to stop, each request sent again until it is answered.
 */
export async function postUntilStopped(options: {
  readonly client: number;
  readonly http: LedgerHttp;
  readonly feed: CityFeed;
  readonly acks: Acknowledgements;
  readonly stats: LoadStats;
  readonly random: Random;
  readonly maxBatch: number;
  /** Share of requests that are one report (`POST /v1/weighings`) rather than a batch. */
  readonly singleShare: number;
  readonly stopped: () => boolean;
  readonly abandon: AbortSignal;
}): Promise<void> {
  const { http, feed, acks, stats, random, abandon } = options;
  while (!options.stopped()) {
    const single = random.chance(options.singleShare);
    const items = feed.next(options.client, single ? 1 : random.int(2, options.maxBatch));
    if (single) {
      const item = items[0];
      if (item === undefined) continue;
      const answer = await deliver(http, stats, abandon, 'POST', '/v1/weighings', item);
      if (answer.status === 200 || answer.status === 201) {
        const accepted = answer.body as Accepted;
        if (accepted.status === 'duplicate') stats.duplicates += 1;
        acks.event(item.eventId, accepted);
      } else {
        const { code, detail } = problemOf(answer.body);
        stats.reject(code, `${item.type} ${item.eventId}: ${detail}`);
      }
      continue;
    }
    const answer = await deliver(http, stats, abandon, 'POST', '/v1/weighings/batch', { items });
    if (answer.status !== 200) {
      const { code, detail } = problemOf(answer.body);
      for (const item of items)
        stats.reject(code, `batch ${answer.status}, ${item.eventId}: ${detail}`);
      continue;
    }
    const results = (answer.body as { results: readonly ItemResult[] }).results;
    for (const result of results) {
      const item = items[result.index];
      const eventId = result.eventId ?? item?.eventId ?? '?';
      if (result.status === 'rejected') {
        stats.reject(
          result.problem?.code ?? 'no code',
          `${item?.type ?? '?'} ${eventId}: ${result.problem?.detail ?? ''}`,
        );
        continue;
      }
      if (result.status === 'duplicate') stats.duplicates += 1;
      acks.event(eventId, {
        streamId: result.streamId ?? '?',
        revision: result.revision ?? -1,
        position: result.position ?? -1,
      });
    }
  }
}
