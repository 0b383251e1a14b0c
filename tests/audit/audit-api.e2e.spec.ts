import { describe } from 'vitest';
import { postgresAvailable, postgresHarness } from '../support/databases.js';
import { describeAuditApiSuite } from './audit-api-suite.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeAuditApiSuite(postgresHarness);
});
