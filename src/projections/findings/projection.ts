import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { TicketState } from '../../domain/weighing/ticket.js';
import { TONNAGE_EVENT_TYPES } from '../daily-tonnage/projection.js';
import type { Projection } from '../runner/projection.js';
import {
  applyTicketEvents,
  createTicketStateTable,
  type TicketChange,
} from '../ticket-states/ticket-states.js';

type Tables = 'findings_recorded' | 'ticket_numbers' | 'transfer_links' | 'findings_tickets';

/** Findings the decider records with a weighing, by their event type. */
const RECORDED_FINDINGS = {
  TareDriftFound: 'tare_drift',
  RepeatWeighingSuspected: 'repeat_weighing',
} as const;

/** The business day a ticket belongs to, whatever its state. */
export function dayOf(state: TicketState): string | undefined {
  switch (state.status) {
    case 'none':
      return undefined;
    case 'open':
      return state.weighIn.businessDay;
    case 'weighed':
      return state.weighing.businessDay;
    case 'rejected':
      return state.rejection.businessDay;
    case 'voided':
      return dayOf(state.before);
    default: {
      const unknown: never = state;
      return unknown;
    }
  }
}

/** A ticket number as prefix and trailing number (`20261120-00042` → `20261120-`, 42). */
export function splitTicketNo(ticketNo: string): { prefix: string; number: number } | undefined {
  const match = /^(.*?)(\d{1,15})$/.exec(ticketNo);
  if (match === null) return undefined;
  return { prefix: match[1] ?? '', number: Number(match[2]) };
}

/**
 * What regulators want flagged while the load still counts (DOMAIN.md, fraud patterns):
 * findings recorded with a weighing (tare drift, repeat weighing), and two that need other
 * tickets — gaps in a site's ticket numbers, and a linked transfer received at less than 90 %
 * of what was dispatched. The latter two are kept as facts (ticket numbers seen; dispatched and
 * received kg per link, following corrections and voids) and judged when queried, so a late
 * upload that fills a gap or completes a link clears the finding by itself.
 */
export const findings: Projection<Tables> = {
  name: 'findings',
  handles: [
    ...TONNAGE_EVENT_TYPES,
    ...(Object.keys(RECORDED_FINDINGS) as (keyof typeof RECORDED_FINDINGS)[]),
  ],
  tables: ['findings_recorded', 'ticket_numbers', 'transfer_links', 'findings_tickets'],

  async createTables(db: Kysely<unknown>, t) {
    await sql`
      CREATE TABLE IF NOT EXISTS ${sql.table(t.findings_recorded)} (
        position bigint PRIMARY KEY,
        kind text NOT NULL,
        site_id text NOT NULL,
        ticket_no text NOT NULL,
        day text NOT NULL,
        details jsonb NOT NULL
      )`.execute(db);
    await sql`
      CREATE TABLE IF NOT EXISTS ${sql.table(t.ticket_numbers)} (
        site_id text NOT NULL,
        prefix text NOT NULL,
        number bigint NOT NULL,
        ticket_no text NOT NULL,
        day text NOT NULL,
        PRIMARY KEY (site_id, prefix, number)
      )`.execute(db);
    await sql`
      CREATE TABLE IF NOT EXISTS ${sql.table(t.transfer_links)} (
        from_site_id text NOT NULL,
        outbound_ticket_no text NOT NULL,
        to_site_id text,
        dispatched_kg bigint,
        dispatched_day text,
        inbound_site_id text,
        inbound_ticket_no text,
        received_kg bigint,
        received_day text,
        PRIMARY KEY (from_site_id, outbound_ticket_no)
      )`.execute(db);
    await createTicketStateTable(db, t.findings_tickets);
  },

  async apply(trx: Transaction<unknown>, events, t) {
    const changes = await applyTicketEvents(trx, t.findings_tickets, events);
    const states = new Map(changes.map((c) => [c.streamId, c.after]));

    const recorded = events.flatMap((e) => {
      const kind = RECORDED_FINDINGS[e.type as keyof typeof RECORDED_FINDINGS] as
        string | undefined;
      const state = states.get(e.streamId);
      const day = state === undefined ? undefined : dayOf(state);
      if (kind === undefined || day === undefined) return [];
      const { siteId, ticketNo } = e.data as { siteId: string; ticketNo: string };
      return [
        sql`(${e.position}, ${kind}, ${siteId}, ${ticketNo}, ${day}, ${JSON.stringify(e.data)}::jsonb)`,
      ];
    });
    if (recorded.length > 0) {
      await sql`
        INSERT INTO ${sql.table(t.findings_recorded)} (position, kind, site_id, ticket_no, day, details)
        VALUES ${sql.join(recorded)} ON CONFLICT (position) DO NOTHING`.execute(trx);
    }

    const numbers = changes.flatMap(({ before, after }) => {
      const day = dayOf(after);
      if (before.status !== 'none' || day === undefined) return [];
      const ref = ticketRef(after);
      const split = ref === undefined ? undefined : splitTicketNo(ref.ticketNo);
      if (ref === undefined || split === undefined) return [];
      return [sql`(${ref.siteId}, ${split.prefix}, ${split.number}, ${ref.ticketNo}, ${day})`];
    });
    if (numbers.length > 0) {
      await sql`
        INSERT INTO ${sql.table(t.ticket_numbers)} (site_id, prefix, number, ticket_no, day)
        VALUES ${sql.join(numbers)} ON CONFLICT DO NOTHING`.execute(trx);
    }

    await updateTransferLinks(trx, t.transfer_links, changes);
  },
};

