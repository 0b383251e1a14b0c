import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { assertSiteRecordInScope } from '../../access/scope.js';
import { LedgerError } from '../../domain/errors/catalogue.js';
import { idSchema } from '../../domain/master-data/master-data.js';
import {
  ticketNoSchema,
  ticketStreamId,
  type WeighingEvent,
} from '../../domain/weighing/events.js';
import { evolveTicket, initialTicketState } from '../../domain/weighing/ticket.js';
import type { MasterData } from '../../ingestion/master-data.js';
import type { EventStore } from '../../store/port.js';
import { principalOf } from '../access/access-control.js';
import { access } from '../access/policies.js';

/** One weigh ticket as its station (or a regulator, or an auditor) reads it back. */
export function registerTicketRoutes(
  app: FastifyInstance,
  deps: { store: EventStore; masterData: MasterData },
): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/tickets/:siteId/:ticketNo',
    {
      config: { access: access.ticket },
      schema: {
        tags: ['weighings'],
        summary:
          "A ticket's current state (open, weighed, rejected, voided) and every event of its stream",
        description:
          'A station key reads the tickets of its own sites; a regulator limited to districts, those of sites in them.',
        params: z.object({ siteId: idSchema, ticketNo: ticketNoSchema }),
      },
    },
    async (request) => {
      const { siteId, ticketNo } = request.params;
      const principal = principalOf(request);
      // Scope first: whether another site's ticket exists is not for this key to learn.
      const districtId =
        principal.role === 'regulator' && principal.districts.length > 0
          ? (await deps.masterData.site(siteId))?.districtId
          : undefined;
      assertSiteRecordInScope(principal, siteId, districtId);
      const streamId = ticketStreamId(siteId, ticketNo);
      const events = await deps.store.readStream(streamId);
      // The stream id joins site and number with a dash, as ids may contain: site a-b's
      // ticket 1 and site a's ticket b-1 share it. Only this site's ticket is answered.
      const own = events.filter((e) => e.data.siteId === siteId && e.data.ticketNo === ticketNo);
      if (own.length === 0 || own.length !== events.length) {
        throw new LedgerError('LEDGER_ERR_NOT_FOUND', `No ticket ${ticketNo} at site ${siteId}`);
      }
      return {
        siteId,
        ticketNo,
        streamId,
        state: own.reduce(
          (state, e) => evolveTicket(state, e as unknown as WeighingEvent),
          initialTicketState(),
        ),
        events: own.map((e) => ({
          position: e.position,
          revision: e.revision,
          type: e.type,
          data: e.data,
          recordedAt: e.recordedAt,
        })),
      };
    },
  );
}
