import type { RouteAccess } from '../../access/roles.js';

/**
 * The access each kind of route declares, in one place so that the API's policy reads as a
 * table (README, Access control). `admin` is admitted everywhere without being listed.
 */
export const access = {
  /** Health, the API documentation, the audit public keys: no key needed. */
  public: 'public',
  /** Posting weighbridge and trip reports (a station only for its own sites). */
  report: { roles: ['station'] },
  /** One ticket's history: its station, regulators (their districts), auditors. */
  ticket: { roles: ['station', 'regulator', 'auditor'] },
  /** Read models, reports, indicators and findings (a regulator maybe limited to districts). */
  read: { roles: ['regulator', 'auditor'] },
  /** Plans, rule sets and registered master data: reference data any key may read. */
  reference: { roles: ['station', 'regulator', 'auditor'] },
  /** The log itself: seals, verification, export. */
  audit: { roles: ['auditor'] },
  /** Master data writes and API keys. */
  admin: { roles: ['admin'] },
} as const satisfies Record<string, RouteAccess>;
