import { describe } from 'vitest';
import { postgresAvailable, postgresHarness } from '../support/databases.js';
import { describeAuditSuite } from './audit-suite.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeAuditSuite(postgresHarness);
});
