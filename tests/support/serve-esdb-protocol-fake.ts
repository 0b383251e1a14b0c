/**
 * Runs the EventStoreDB protocol fake on its own, for trying the ledger or the store benchmark
 * against the EventStoreDB adapter where no EventStoreDB can run:
 *
 *   npx tsx tests/support/serve-esdb-protocol-fake.ts      prints EVENTSTORE_URL=esdb://…
 *
 * The fake keeps everything in memory (nothing survives it) and is not EventStoreDB: figures
 * measured against it are the adapter's and the index's costs, not EventStoreDB's.
 */
import { startEsdbProtocolFake } from './esdb-protocol-fake/index.js';

const fake = await startEsdbProtocolFake();
console.log(`EVENTSTORE_URL=${fake.connectionString}`);
console.log('EventStoreDB protocol fake (in memory, for tests and trials only); Ctrl-C stops it.');
const stop = () => {
  void fake.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
