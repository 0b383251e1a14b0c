import { materialOf } from '../shared/materials.js';
import type { TicketState } from '../weighing/ticket.js';

/**
 * Where a ticket's kilograms count (DOMAIN.md, Indicators), with every dimension an indicator
 * needs: each tonne is counted where it enters treatment, a transfer is not new waste.
 * - `collected`: first received from a collection trip (at a transfer station or a facility),
 *   in the district it was collected in;
 * - `transfer_in`: received at a transfer station from another site;
 * - `treatment_intake`: entering a treatment facility, with the facility's operation;
 * - `transfer_out` / `residue_out`: an outbound ticket, with the dispatching site's operation (if
 *   a facility) and the receiving site.
 */
export const factFlows = [
  'collected',
  'transfer_in',
  'treatment_intake',
  'transfer_out',
  'residue_out',
] as const;
export type FactFlow = (typeof factFlows)[number];

export interface Fact {
  /** The business day of the ticket's first weighing. */
  readonly day: string;
  readonly districtId: string;
  readonly siteId: string;
  readonly flow: FactFlow;
  /** A waste category, or a residue. */
  readonly material: string;
  /** The category's subtype, or ''. */
  readonly subtype: string;
  /** The site's treatment operation, or '' (transfer stations). */
  readonly operation: string;
  /** For outbound tickets, the receiving site; else ''. */
  readonly destSiteId: string;
  readonly netKg: number;
}

/** A ticket's facts: none unless its weighing is complete and not voided. */
export function factsOf(state: TicketState): Fact[] {
  if (state.status !== 'weighed') return [];
  const w = state.weighing;
  const base = {
    day: w.businessDay,
    siteId: w.siteId,
    material: materialOf(w.load),
    subtype: w.load.kind === 'waste' ? (w.load.subtype ?? '') : '',
    operation: w.site.operation ?? '',
    destSiteId: '',
    netKg: w.netKg,
  };
  if (w.direction === 'outbound') {
    return [
      {
        ...base,
        districtId: w.site.districtId,
        flow: w.load.kind === 'residue' ? 'residue_out' : 'transfer_out',
        destSiteId: w.destination?.siteId ?? '',
      },
    ];
  }
  const facts: Fact[] = [];
  const receiving = w.site.kind === 'transfer_station' || w.site.kind === 'treatment_facility';
  if (w.origin?.kind === 'collection' && receiving) {
    facts.push({ ...base, districtId: w.origin.districtId, flow: 'collected' });
  }
  if (w.origin?.kind === 'transfer' && w.site.kind === 'transfer_station') {
    facts.push({ ...base, districtId: w.site.districtId, flow: 'transfer_in' });
  }
  if (w.site.kind === 'treatment_facility') {
    facts.push({ ...base, districtId: w.site.districtId, flow: 'treatment_intake' });
  }
  return facts;
}

/** The dimensions of a fact, as one key (for sums and diffs). */
export function factKey(f: Omit<Fact, 'netKg'>): string {
  return [
    f.day,
    f.districtId,
    f.siteId,
    f.flow,
    f.material,
    f.subtype,
    f.operation,
    f.destSiteId,
  ].join('|');
}

/** Facts as sums by their dimensions, with the number of tickets in each. */
export interface FactSum extends Fact {
  readonly tickets: number;
}
