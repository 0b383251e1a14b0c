import { z } from 'zod';
import { API_KEY_PATTERN, API_KEY_SHAPE } from '../access/api-key.js';
import { isKnownTimeZone } from '../domain/shared/time.js';

/** `https://dashboard.example.org`, `http://127.0.0.1:5173`: a scheme, a host, maybe a port. */
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

const splitList = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** A whole number from min to max, with one message for every way of getting it wrong. */
const wholeNumber = (min: number, max: number, unit: string) => {
  const message = `must be a whole number from ${min} to ${max} ${unit}`;
  return z.coerce.number({ error: message }).int(message).min(min, message).max(max, message);
};

/** Everything the ledger reads from its environment, parsed once at start. */
export const configSchema = z
  .object({
    /** A PostgreSQL connection string; without it the embedded PGlite database is used. */
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection string')
      .optional(),
    /**
     * An EventStoreDB (KurrentDB) connection string: the log then lives there, and the read
     * models in DATABASE_URL's PostgreSQL (or the embedded one without it).
     */
    EVENTSTORE_URL: z
      .string()
      .regex(
        /^(esdb|esdb\+discover|kurrentdb|kurrentdb\+discover):\/\/\S+$/,
        'must be an esdb:// or esdb+discover:// connection string, e.g. esdb://127.0.0.1:2113?tls=false',
      )
      .optional(),
    /** Prefix of the ledger's stream names in EventStoreDB (`<namespace>:<stream>`). */
    LEDGER_ESDB_NAMESPACE: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,39}$/, 'must be lower-case letters, digits, _ or -, up to 40')
      .default('ledger'),
    /** Schema for the log and read models on PostgreSQL. */
    LEDGER_DB_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
      .default('ledger'),
    /** Folder of the embedded database (PGlite). */
    LEDGER_DATA_DIR: z.string().min(1).default('./data/ledger'),
    /** IANA time zone whose calendar days are business days. */
    LEDGER_TIMEZONE: z
      .string()
      .refine(isKnownTimeZone, 'must be an IANA time zone such as Asia/Shanghai')
      .default('Asia/Shanghai'),
    /** Ed25519 private key (PEM) that signs seals; generated on first start if missing. */
    LEDGER_SEAL_KEY_FILE: z.string().min(1).default('./data/seal-key.pem'),
    /** Seconds between automatic seals of the log; 0 turns the periodic seal off. */
    LEDGER_SEAL_EVERY_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
    /**
     * Where the first admin key is written (mode 0600) when the ledger starts with no key at
     * all, so that `npm run simulate` on the same machine finds it.
     */
    LEDGER_FIRST_ADMIN_KEY_FILE: z.string().min(1).default('./data/first-admin-key'),
    /** An admin key the ledger makes sure exists at start (scripts, CI, containers). */
    LEDGER_ADMIN_KEY: z
      .string()
      .regex(API_KEY_PATTERN, `must be an API key: ${API_KEY_SHAPE}`)
      .optional(),
    /** Requests per minute per API key (per address without one). */
    LEDGER_RATE_LIMIT_PER_MINUTE: wholeNumber(1, 10_000_000, 'requests').default(6000),
    /** Seconds a client has to send a whole request (headers and body). */
    LEDGER_REQUEST_TIMEOUT_SECONDS: wholeNumber(1, 3600, 'seconds').default(30),
    /** Seconds the ledger has to answer a request (verification and export: an hour). */
    LEDGER_HANDLER_TIMEOUT_SECONDS: wholeNumber(1, 3600, 'seconds').default(120),
    /** Seconds a connection may stay silent before it is closed; 0: no limit. */
    LEDGER_CONNECTION_TIMEOUT_SECONDS: wholeNumber(0, 86_400, 'seconds (0: no limit)').default(0),
    /** Comma-separated origins allowed to call the API from a browser; unset: CORS off. */
    LEDGER_CORS_ORIGINS: z
      .string()
      .refine((value) => {
        const origins = splitList(value);
        return origins.length > 0 && origins.every((origin) => ORIGIN.test(origin));
      }, 'must be comma-separated origins such as https://dashboard.example.org,http://127.0.0.1:5173')
      .transform(splitList)
      .optional(),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  })
  .strict();

export type LedgerConfig = z.infer<typeof configSchema>;

/** Thrown at start with every problem in the configuration, one per line. */
export class ConfigurationError extends Error {}

export function parseConfig(env: NodeJS.ProcessEnv): LedgerConfig {
  const known = Object.fromEntries(
    Object.keys(configSchema.shape)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const parsed = configSchema.safeParse(known);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigurationError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
