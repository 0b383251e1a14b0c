import { complianceFacts } from './compliance-facts/projection.js';
import { dailyTonnage } from './daily-tonnage/projection.js';
import { findings } from './findings/projection.js';
import type { Projection } from './runner/projection.js';

/** Every read model the ledger runs, by name: the server runs them, auditors replay them. */
export const ledgerProjections: readonly Projection[] = [
  dailyTonnage,
  findings,
  complianceFacts,
] as readonly Projection[];
