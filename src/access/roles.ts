/**
 * Who may do what. Each API key has one role; each route declares the roles it admits.
 *
 * | role        | may                                                                          |
 * | ----------- | ---------------------------------------------------------------------------- |
 * | `station`   | post weighings and trips for its own sites; read its own tickets              |
 * | `regulator` | read tonnage, indicators, reports, findings, tickets (city-wide or districts) |
 * | `auditor`   | everything a regulator reads, plus seals, verification and export of the log  |
 * | `admin`     | everything: master data, keys, and every other route                          |
 */
export const roles = ['station', 'regulator', 'auditor', 'admin'] as const;
export type Role = (typeof roles)[number];

/**
 * What a route admits: `'public'` (no key needed), or the roles whose keys may call it.
 * `admin` may call every route, whether a declaration lists it or not (see `admits`).
 */
export type RouteAccess = 'public' | { readonly roles: readonly Role[] };

/** The authenticated caller: the key's id (recorded as `actor` on what it writes) and scope. */
export interface Principal {
  readonly keyId: string;
  readonly role: Role;
  /** A station's sites: it posts and reads only for these. Empty for other roles. */
  readonly sites: readonly string[];
  /** A regulator's districts; empty means city-wide. Empty for other roles. */
  readonly districts: readonly string[];
}

/**
 * Whether a key of `role` may call a route declared with `access`. The administrator may do
 * everything: an operator with the admin key can create any key anyway, so refusing it a route
 * would protect nothing and only force keys to be minted for chores.
 */
export function admits(access: RouteAccess, role: Role): boolean {
  if (access === 'public') return true;
  return role === 'admin' || access.roles.includes(role);
}
