/**
 * The one catalogue of the ledger's error codes. Each code is stable (clients and docs key on it),
 * carries a short title and the HTTP status the API answers with. `docs/errors.md` lists the same
 * codes; a test keeps the two in step.
 */
export const errorCatalogue = {
  LEDGER_ERR_INVALID_INPUT: { status: 400, title: 'The input is not valid' },
  LEDGER_ERR_UNAUTHENTICATED: {
    status: 401,
    title: 'No valid API key: send Authorization: Bearer <key>',
  },
  LEDGER_ERR_FORBIDDEN: { status: 403, title: "The API key's role or scope does not allow this" },
  LEDGER_ERR_NOT_FOUND: { status: 404, title: 'Not found' },
  LEDGER_ERR_WRONG_EXPECTED_REVISION: {
    status: 409,
    title: "The stream's revision is not the one expected",
  },
  LEDGER_ERR_EVENT_ID_CONFLICT: {
    status: 409,
    title: 'An event with this id is already stored with other content or at another place',
  },
  LEDGER_ERR_UNKNOWN_SITE: { status: 422, title: 'The site is not registered' },
  LEDGER_ERR_UNKNOWN_VEHICLE: { status: 422, title: 'The vehicle is not registered' },
  LEDGER_ERR_TARE_NOT_BELOW_GROSS: { status: 422, title: 'The tare is not below the gross weight' },
  LEDGER_ERR_OVER_LEGAL_LIMIT: {
    status: 422,
    title: "The gross weight is above the vehicle's legal limit",
  },
  LEDGER_ERR_NOT_ACCEPTED: { status: 422, title: 'The site does not accept this material' },
  LEDGER_ERR_SITE_NOT_VALID: { status: 422, title: "The site's permit does not cover this day" },
  LEDGER_ERR_TIME_IN_FUTURE: {
    status: 422,
    title: "The time is more than 10 minutes ahead of the ledger's clock",
  },
  LEDGER_ERR_OUT_OF_ORDER: { status: 422, title: 'The report is out of order' },
  LEDGER_ERR_TICKET_NOT_OPEN: { status: 409, title: 'The ticket is not open' },
  LEDGER_ERR_TICKET_NOT_WEIGHED: { status: 409, title: 'The ticket has no complete weighing' },
  LEDGER_ERR_TICKET_VOIDED: { status: 409, title: 'The ticket is voided' },
  LEDGER_ERR_TICKET_NUMBER_REUSED: {
    status: 409,
    title: 'The ticket number is already used with other content',
  },
  LEDGER_ERR_PLATE_HAS_OPEN_TICKET: {
    status: 409,
    title: 'The vehicle already has an open ticket at this site',
  },
  LEDGER_ERR_RATE_LIMITED: { status: 429, title: 'Too many requests for this API key' },
  LEDGER_ERR_NOT_CAUGHT_UP: {
    status: 503,
    title: 'The projection has not reached the requested position yet',
  },
  LEDGER_ERR_STORE_UNAVAILABLE: { status: 503, title: 'The event store cannot be reached' },
  LEDGER_ERR_SEALING_UNAVAILABLE: { status: 503, title: 'This server holds no sealing key' },
  LEDGER_ERR_TIMED_OUT: { status: 503, title: 'The ledger did not answer in time' },
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

/** A business rule the command breaks: nothing is written, the code says which rule. */
export class RuleViolation extends LedgerError {
  readonly field: string | undefined;
  constructor(
    code: ErrorCode,
    message: string,
    field?: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, message, field === undefined ? details : { field, ...details });
    this.field = field;
  }
}
