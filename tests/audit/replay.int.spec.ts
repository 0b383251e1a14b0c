import { pgliteHarness } from '../support/databases.js';
import { describeReplaySuite } from './replay-suite.js';

describeReplaySuite(pgliteHarness);
