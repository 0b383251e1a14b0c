import { LedgerError } from '../domain/errors/catalogue.js';
import type { Principal } from './roles.js';

/**
 * Scope within a role: a station acts only for its own sites, a regulator limited to districts
 * reads only those. Roles decide which routes a key reaches; these checks decide which data.
 * Each throws LEDGER_ERR_FORBIDDEN (403) naming what the key may do instead.
 */

/** A station key must name one of its sites; other roles are not limited by site. */
export function assertSiteInScope(principal: Principal, siteId: string | undefined): void {
  if (principal.role !== 'station') return;
  if (siteId !== undefined && principal.sites.includes(siteId)) return;
  throw new LedgerError(
    'LEDGER_ERR_FORBIDDEN',
    siteId === undefined
      ? `Key ${principal.keyId} is a station key: it may post only reports that name one of its sites (${principal.sites.join(', ')})`
      : `Key ${principal.keyId} may not act for site ${siteId} (its sites: ${principal.sites.join(', ')})`,
    { keyId: principal.keyId, ...(siteId === undefined ? {} : { siteId }) },
  );
}

/**
 * A regulator limited to districts must ask for one of them (`districtId`); asking city-wide,
 * or for another district, is refused. City-wide regulators, auditors and admins read all.
 */
export function assertDistrictInScope(principal: Principal, districtId: string | undefined): void {
  if (principal.role !== 'regulator' || principal.districts.length === 0) return;
  if (districtId !== undefined && principal.districts.includes(districtId)) return;
  throw new LedgerError(
    'LEDGER_ERR_FORBIDDEN',
    districtId === undefined
      ? `Key ${principal.keyId} is limited to districts ${principal.districts.join(', ')}: name one with districtId`
      : `Key ${principal.keyId} may not read district ${districtId} (its districts: ${principal.districts.join(', ')})`,
    { keyId: principal.keyId, ...(districtId === undefined ? {} : { districtId }) },
  );
}

/**
 * A record of one site (a ticket): a station reads its own sites', a limited regulator those of
 * sites in its districts (`districtId` is the site's; undefined for a site not registered).
 */
export function assertSiteRecordInScope(
  principal: Principal,
  siteId: string,
  districtId: string | undefined,
): void {
  assertSiteInScope(principal, siteId);
  if (principal.role !== 'regulator' || principal.districts.length === 0) return;
  if (districtId !== undefined && principal.districts.includes(districtId)) return;
  throw new LedgerError(
    'LEDGER_ERR_FORBIDDEN',
    `Key ${principal.keyId} may not read site ${siteId}: it is not in the key's districts (${principal.districts.join(', ')})`,
    { keyId: principal.keyId, siteId },
  );
}
