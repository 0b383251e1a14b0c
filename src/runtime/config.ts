import { z } from 'zod';
import { isKnownTimeZone } from '../domain/shared/time.js';

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
