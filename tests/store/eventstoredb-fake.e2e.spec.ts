import { afterAll, describe } from 'vitest';
import {
  closeSharedProtocolFake,
  eventStoreDbHarness,
  sharedProtocolFake,
} from '../support/eventstoredb.js';
import { describeEventStoreContract } from './contract.js';

/*
 * The EventStoreDB adapter against the protocol fake: an in-test gRPC server speaking
 * EventStoreDB's Streams protocol (tests/support/esdb-protocol-fake). It proves the adapter's
 * requests and its handling of the answers; it does not prove EventStoreDB's own behaviour
 * (see eventstoredb-real.e2e.spec.ts, run when EVENTSTORE_URL is set).
 */
describe('EventStoreDB adapter on the protocol fake', () => {
  afterAll(closeSharedProtocolFake);
  describeEventStoreContract(
    eventStoreDbHarness(async () => (await sharedProtocolFake()).connectionString),
  );
});
