import { buildApp } from './api/app.js';
import { loadOrCreateSealingKey } from './audit/seal-key-file.js';
import { Sealer } from './audit/sealer.js';
import { ledgerProjections } from './projections/ledger-projections.js';
import { ProjectionRunner } from './projections/runner/runner.js';
import { ConfigurationError, parseConfig } from './runtime/config.js';
import { announceFirstAdminKey, ensureAdminKeys } from './runtime/admin-keys.js';
import { openLedger } from './runtime/open-ledger.js';

/** How often an idle projection looks for new events (read-your-writes waits at most this). */
const PROJECTION_IDLE_MS = 50;

/** `npm start`: parse the configuration once, open the ledger, serve the API until signalled. */
async function main(): Promise<void> {
  const started = Date.now();
  const config = parseConfig(process.env);
  const ledger = await openLedger(config);
  const { key, created } = await loadOrCreateSealingKey(config.LEDGER_SEAL_KEY_FILE);
  const sealer = new Sealer(ledger.store, key);
  try {
    await sealer.registerKey();
  } catch (error) {
    await ledger.close();
    throw new ConfigurationError(
      `Invalid configuration:\n  LEDGER_SEAL_KEY_FILE: ${(error as Error).message}`,
    );
  }
  if (created) announceNewKey(config.LEDGER_SEAL_KEY_FILE, key.keyId, key.publicKey);
  let firstAdminKey;
  try {
    firstAdminKey = await ensureAdminKeys(ledger.keys, config);
  } catch (error) {
    await ledger.close();
    throw error;
  }
  if (firstAdminKey !== undefined) console.log(announceFirstAdminKey(firstAdminKey));
  let shuttingDown = false;
  const app = await buildApp({
    store: ledger.store,
    db: ledger.db,
    timeZone: config.LEDGER_TIMEZONE,
    keys: ledger.keys,
    limits: {
      rateLimitPerMinute: config.LEDGER_RATE_LIMIT_PER_MINUTE,
      requestTimeoutMs: config.LEDGER_REQUEST_TIMEOUT_SECONDS * 1000,
      handlerTimeoutMs: config.LEDGER_HANDLER_TIMEOUT_SECONDS * 1000,
      connectionTimeoutMs: config.LEDGER_CONNECTION_TIMEOUT_SECONDS * 1000,
      corsOrigins: config.LEDGER_CORS_ORIGINS ?? [],
    },
    logger: true,
    isShuttingDown: () => shuttingDown,
    sealer,
  });

  const projections = new AbortController();
  const runners = ledgerProjections.map(
    (projection) =>
      new ProjectionRunner<string>({
        store: ledger.store,
        db: ledger.db,
        projection: projection,
        onError: (error) =>
          app.log.error({ err: error }, `${projection.name} projection batch failed; retrying`),
      }),
  );
  for (const runner of runners) await runner.setup();
  const running = Promise.all(runners.map((r) => r.run(projections.signal, PROJECTION_IDLE_MS)));

  // Periodic seals: one at a time (a slow seal over a long unsealed log is not started twice).
  let sealing: Promise<unknown> = Promise.resolve();
  const sealTimer =
    config.LEDGER_SEAL_EVERY_SECONDS === 0
      ? undefined
      : setInterval(() => {
          sealing = sealing.then(() =>
            sealer
              .seal()
              .catch((error: unknown) =>
                app.log.error({ err: error }, 'sealing failed; will retry'),
              ),
          );
        }, config.LEDGER_SEAL_EVERY_SECONDS * 1000);

  await app.listen({ host: config.HOST, port: config.PORT });
  const head = await ledger.store.headPosition();
  console.log(
    `Waste ledger ready in ${Date.now() - started} ms: ${ledger.description}; head position ${head}; ` +
      `business days in ${config.LEDGER_TIMEZONE}. API docs: http://${config.HOST}:${config.PORT}/docs`,
  );

  const stop = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log(`${signal}: finishing in-flight requests, then closing`);
    // fastify stops accepting connections and waits for the requests in flight.
    await app.close();
    projections.abort();
    clearInterval(sealTimer);
    await Promise.all([running, sealing]);
    await ledger.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** A new key is a new identity: auditors must be given its public key, and it must be kept. */
function announceNewKey(file: string, keyId: string, publicKey: string): void {
  const bar = '='.repeat(78);
  console.log(
    [
      bar,
      `A NEW SEALING KEY was generated: ${file} (key id ${keyId}).`,
      'It signs every seal of this ledger. Back it up and keep it secret; give auditors its public key:',
      `  ${publicKey}`,
      '(also at GET /v1/audit/keys). Losing it means later seals are signed by a key nobody endorsed.',
      bar,
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigurationError ? error.message : error);
  process.exit(1);
});
