import fc from 'fast-check';

/** One request designed to be refused. */
export interface HostileRequest {
  /** For the summary: the route as registered, e.g. `POST /v1/weighings`. */
  readonly route: string;
  /** What is wrong with it. */
  readonly what: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Sent to a route that writes: the log's head must not move. */
  readonly writes: boolean;
  /** A batch route: 200 with every item rejected is a refusal too (its documented answer). */
  readonly batch: boolean;
}

/** The body limit of the app (4 MiB). */
export const BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/** The request in a line or two: the start of its body, not 4 MiB of it. */
export function showRequest(request: HostileRequest): string {
  const body = request.body === undefined ? '' : ` ${request.body.slice(0, 2_000)}`;
  return `${request.method} ${request.url.slice(0, 300)} (${request.what}) ${JSON.stringify(request.headers)}${body}`;
}

export function hostile(request: HostileRequest): HostileRequest {
  // What fast-check prints for a counterexample.
  return Object.assign(request, { [fc.toStringMethod]: () => showRequest(request) });
}
