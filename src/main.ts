import { buildApp } from './api/app.js';
import { ConfigurationError, parseConfig } from './runtime/config.js';
import { openLedger } from './runtime/open-ledger.js';

/** `npm start`: parse the configuration once, open the ledger, serve the API until signalled. */
async function main(): Promise<void> {
  const config = parseConfig(process.env);
  const ledger = await openLedger(config);
  const app = buildApp({ store: ledger.store, logger: true });
  await app.listen({ host: config.HOST, port: config.PORT });
  console.log(
    `Waste ledger: ${ledger.description}; head position ${await ledger.store.headPosition()}`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: closing`);
    await app.close();
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
