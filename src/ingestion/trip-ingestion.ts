import { LedgerError } from '../domain/errors/catalogue.js';
import type { TripCommand } from '../domain/trips/commands.js';
import { decideTrip } from '../domain/trips/decide.js';
import { tripStreamId, type TripEvent } from '../domain/trips/events.js';
import { evolveTrip, initialTripState } from '../domain/trips/trip.js';
import { EVENT_SCHEMA_VERSION } from '../domain/weighing/events.js';
import { WrongExpectedRevisionError } from '../store/errors.js';
import type { EventStore } from '../store/port.js';
import { derivedEventId, requestDigest } from './ids.js';
import { eventIdConflict, type IngestOptions, type ItemOutcome } from './weighing-ingestion.js';

export interface TripItem {
  readonly eventId: string;
  readonly command: TripCommand;
}

const MAX_ATTEMPTS = 8;

/**
 * Records vehicle-trip reports, one stream per trip, item by item (trips are short and a
 * dispatch system reports them one at a time). Idempotent by the client's event id as for
 * weighings.
 */
export class TripIngestion {
  constructor(private readonly store: EventStore) {}

  async ingest(items: readonly TripItem[], options: IngestOptions): Promise<ItemOutcome[]> {
    const outcomes: ItemOutcome[] = [];
    for (const item of items) outcomes.push(await this.#one(item, options));
    return outcomes;
  }

  async #one(item: TripItem, options: IngestOptions): Promise<ItemOutcome> {
    const { eventId, command } = item;
    const streamId = tripStreamId(command.data.tripId);
    const digest = requestDigest(command.type, command.data);
    for (let attempt = 1; ; attempt += 1) {
      const events = await this.store.readStream(streamId);
      const stored = events.find((e) => e.id === eventId);
      if (stored !== undefined) {
        if (stored.metadata.requestDigest !== digest) return eventIdConflict(eventId);
        return {
          status: 'duplicate',
          eventId,
          streamId,
          revision: stored.revision,
          position: stored.position,
          findings: [],
        };
      }
      // An id means one report ledger-wide: used on another trip (or anything else), refused.
      const usedAt = await this.store.streamsOfEventIds([eventId]);
      if ((usedAt.get(eventId) ?? []).some((other) => other !== streamId))
        return eventIdConflict(eventId);
      const state = events.reduce(
        (s, e) => evolveTrip(s, e as unknown as TripEvent),
        initialTripState(),
      );
      let decided: readonly TripEvent[];
      try {
        decided = decideTrip(command, state, { now: options.now });
      } catch (error) {
        if (!(error instanceof LedgerError)) throw error;
        return { status: 'rejected', eventId, error };
      }
      const metadata = {
        correlationId: options.correlationId,
        causationId: eventId,
        actor: options.actor,
        schemaVersion: EVENT_SCHEMA_VERSION,
        requestDigest: digest,
      };
      try {
        const result = await this.store.append(
          streamId,
          decided.map((event, k) => ({
            id: k === 0 ? eventId : derivedEventId(eventId, 'trip', String(k)),
            type: event.type,
            data: event.data,
            metadata,
          })),
          { expectedRevision: events.at(-1)?.revision ?? 'no_stream' },
        );
        const fromEnd = decided.length - 1;
        return {
          status: 'recorded',
          eventId,
          streamId,
          revision: result.nextExpectedRevision - fromEnd,
          position: result.position - fromEnd,
          findings: [],
        };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }
}
