import { sql, type Kysely } from 'kysely';

export const findingKinds = [
  'tare_drift',
  'repeat_weighing',
  'ticket_gap',
  'short_transfer',
] as const;
export type FindingKind = (typeof findingKinds)[number];

/** A linked transfer received at less than this share of what was dispatched is a finding. */
export const SHORT_TRANSFER_RATIO = { numerator: 9, denominator: 10 } as const;

export interface Finding {
  readonly kind: FindingKind;
  readonly siteId: string;
  readonly day: string;
  readonly ticketNo?: string;
  readonly details: Record<string, unknown>;
}

export interface FindingsQuery {
  readonly from: string;
  readonly to: string;
  readonly kinds: readonly FindingKind[];
  readonly siteId?: string | undefined;
}

/** Findings on the business days from…to, of the kinds asked, oldest first. */
export async function queryFindings(db: Kysely<unknown>, q: FindingsQuery): Promise<Finding[]> {
  const site = (column: string) =>
    q.siteId === undefined ? sql`` : sql` AND ${sql.ref(column)} = ${q.siteId}`;
  const out: Finding[] = [];
  const recordedKinds = q.kinds.filter((k) => k === 'tare_drift' || k === 'repeat_weighing');
  if (recordedKinds.length > 0) {
    const { rows } = await sql<{
      kind: FindingKind;
      site_id: string;
      ticket_no: string;
      day: string;
      details: Record<string, unknown>;
    }>`
      SELECT kind, site_id, ticket_no, day, details FROM findings_recorded
       WHERE day >= ${q.from} AND day <= ${q.to} AND kind IN (${sql.join(recordedKinds)})${site('site_id')}
       ORDER BY day, position`.execute(db);
    for (const r of rows)
      out.push({
        kind: r.kind,
        siteId: r.site_id,
        day: r.day,
        ticketNo: r.ticket_no,
        details: r.details,
      });
  }
  if (q.kinds.includes('ticket_gap')) {
    // Neighbours are looked for a day either side, so a gap across midnight is still seen.
    const { rows } = await sql<{
      site_id: string;
      ticket_no: string;
      day: string;
      number: string;
      next: string;
      prefix: string;
    }>`
      SELECT site_id, prefix, ticket_no, day, number, next FROM (
        SELECT site_id, prefix, ticket_no, day, number,
               lead(number) OVER (PARTITION BY site_id, prefix ORDER BY number) AS next
          FROM ticket_numbers
         WHERE day >= to_char(${q.from}::date - 1, 'YYYY-MM-DD') AND day <= to_char(${q.to}::date + 1, 'YYYY-MM-DD')${site('site_id')}
      ) numbered
      WHERE next > number + 1 AND day >= ${q.from} AND day <= ${q.to}
      ORDER BY day, site_id, number`.execute(db);
    for (const r of rows) {
      const after = Number(r.number);
      const next = Number(r.next);
      out.push({
        kind: 'ticket_gap',
        siteId: r.site_id,
        day: r.day,
        ticketNo: r.ticket_no,
        details: {
          prefix: r.prefix,
          missingFrom: after + 1,
          missingTo: next - 1,
          missing: next - after - 1,
        },
      });
    }
  }
  if (q.kinds.includes('short_transfer')) {
    const { rows } = await sql<{
      from_site_id: string;
      outbound_ticket_no: string;
      to_site_id: string;
      inbound_site_id: string;
      inbound_ticket_no: string;
      dispatched_kg: string;
      received_kg: string;
      dispatched_day: string;
    }>`
      SELECT * FROM transfer_links
       WHERE dispatched_kg IS NOT NULL AND received_kg IS NOT NULL
         AND received_kg * ${SHORT_TRANSFER_RATIO.denominator} < dispatched_kg * ${SHORT_TRANSFER_RATIO.numerator}
         AND dispatched_day >= ${q.from} AND dispatched_day <= ${q.to}${site('from_site_id')}
       ORDER BY dispatched_day, from_site_id, outbound_ticket_no`.execute(db);
    for (const r of rows) {
      out.push({
        kind: 'short_transfer',
        siteId: r.from_site_id,
        day: r.dispatched_day,
        ticketNo: r.outbound_ticket_no,
        details: {
          receivingSiteId: r.inbound_site_id,
          inboundTicketNo: r.inbound_ticket_no,
          dispatchedKg: Number(r.dispatched_kg),
          receivedKg: Number(r.received_kg),
          shortKg: Number(r.dispatched_kg) - Number(r.received_kg),
        },
      });
    }
  }
  return out.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}
