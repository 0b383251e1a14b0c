import { describe } from 'vitest';
import { postgresAvailable, postgresHarness } from '../support/databases.js';
import { describeEventStoreContract } from './contract.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeEventStoreContract(postgresHarness);
});
