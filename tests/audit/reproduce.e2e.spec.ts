import { describe } from 'vitest';
import { postgresAvailable, postgresHarness } from '../support/databases.js';
import { describeReproduceSuite } from './reproduce-suite.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeReproduceSuite(postgresHarness);
});
