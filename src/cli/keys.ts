import { parseArgs } from 'node:util';
import { KEY_CACHE_TTL_MS, type KeyRecord } from '../access/key-store.js';
import { newKeySchema } from '../access/new-key.js';
import { roles } from '../access/roles.js';
import { ConfigurationError, parseConfig } from '../runtime/config.js';
import { openLedger } from '../runtime/open-ledger.js';

const USAGE = `Usage: npm run keys -- <command> [options]

Commands
  create --role <role>    create an API key and print it (once: it cannot be shown again)
    --sites a,b           a station key's sites (required for --role station)
    --districts a,b       a regulator key's districts (default: city-wide)
    --label <text>        who or what holds the key, shown in lists
  list [--json]           every key with its role, scope and state (never the secrets)
  revoke <keyId>          revoke a key: refused at once by new processes, within ${KEY_CACHE_TTL_MS / 1000} s by running servers

Roles: ${roles.join(', ')} (admin may do everything).
The database is the one \`npm start\` uses (DATABASE_URL, or the embedded folder LEDGER_DATA_DIR).
With the embedded database, stop the server first (one process at a time), or use the API with
an admin key: GET /v1/keys, POST /v1/keys, DELETE /v1/keys/<keyId>.
Exit status: 0 done, 1 no such key, 2 usage or configuration error.`;

class UsageError extends Error {}

const list = (value: string | undefined) =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');

function describe(record: KeyRecord): string {
  const scope =
    record.role === 'station'
      ? ` sites ${record.sites.join(', ')}`
      : record.role === 'regulator'
        ? record.districts.length === 0
          ? ' city-wide'
          : ` districts ${record.districts.join(', ')}`
        : '';
  const state = record.revokedAt === null ? 'active' : `REVOKED ${record.revokedAt}`;
  const label = record.label === '' ? '' : `  "${record.label}"`;
  return `${record.keyId}  ${record.role.padEnd(10)}${scope}  created ${record.createdAt}  ${state}${label}`;
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        role: { type: 'string' },
        sites: { type: 'string' },
        districts: { type: 'string' },
        label: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }

  // Arguments are checked before the database is opened: a typo costs no start-up.
  let run: (ledger: Awaited<ReturnType<typeof openLedger>>) => Promise<number>;
  switch (command) {
    case 'create': {
      if (rest.length > 0) throw new UsageError(`create takes no argument ${rest.join(' ')}`);
      if (values.role === undefined) throw new UsageError('create needs --role');
      const sites = list(values.sites);
      const districts = list(values.districts);
      const newKey = newKeySchema.safeParse({
        role: values.role,
        ...(sites === undefined ? {} : { sites }),
        ...(districts === undefined ? {} : { districts }),
        ...(values.label === undefined ? {} : { label: values.label }),
      });
      if (!newKey.success) {
        throw new UsageError(
          newKey.error.issues
            .map((issue) => `--${String(issue.path[0] ?? 'role')}: ${issue.message}`)
            .join('\n'),
        );
      }
      run = async (ledger) => {
        const { key, record } = await ledger.keys.create(newKey.data);
        console.log(describe(record));
        console.log(`\n  ${key}\n`);
        console.log(
          'Store this key now: the ledger keeps only its hash and cannot show it again.\n' +
            'Clients send it as `Authorization: Bearer <key>`.',
        );
        return 0;
      };
      break;
    }
    case 'list':
      if (rest.length > 0) throw new UsageError(`list takes no argument ${rest.join(' ')}`);
      run = async (ledger) => {
        const records = await ledger.keys.list();
        if (values.json) console.log(JSON.stringify(records, null, 2));
        else if (records.length === 0) console.log('No keys yet: `npm start` creates the first.');
        else for (const record of records) console.log(describe(record));
        return 0;
      };
      break;
    case 'revoke': {
      const [keyId, ...more] = rest;
      if (keyId === undefined || more.length > 0) {
        throw new UsageError('revoke needs exactly one key id (see `npm run keys -- list`)');
      }
      if (!/^[0-9a-f]{16}$/.test(keyId)) {
        throw new UsageError(
          `${keyId} is not a key id (16 hex digits, the part after wl_ in the key)`,
        );
      }
      run = async (ledger) => {
        const record = await ledger.keys.revoke(keyId);
        if (record === undefined) {
          console.error(`No key ${keyId}.`);
          return 1;
        }
        console.log(describe(record));
        return 0;
      };
      break;
    }
    default:
      throw new UsageError(`Unknown command ${command}`);
  }

  const ledger = await openLedger(parseConfig(process.env));
  try {
    return await run(ledger);
  } finally {
    await ledger.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (error instanceof ConfigurationError) {
      console.error(error.message);
      process.exitCode = 2;
    } else {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exitCode = 1;
    }
  },
);
