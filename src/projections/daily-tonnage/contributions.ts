import { materialOf } from '../../domain/shared/materials.js';
import type { TicketState } from '../../domain/weighing/ticket.js';

/**
 * How a ticket's tonnage is counted (DOMAIN.md, Indicators):
 * - `collected`: household or construction waste first received from a collection trip, at a
 *   transfer station or treatment facility, by the district it was collected in;
 * - `transfer_in` / `transfer_out`: waste moving between sites (not new waste);
 * - `treatment_intake`: whatever enters a treatment facility, by its operation;
 * - `residue_out`: residues a site dispatches (counted as their own material).
 */
export const flows = [
  'collected',
  'transfer_in',
  'transfer_out',
  'treatment_intake',
  'residue_out',
] as const;
export type Flow = (typeof flows)[number];

export interface Contribution {
  readonly day: string;
  readonly districtId: string;
  readonly siteId: string;
  /** The category of a waste load, or the residue. */
  readonly material: string;
  readonly flow: Flow;
  /** The treatment operation for `treatment_intake`, else ''. */
  readonly operation: string;
  readonly netKg: number;
}

/** A ticket's rows in the daily tonnage: none unless its weighing is complete and not voided. */
export function contributionsOf(state: TicketState): Contribution[] {
  if (state.status !== 'weighed') return [];
  const w = state.weighing;
  const base = {
    day: w.businessDay,
    siteId: w.siteId,
    material: materialOf(w.load),
    netKg: w.netKg,
    operation: '',
  };
  const rows: Contribution[] = [];
  if (w.direction === 'outbound') {
    rows.push({
      ...base,
      districtId: w.site.districtId,
      flow: w.load.kind === 'residue' ? 'residue_out' : 'transfer_out',
    });
    return rows;
  }
  const receiving = w.site.kind === 'transfer_station' || w.site.kind === 'treatment_facility';
  if (w.origin?.kind === 'collection' && receiving) {
    rows.push({ ...base, districtId: w.origin.districtId, flow: 'collected' });
  }
  if (w.origin?.kind === 'transfer' && w.site.kind === 'transfer_station') {
    rows.push({ ...base, districtId: w.site.districtId, flow: 'transfer_in' });
  }
  if (w.site.kind === 'treatment_facility') {
    rows.push({
      ...base,
      districtId: w.site.districtId,
      flow: 'treatment_intake',
      operation: w.site.operation ?? '',
    });
  }
  return rows;
}

export function contributionKey(c: Omit<Contribution, 'netKg'>): string {
  return [c.day, c.districtId, c.siteId, c.material, c.flow, c.operation].join('|');
}
