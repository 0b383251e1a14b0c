import { pgliteHarness } from '../support/databases.js';
import { describeConcurrencySuite } from './concurrency-suite.js';

describeConcurrencySuite(pgliteHarness);
