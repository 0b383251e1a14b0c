import { pgliteHarness } from '../support/databases.js';
import { describeAuditSuite } from './audit-suite.js';

describeAuditSuite(pgliteHarness);
