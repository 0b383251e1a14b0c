import { pgliteHarness } from '../support/databases.js';
import { describeReproduceSuite } from './reproduce-suite.js';

describeReproduceSuite(pgliteHarness);
