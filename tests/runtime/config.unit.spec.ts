import { describe, expect, it } from 'vitest';
import { ConfigurationError, parseConfig } from '../../src/runtime/config.js';

describe('configuration', () => {
  it('defaults to the embedded database', () => {
    expect(parseConfig({})).toEqual({
      LEDGER_ESDB_NAMESPACE: 'ledger',
      LEDGER_DB_SCHEMA: 'ledger',
      LEDGER_DATA_DIR: './data/ledger',
      LEDGER_TIMEZONE: 'Asia/Shanghai',
      LEDGER_SEAL_KEY_FILE: './data/seal-key.pem',
      LEDGER_SEAL_EVERY_SECONDS: 60,
      LEDGER_FIRST_ADMIN_KEY_FILE: './data/first-admin-key',
      LEDGER_RATE_LIMIT_PER_MINUTE: 6000,
      LEDGER_REQUEST_TIMEOUT_SECONDS: 30,
      LEDGER_HANDLER_TIMEOUT_SECONDS: 120,
      LEDGER_CONNECTION_TIMEOUT_SECONDS: 0,
      HOST: '127.0.0.1',
      PORT: 3000,
    });
  });

  it('takes a PostgreSQL connection string and ignores unrelated variables', () => {
    expect(
      parseConfig({ DATABASE_URL: 'postgres://u@db:5432/ledger', PATH: '/bin', PORT: '8080' }),
    ).toEqual({
      DATABASE_URL: 'postgres://u@db:5432/ledger',
      LEDGER_ESDB_NAMESPACE: 'ledger',
      LEDGER_DB_SCHEMA: 'ledger',
      LEDGER_DATA_DIR: './data/ledger',
      LEDGER_TIMEZONE: 'Asia/Shanghai',
      LEDGER_SEAL_KEY_FILE: './data/seal-key.pem',
      LEDGER_SEAL_EVERY_SECONDS: 60,
      LEDGER_FIRST_ADMIN_KEY_FILE: './data/first-admin-key',
      LEDGER_RATE_LIMIT_PER_MINUTE: 6000,
      LEDGER_REQUEST_TIMEOUT_SECONDS: 30,
      LEDGER_HANDLER_TIMEOUT_SECONDS: 120,
      LEDGER_CONNECTION_TIMEOUT_SECONDS: 0,
      HOST: '127.0.0.1',
      PORT: 8080,
    });
  });

  it("takes an EventStoreDB connection string beside the read models' PostgreSQL", () => {
    const config = parseConfig({
      EVENTSTORE_URL: 'esdb://127.0.0.1:2113?tls=false',
      DATABASE_URL: 'postgres://u@db:5432/ledger',
      LEDGER_ESDB_NAMESPACE: 'jinan',
    });
    expect(config.EVENTSTORE_URL).toBe('esdb://127.0.0.1:2113?tls=false');
    expect(config.DATABASE_URL).toBe('postgres://u@db:5432/ledger');
    expect(config.LEDGER_ESDB_NAMESPACE).toBe('jinan');
    expect(
      parseConfig({ EVENTSTORE_URL: 'esdb+discover://a:2113,b:2113?tls=false' }).EVENTSTORE_URL,
    ).toBe('esdb+discover://a:2113,b:2113?tls=false');
  });

  it('explains a wrong EventStoreDB connection string or namespace', () => {
    expect(() =>
      parseConfig({ EVENTSTORE_URL: 'http://127.0.0.1:2113', LEDGER_ESDB_NAMESPACE: 'Jinan!' }),
    ).toThrow(
      'Invalid configuration:\n' +
        '  EVENTSTORE_URL: must be an esdb:// or esdb+discover:// connection string, e.g. esdb://127.0.0.1:2113?tls=false\n' +
        '  LEDGER_ESDB_NAMESPACE: must be lower-case letters, digits, _ or -, up to 40',
    );
  });

  it('refuses a negative sealing interval, naming the variable', () => {
    expect(() => parseConfig({ LEDGER_SEAL_EVERY_SECONDS: '-5' })).toThrow(
      /LEDGER_SEAL_EVERY_SECONDS: /,
    );
  });

  it('refuses an unknown time zone', () => {
    expect(() => parseConfig({ LEDGER_TIMEZONE: 'Mars/Olympus' })).toThrow(
      'Invalid configuration:\n  LEDGER_TIMEZONE: must be an IANA time zone such as Asia/Shanghai',
    );
  });

  it('takes an admin key, limits and CORS origins', () => {
    const key = `wl_0123456789abcdef_${'A'.repeat(43)}`;
    const config = parseConfig({
      LEDGER_ADMIN_KEY: key,
      LEDGER_RATE_LIMIT_PER_MINUTE: '120',
      LEDGER_REQUEST_TIMEOUT_SECONDS: '10',
      LEDGER_HANDLER_TIMEOUT_SECONDS: '600',
      LEDGER_CONNECTION_TIMEOUT_SECONDS: '900',
      LEDGER_CORS_ORIGINS: 'https://dashboard.example.org, http://127.0.0.1:5173',
    });
    expect(config).toMatchObject({
      LEDGER_ADMIN_KEY: key,
      LEDGER_RATE_LIMIT_PER_MINUTE: 120,
      LEDGER_REQUEST_TIMEOUT_SECONDS: 10,
      LEDGER_HANDLER_TIMEOUT_SECONDS: 600,
      LEDGER_CONNECTION_TIMEOUT_SECONDS: 900,
      LEDGER_CORS_ORIGINS: ['https://dashboard.example.org', 'http://127.0.0.1:5173'],
    });
  });

  it('explains a wrong admin key, limit or origin', () => {
    expect(() =>
      parseConfig({
        LEDGER_ADMIN_KEY: 'secret',
        LEDGER_RATE_LIMIT_PER_MINUTE: '0',
        LEDGER_REQUEST_TIMEOUT_SECONDS: 'soon',
        LEDGER_CONNECTION_TIMEOUT_SECONDS: '1.5',
        LEDGER_CORS_ORIGINS: 'dashboard.example.org',
      }),
    ).toThrow(
      'Invalid configuration:\n' +
        '  LEDGER_ADMIN_KEY: must be an API key: wl_<16 hex digits>_<43 base64url characters>\n' +
        '  LEDGER_RATE_LIMIT_PER_MINUTE: must be a whole number from 1 to 10000000 requests\n' +
        '  LEDGER_REQUEST_TIMEOUT_SECONDS: must be a whole number from 1 to 3600 seconds\n' +
        '  LEDGER_CONNECTION_TIMEOUT_SECONDS: must be a whole number from 0 to 86400 seconds (0: no limit)\n' +
        '  LEDGER_CORS_ORIGINS: must be comma-separated origins such as https://dashboard.example.org,http://127.0.0.1:5173',
    );
  });

  it('explains every problem at once', () => {
    expect(() =>
      parseConfig({ DATABASE_URL: 'mysql://x', PORT: '70000', LEDGER_DB_SCHEMA: 'Bad-Name' }),
    ).toThrow(ConfigurationError);
    try {
      parseConfig({ DATABASE_URL: 'mysql://x', PORT: '70000', LEDGER_DB_SCHEMA: 'Bad-Name' });
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain(
        'DATABASE_URL: must be a postgres:// or postgresql:// connection string',
      );
      expect(message).toContain('LEDGER_DB_SCHEMA: must be a lower-case SQL identifier');
      expect(message).toContain('PORT:');
    }
  });
});