function ticketRef(state: TicketState): { siteId: string; ticketNo: string } | undefined {
  switch (state.status) {
    case 'none':
      return undefined;
    case 'open':
      return state.weighIn;
    case 'weighed':
      return state.weighing;
    case 'rejected':
      return state.rejection;
    case 'voided':
      return ticketRef(state.before);
    default: {
      const unknown: never = state;
      return unknown;
    }
  }
}

/**
 * Keeps transfer links' dispatched and received kg in step with both tickets' latest state: one
 * statement per side for the whole batch (a statement per ticket was most of this projection's
 * cost during ingestion).
 */
async function updateTransferLinks(
  trx: Transaction<unknown>,
  table: string,
  changes: readonly TicketChange[],
): Promise<void> {
  // Keyed by link: a later ticket of the batch naming the same link wins, as it would in order.
  const dispatched = new Map<string, RawBuilder<unknown>>();
  const received = new Map<string, RawBuilder<unknown>>();
  for (const { before, after } of changes) {
    const w =
      after.status === 'weighed'
        ? after.weighing
        : before.status === 'weighed'
          ? before.weighing
          : undefined;
    if (w === undefined) continue;
    // A correction may point an inbound ticket at another outbound ticket (or at none): the link
    // it named before no longer has this receipt. Only this ticket's own receipt is cleared, so
    // clearing before the batch's upserts gives the same links as ticket-by-ticket order.
    const was = before.status === 'weighed' ? before.weighing : undefined;
    if (
      after.status === 'weighed' &&
      was?.direction === 'inbound' &&
      was.origin?.kind === 'transfer' &&
      (after.weighing.origin?.kind !== 'transfer' ||
        after.weighing.origin.fromSiteId !== was.origin.fromSiteId ||
        after.weighing.origin.outboundTicketNo !== was.origin.outboundTicketNo)
    ) {
      await sql`
        UPDATE ${sql.table(table)} SET
          inbound_site_id = NULL, inbound_ticket_no = NULL, received_kg = NULL, received_day = NULL
         WHERE from_site_id = ${was.origin.fromSiteId} AND outbound_ticket_no = ${was.origin.outboundTicketNo}
           AND inbound_site_id = ${was.siteId} AND inbound_ticket_no = ${was.ticketNo}`.execute(
        trx,
      );
    }
    const netKg = after.status === 'weighed' ? after.weighing.netKg : null;
    if (w.direction === 'outbound' && w.destination !== undefined) {
      dispatched.set(
        JSON.stringify([w.siteId, w.ticketNo]),
        sql`(${w.siteId}, ${w.ticketNo}, ${w.destination.siteId}, ${netKg}::bigint, ${w.businessDay})`,
      );
    } else if (w.direction === 'inbound' && w.origin?.kind === 'transfer') {
      received.set(
        JSON.stringify([w.origin.fromSiteId, w.origin.outboundTicketNo]),
        sql`(${w.origin.fromSiteId}, ${w.origin.outboundTicketNo}, ${w.siteId}, ${w.ticketNo}, ${netKg}::bigint, ${w.businessDay})`,
      );
    }
  }
  if (dispatched.size > 0) {
    await sql`
      INSERT INTO ${sql.table(table)} (from_site_id, outbound_ticket_no, to_site_id, dispatched_kg, dispatched_day)
      VALUES ${sql.join([...dispatched.values()])}
      ON CONFLICT (from_site_id, outbound_ticket_no) DO UPDATE SET
        to_site_id = excluded.to_site_id, dispatched_kg = excluded.dispatched_kg,
        dispatched_day = excluded.dispatched_day`.execute(trx);
  }
  if (received.size > 0) {
    await sql`
      INSERT INTO ${sql.table(table)}
        (from_site_id, outbound_ticket_no, inbound_site_id, inbound_ticket_no, received_kg, received_day)
      VALUES ${sql.join([...received.values()])}
      ON CONFLICT (from_site_id, outbound_ticket_no) DO UPDATE SET
        inbound_site_id = excluded.inbound_site_id, inbound_ticket_no = excluded.inbound_ticket_no,
        received_kg = excluded.received_kg, received_day = excluded.received_day`.execute(trx);
  }
}
