import { RuleViolation } from '../errors/catalogue.js';
import { epochMs, MAX_CLOCK_AHEAD_MS } from '../shared/time.js';
import type { TripCommand } from './commands.js';
import type { TripEvent } from './events.js';
import type { TripState } from './trip.js';

/** What the decision needs besides the trip. */
export interface TripContext {
  /** The ledger's clock when the command arrived (ms since the epoch). */
  readonly now: number;
}

/**
 * Decides what a trip command records on the trip stream, or throws the rule it breaks. Pure:
 * the clock comes in the context. A trip runs dispatch → collections → arrival → departure, each
 * step no earlier than the one before; any other order is `LEDGER_ERR_OUT_OF_ORDER`.
 *
 * @example
 * const events = decideTrip(
 *   { type: 'DispatchTrip', data: { tripId: 't-1', plate: '鲁A12345', districtId: 'licheng',
 *     category: 'kitchen', dispatchedAt: '2026-03-04T06:00:00+08:00' } },
 *   initialTripState(),
 *   { now: Date.parse('2026-03-04T06:00:05+08:00') },
 * ); // [{ type: 'TripDispatched', data: { … } }]
 */
export function decideTrip(
  command: TripCommand,
  state: TripState,
  context: TripContext,
): readonly TripEvent[] {
  switch (command.type) {
    case 'DispatchTrip': {
      const { data } = command;
      notInFuture(context, data.dispatchedAt, 'dispatchedAt');
      if (state.status !== 'none') {
        throw outOfOrder(`Trip ${data.tripId} is already dispatched`, 'tripId');
      }
      return [
        {
          type: 'TripDispatched',
          data: {
            tripId: data.tripId,
            plate: data.plate,
            districtId: data.districtId,
            category: data.category,
            dispatchedAt: data.dispatchedAt,
          },
        },
      ];
    }
    case 'RecordCollection': {
      const { data } = command;
      notInFuture(context, data.collectedAt, 'collectedAt');
      const current = requireStatus(state, 'collecting', data.tripId, 'collect');
      notBefore(current.lastStepAt, data.collectedAt, 'collectedAt');
      return [
        {
          type: 'CollectedAtPoint',
          data: {
            tripId: data.tripId,
            collectionPointId: data.collectionPointId,
            category: data.category,
            bins: data.bins,
            ...(data.kg === undefined ? {} : { kg: data.kg }),
            collectedAt: data.collectedAt,
          },
        },
      ];
    }
    case 'RecordArrival': {
      const { data } = command;
      notInFuture(context, data.arrivedAt, 'arrivedAt');
      const current = requireStatus(state, 'collecting', data.tripId, 'arrive at a site');
      notBefore(current.lastStepAt, data.arrivedAt, 'arrivedAt');
      return [
        {
          type: 'ArrivedAtSite',
          data: {
            tripId: data.tripId,
            siteId: data.siteId,
            arrivedAt: data.arrivedAt,
            ...(data.ticketNo === undefined ? {} : { ticketNo: data.ticketNo }),
          },
        },
      ];
    }
    case 'RecordDeparture': {
      const { data } = command;
      notInFuture(context, data.departedAt, 'departedAt');
      if (state.status === 'collecting') {
        throw outOfOrder(
          `Trip ${data.tripId} has not arrived at ${data.siteId}, so cannot leave it`,
          'siteId',
        );
      }
      const current = requireStatus(state, 'at_site', data.tripId, 'leave a site');
      if (current.arrival.siteId !== data.siteId) {
        throw outOfOrder(
          `Trip ${data.tripId} is at ${current.arrival.siteId}, not at ${data.siteId}`,
          'siteId',
        );
      }
      notBefore(current.lastStepAt, data.departedAt, 'departedAt');
      return [
        {
          type: 'DepartedSite',
          data: { tripId: data.tripId, siteId: data.siteId, departedAt: data.departedAt },
        },
      ];
    }
    default: {
      const unknown: never = command;
      return unknown;
    }
  }
}

function outOfOrder(message: string, field: string): RuleViolation {
  return new RuleViolation('LEDGER_ERR_OUT_OF_ORDER', message, field);
}

function notInFuture(context: TripContext, at: string, field: string): void {
  if (epochMs(at) > context.now + MAX_CLOCK_AHEAD_MS) {
    throw new RuleViolation(
      'LEDGER_ERR_TIME_IN_FUTURE',
      `${field} ${at} is more than 10 minutes ahead of the ledger's clock`,
      field,
    );
  }
}

/** A step may share its predecessor's instant, never precede it. */
function notBefore(previousAt: string, at: string, field: string): void {
  if (epochMs(at) < epochMs(previousAt)) {
    throw outOfOrder(`${field} ${at} is before the trip's previous step at ${previousAt}`, field);
  }
}

function requireStatus<S extends Exclude<TripState['status'], 'none'>>(
  state: TripState,
  status: S,
  tripId: string,
  what: string,
): Extract<TripState, { status: S }> {
  if (state.status === status) return state as Extract<TripState, { status: S }>;
  const why = describe(state);
  throw outOfOrder(`Trip ${tripId} cannot ${what}: it ${why}`, 'tripId');
}

function describe(state: TripState): string {
  switch (state.status) {
    case 'none':
      return 'has not been dispatched';
    case 'collecting':
      return 'is still collecting';
    case 'at_site':
      return `is at ${state.arrival.siteId}`;
    case 'departed':
      return `has already left ${state.arrival.siteId}`;
    default: {
      const unknown: never = state;
      return unknown;
    }
  }
}
