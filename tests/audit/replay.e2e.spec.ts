import { describe } from 'vitest';
import { postgresAvailable, postgresHarness } from '../support/databases.js';
import { describeReplaySuite } from './replay-suite.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeReplaySuite(postgresHarness);
});
