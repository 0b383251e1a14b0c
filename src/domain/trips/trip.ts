import type { TripEvent, TripEventData } from './events.js';

type Dispatched = TripEventData<'TripDispatched'>;
type Collection = TripEventData<'CollectedAtPoint'>;
type Arrival = TripEventData<'ArrivedAtSite'>;
type Departure = TripEventData<'DepartedSite'>;

/** What every dispatched trip knows: the dispatch and its collections so far, in order. */
interface TripSoFar {
  readonly dispatch: Dispatched;
  readonly collections: readonly Collection[];
  /** The time of the latest step (dispatch, collection, arrival or departure), as reported. */
  readonly lastStepAt: string;
}

/**
 * A trip's state: dispatched → collecting at points → at the receiving site → departed (done).
 * `evolve` never throws, whatever order facts arrive in.
 */
export type TripState =
  | { readonly status: 'none' }
  | ({ readonly status: 'collecting' } & TripSoFar)
  | ({ readonly status: 'at_site'; readonly arrival: Arrival } & TripSoFar)
  | ({
      readonly status: 'departed';
      readonly arrival: Arrival;
      readonly departure: Departure;
    } & TripSoFar);

export const initialTripState = (): TripState => ({ status: 'none' });

export function evolveTrip(state: TripState, event: TripEvent): TripState {
  switch (event.type) {
    case 'TripDispatched':
      // The first dispatch is the fact; a second one cannot be decided and changes nothing.
      if (state.status !== 'none') return state;
      return {
        status: 'collecting',
        dispatch: event.data,
        collections: [],
        lastStepAt: event.data.dispatchedAt,
      };
    case 'CollectedAtPoint':
      if (state.status !== 'collecting') return state;
      return {
        ...state,
        collections: [...state.collections, event.data],
        lastStepAt: event.data.collectedAt,
      };
    case 'ArrivedAtSite':
      if (state.status !== 'collecting') return state;
      return {
        status: 'at_site',
        dispatch: state.dispatch,
        collections: state.collections,
        arrival: event.data,
        lastStepAt: event.data.arrivedAt,
      };
    case 'DepartedSite':
      if (state.status !== 'at_site' || state.arrival.siteId !== event.data.siteId) return state;
      return {
        status: 'departed',
        dispatch: state.dispatch,
        collections: state.collections,
        arrival: state.arrival,
        departure: event.data,
        lastStepAt: event.data.departedAt,
      };
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}
