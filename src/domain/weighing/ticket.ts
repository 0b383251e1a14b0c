import type { Kg } from '../shared/kilograms.js';
import type { GateEvent, WeighingEvent, WeighingEventData } from './events.js';

type WeighedIn = WeighingEventData<'VehicleWeighedIn'>;

/** A ticket whose weighing is complete: what figures count (unless voided). */
export interface CompleteWeighing extends Omit<WeighedIn, 'grossKg'> {
  readonly grossKg: Kg;
  readonly tareKg: Kg;
  readonly netKg: Kg;
  readonly tareSource: 'measured' | 'stored' | 'preset';
  /** 1 for the original weighing, 2 after the first correction, … */
  readonly version: number;
}

/** A ticket's state; `evolve` never throws, whatever order facts arrive in. */
export type TicketState =
  | { readonly status: 'none' }
  | { readonly status: 'open'; readonly weighIn: WeighedIn }
  | { readonly status: 'weighed'; readonly weighing: CompleteWeighing }
  | { readonly status: 'rejected'; readonly rejection: WeighingEventData<'LoadRejected'> }
  | {
      readonly status: 'voided';
      /** What the ticket held before the void, still readable. */
      readonly before: Exclude<TicketState, { status: 'voided' } | { status: 'none' }>;
      readonly voided: WeighingEventData<'TicketVoided'>;
    };

export const initialTicketState = (): TicketState => ({ status: 'none' });

export function evolveTicket(state: TicketState, event: WeighingEvent): TicketState {
  switch (event.type) {
    case 'VehicleWeighedIn':
      return { status: 'open', weighIn: event.data };
    case 'VehicleWeighedOut': {
      if (state.status !== 'open') return state;
      const { weighIn } = state;
      return {
        status: 'weighed',
        weighing: {
          ...weighIn,
          grossKg: weighIn.grossKg,
          tareKg: event.data.tareKg,
          netKg: event.data.netKg,
          tareSource: 'measured',
          version: 1,
        },
      };
    }
    case 'VehicleWeighedOnePass': {
      const { tareKg, netKg, tareSource, ...first } = event.data;
      return { status: 'weighed', weighing: { ...first, tareKg, netKg, tareSource, version: 1 } };
    }
    case 'LoadRejected':
      return { status: 'rejected', rejection: event.data };
    case 'TicketCorrected': {
      if (state.status !== 'weighed') return state;
      const { grossKg, tareKg, netKg, load, origin, destination, version } = event.data;
      return {
        status: 'weighed',
        weighing: { ...state.weighing, grossKg, tareKg, netKg, load, origin, destination, version },
      };
    }
    case 'TicketVoided':
      if (state.status === 'none' || state.status === 'voided') return state;
      return { status: 'voided', before: state, voided: event.data };
    case 'TareDriftFound':
    case 'RepeatWeighingSuspected':
      return state;
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

/** The plate at a site: its open ticket, if any, and its last weigh-in. */
export interface GateState {
  readonly openTicketNo: string | undefined;
  readonly last: { readonly ticketNo: string; readonly weighedInAt: string } | undefined;
}

export const initialGateState = (): GateState => ({ openTicketNo: undefined, last: undefined });

/**
 * A plate's gate state from only the last events of its stream: a vehicle weighs every day, so
 * its gate stream grows for as long as it serves. Exact when the tail holds a weigh-in that
 * opened a ticket (that event sets both the open ticket and the last weigh-in, overriding
 * everything before it), or when the tail is the whole stream. Otherwise `undefined`: the
 * caller must fold the whole stream (a ticket left open long ago may still be open).
 */
export function gateStateFromTail(
  tail: readonly GateEvent[],
  wholeStream: boolean,
): GateState | undefined {
  const opensTicket = tail.some((e) => e.type === 'PlateWeighedInAtGate' && e.data.ticketOpen);
  if (!opensTicket && !wholeStream) return undefined;
  return tail.reduce(evolveGate, initialGateState());
}

export function evolveGate(state: GateState, event: GateEvent): GateState {
  switch (event.type) {
    case 'PlateWeighedInAtGate':
      return {
        openTicketNo: event.data.ticketOpen ? event.data.ticketNo : state.openTicketNo,
        last: { ticketNo: event.data.ticketNo, weighedInAt: event.data.weighedInAt },
      };
    case 'PlateTicketClosedAtGate':
      return {
        ...state,
        openTicketNo: state.openTicketNo === event.data.ticketNo ? undefined : state.openTicketNo,
      };
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}
