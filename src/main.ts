import { buildApp } from './api/app.js';
import { dailyTonnage } from './projections/daily-tonnage/projection.js';
import { findings } from './projections/findings/projection.js';
import { complianceFacts } from './projections/compliance-facts/projection.js';
import { ProjectionRunner } from './projections/runner/runner.js';
import { ConfigurationError, parseConfig } from './runtime/config.js';
import { openLedger } from './runtime/open-ledger.js';

/** How often an idle projection looks for new events (read-your-writes waits at most this). */
const PROJECTION_IDLE_MS = 50;

/** `npm start`: parse the configuration once, open the ledger, serve the API until signalled. */
async function main(): Promise<void> {
  const started = Date.now();
  const config = parseConfig(process.env);
  const ledger = await openLedger(config);
  let shuttingDown = false;
  const app = await buildApp({
    store: ledger.store,
    db: ledger.db,
    timeZone: config.LEDGER_TIMEZONE,
    logger: true,
    isShuttingDown: () => shuttingDown,
  });

  const projections = new AbortController();
  const runners = [dailyTonnage, findings, complianceFacts].map(
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
    await running;
    await ledger.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigurationError ? error.message : error);
  process.exit(1);
});
