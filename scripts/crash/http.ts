/**
 * The one way the crash test talks to the ledger: every request goes through `request`, which
 * carries the API key (`authorization: Bearer <key>`), so a change to how clients authenticate
 * is made here and nowhere else.
 */
export interface Answer {
  readonly status: number;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON, or the text when the body is not JSON. */
  readonly body: unknown;
}

export interface LedgerHttp {
  /** Resolves with any answer the ledger gives; rejects when none comes (refused, reset, timeout). */
  request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer>;
}

export function ledgerHttp(options: {
  /** e.g. `http://127.0.0.1:41234` */
  readonly baseUrl: string;
  /** An API key, `wl_<key id>_<secret>`. */
  readonly apiKey: string;
  readonly timeoutMs?: number;
}): LedgerHttp {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return {
    async request(method, path, body) {
      const response = await fetch(`${options.baseUrl}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${options.apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        // not JSON: kept as text
      }
      return {
        status: response.status,
        headers: Object.fromEntries(response.headers.entries()),
        body: parsed,
      };
    },
  };
}
