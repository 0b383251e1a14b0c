import { describe } from 'vitest';
import { EVENTSTORE_URL, eventStoreDbHarness } from '../support/eventstoredb.js';
import { describeEventStoreContract } from './contract.js';

const url = EVENTSTORE_URL;
if (url === undefined) {
  console.warn(
    'SKIPPED: EventStoreDB contract against a real server — EVENTSTORE_URL is not set ' +
      '(e.g. EVENTSTORE_URL=esdb://127.0.0.1:2113?tls=false; see README "Running at scale").',
  );
}

describe.skipIf(url === undefined)('EventStoreDB adapter on a real server', () => {
  describeEventStoreContract(eventStoreDbHarness(() => Promise.resolve(url ?? '')));
});
