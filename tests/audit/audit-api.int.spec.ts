import { pgliteHarness } from '../support/databases.js';
import { describeAuditApiSuite } from './audit-api-suite.js';

describeAuditApiSuite(pgliteHarness);
