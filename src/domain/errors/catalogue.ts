/**
 * The one catalogue of the ledger's error codes. Each code is stable (clients and docs key on it),
 * carries a short title and the HTTP status the API answers with. `docs/errors.md` lists the same
 * codes; a test keeps the two in step.
 */
export const errorCatalogue = {
  LEDGER_ERR_INVALID_INPUT: { status: 400, title: 'The input is not valid' },
  LEDGER_ERR_NOT_FOUND: { status: 404, title: 'Not found' },
  LEDGER_ERR_WRONG_EXPECTED_REVISION: {
    status: 409,
    title: "The stream's revision is not the one expected",
  },
  LEDGER_ERR_EVENT_ID_CONFLICT: {
    status: 409,
    title: 'An event with this id is already stored with other content or at another place',
  },
  LEDGER_ERR_STORE_UNAVAILABLE: { status: 503, title: 'The event store cannot be reached' },
  LEDGER_ERR_INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/** Base of every typed error the ledger raises on purpose. */
export class LedgerError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Machine-readable details (the field that is wrong, the actual revision, …). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.details = details;
  }
}

/** Bad input: names the field (a JSON path such as `events[2].id`) that is wrong. */
export class InvalidInputError extends LedgerError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('LEDGER_ERR_INVALID_INPUT', message, { field });
    this.field = field;
  }
}
