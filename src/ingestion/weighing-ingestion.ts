import { LedgerError, RuleViolation } from '../domain/errors/catalogue.js';
import type { WeighingCommand } from '../domain/weighing/commands.js';
import { decideWeighing, plateOf } from '../domain/weighing/decide.js';
import {
  EVENT_SCHEMA_VERSION,
  gateStreamId,
  ticketStreamId,
  type GateEvent,
  type WeighingEvent,
} from '../domain/weighing/events.js';
import {
  evolveGate,
  gateStateFromTail,
  evolveTicket,
  initialGateState,
  initialTicketState,
  type GateState,
  type TicketState,
} from '../domain/weighing/ticket.js';
import { EventIdConflictError, WrongExpectedRevisionError } from '../store/errors.js';
import type { EventStore, EventToAppend, RecordedEvent, StreamAppend } from '../store/port.js';
import { derivedEventId, requestDigest } from './ids.js';
import type { MasterData } from './master-data.js';

/** One weighbridge report as the API receives it: the client's event id and a command. */
export interface IngestItem {
  readonly eventId: string;
  readonly command: WeighingCommand;
}

export type ItemOutcome =
  | {
      readonly status: 'recorded' | 'duplicate';
      readonly eventId: string;
      readonly streamId: string;
      readonly revision: number;
      readonly position: number;
      /** Findings recorded with the event (tare drift, repeat weighing). */
      readonly findings: readonly string[];
    }
  | { readonly status: 'rejected'; readonly eventId: string; readonly error: LedgerError };

export interface IngestOptions {
  /** The ledger's clock (ms since the epoch) when the request arrived. */
  readonly now: number;
  readonly actor: string;
  readonly correlationId: string;
}

/** An item's outcome before the append: final, to be appended, or the same as an earlier item's. */
type Planned =
  | ItemOutcome
  | {
      readonly pending: {
        readonly streamId: string;
        readonly index: number;
        readonly findings: string[];
      };
    }
  | { readonly sameAs: number };

/** The findings recorded after a stored report (their ids derive from its id), in order. */
function storedFindings(byId: ReadonlyMap<string, RecordedEvent>, eventId: string): string[] {
  const findings: string[] = [];
  for (let k = 1; ; k += 1) {
    const finding = byId.get(derivedEventId(eventId, 'ticket', String(k)));
    if (finding === undefined) return findings;
    findings.push(finding.type);
  }
}

/** The same client event id sent for another report: refused, whatever it was used for. */
export function eventIdConflict(eventId: string): ItemOutcome {
  return {
    status: 'rejected',
    eventId,
    error: new LedgerError(
      'LEDGER_ERR_EVENT_ID_CONFLICT',
      `Event ${eventId} was already recorded with other content`,
      { field: 'eventId', eventId },
    ),
  };
}

/** How often a batch is decided again when a concurrent writer moved one of its streams. */
const MAX_ATTEMPTS = 12;
/** The longest pause before deciding a batch again (see `ingest`). */
const MAX_RETRY_PAUSE_MS = 500;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A report found stored in its ticket (by the id index) after the ticket was read without it:
 * a concurrent request recorded the same report meanwhile. Decided again, it is a retry.
 */
class StaleTicketRead extends LedgerError {
  constructor(streamId: string) {
    super('LEDGER_ERR_WRONG_EXPECTED_REVISION', `Stream ${streamId} changed while it was read`, {
      streamId,
    });
  }
}

interface StreamState<S> {
  state: S;
  /** The revision the batch will expect (null: the stream does not exist). */
  readonly expected: number | null;
  /** Events of the stream by id, for recognising retries. */
  readonly byId: Map<string, RecordedEvent>;
  /** Events this batch will append to the stream. */
  readonly pending: EventToAppend[];
}

/**
 * A correction or void decided on a revision of the ticket that is no longer its latest (this
 * batch's earlier items count): refused with the current revision. When two stations race, the
 * loser's append fails, its batch is decided again on the fresh ticket, and lands here.
 */
function staleExpectation(
  command: WeighingCommand,
  streamId: string,
  ticket: StreamState<TicketState>,
): RuleViolation | undefined {
  if (command.type !== 'CorrectTicket' && command.type !== 'VoidTicket') return undefined;
  const expected = command.data.expectedRevision;
  if (expected === undefined) return undefined;
  const latest = (ticket.expected ?? -1) + ticket.pending.length;
  const actual = latest < 0 ? null : latest;
  if (actual === expected) return undefined;
  return new RuleViolation(
    'LEDGER_ERR_WRONG_EXPECTED_REVISION',
    `Ticket ${command.data.ticketNo} at ${command.data.siteId} is at revision ${
      actual === null ? 'none (it does not exist)' : String(actual)
    }, not ${expected}: it changed since it was read`,
    'expectedRevision',
    { streamId, expectedRevision: expected, actualRevision: actual },
  );
}

/**
 * Ticket stream ids join site and number with a dash, which both may contain: site `a-b`'s
 * ticket `1` and site `a`'s ticket `b-1` share `ticket-a-b-1`. A report on a stream that holds
 * another ticket's events is refused, never decided on that ticket's state.
 */
function sharedStream(
  command: WeighingCommand,
  ticket: StreamState<TicketState>,
): RuleViolation | undefined {
  const { siteId, ticketNo } = command.data;
  for (const event of [...ticket.byId.values(), ...ticket.pending]) {
    const other = event.data as { siteId?: unknown; ticketNo?: unknown };
    if (other.siteId === siteId && other.ticketNo === ticketNo) continue;
    return new RuleViolation(
      'LEDGER_ERR_TICKET_NUMBER_REUSED',
      `Ticket ${ticketNo} at ${siteId} would share its stream with ticket ${String(other.ticketNo)} at ${String(other.siteId)}: use another ticket number`,
      'ticketNo',
    );
  }
  return undefined;
}

/** How many of a gate stream's last events are read to find its state (see #loadGates). */
const GATE_TAIL = 32;

function streamStateOf<S>(state: S, events: readonly RecordedEvent[]): StreamState<S> {
  return {
    state,
    expected: events.at(-1)?.revision ?? null,
    byId: new Map(events.map((e) => [e.id, e])),
    pending: [],
  };
}

/**
 * Records weighbridge reports. A batch is decided item by item against the tickets' current
 * state (each item sees the ones before it), then everything it records is appended in one
 * atomic call that expects every stream's revision as read. If another writer moved a stream
 * meanwhile, the whole batch is decided again. An item that breaks a rule is rejected on its
 * own; the others are recorded.
 */
export class WeighingIngestion {
  constructor(
    private readonly store: EventStore,
    private readonly masterData: MasterData,
    private readonly timeZone: string,
  ) {}

  async ingest(items: readonly IngestItem[], options: IngestOptions): Promise<ItemOutcome[]> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#attempt(items, options);
      } catch (error) {
        // A concurrent writer moved a stream, or stored an id this batch meant to use: decide
        // again on fresh streams (where the id check below then names the item at fault).
        const retry =
          error instanceof WrongExpectedRevisionError ||
          error instanceof EventIdConflictError ||
          error instanceof StaleTicketRead;
        if (!retry || attempt >= MAX_ATTEMPTS) throw error;
        // Writers that collided would collide again if they all came straight back: each waits
        // a random while, longer after every loss, so that one at a time gets through.
        await delay(Math.random() * Math.min(MAX_RETRY_PAUSE_MS, 10 * 2 ** attempt));
      }
    }
  }

  async #attempt(items: readonly IngestItem[], options: IngestOptions): Promise<ItemOutcome[]> {
    const tickets = await this.#load(
      items.map((i) => ticketStreamId(i.command.data.siteId, i.command.data.ticketNo)),
      initialTicketState,
      (state: TicketState, e) => evolveTicket(state, e as unknown as WeighingEvent),
    );
    const sites = await this.masterData.sites(items.map((i) => i.command.data.siteId));
    const plates = new Set<string>();
    for (const item of items) {
      const ticket = tickets.get(
        ticketStreamId(item.command.data.siteId, item.command.data.ticketNo),
      );
      const plate = ticket === undefined ? undefined : plateOf(item.command, ticket.state);
      if (plate !== undefined) plates.add(plate);
    }
    const vehicles = await this.masterData.vehicles(plates);
    const gates = await this.#loadGates(
      items.flatMap((i) => {
        const ticket = tickets.get(ticketStreamId(i.command.data.siteId, i.command.data.ticketNo));
        const plate = ticket === undefined ? undefined : plateOf(i.command, ticket.state);
        return plate === undefined ? [] : [gateStreamId(i.command.data.siteId, plate)];
      }),
    );

    const outcomes: Planned[] = [];
    // Client ids already used anywhere in the log: an id means one report, ledger-wide.
    const usedAt = await this.store.streamsOfEventIds(items.map((i) => i.eventId));
    const seenInBatch = new Map<string, { digest: string; outcomeIndex: number }>();

    for (const item of items) {
      const { command, eventId } = item;
      const digest = requestDigest(command.type, command.data);
      const streamId = ticketStreamId(command.data.siteId, command.data.ticketNo);
      const ticket = tickets.get(streamId);
      if (ticket === undefined) throw new Error(`ticket stream ${streamId} was not loaded`);
      const shared = sharedStream(command, ticket);
      if (shared !== undefined) {
        outcomes.push({ status: 'rejected', eventId, error: shared });
        continue;
      }

      // A retry: within this batch, or of an event already stored.
      const earlier = seenInBatch.get(eventId);
      const stored = ticket.byId.get(eventId);
      if (earlier !== undefined || stored !== undefined) {
        const sameContent =
          earlier !== undefined
            ? earlier.digest === digest
            : stored?.metadata.requestDigest === digest;
        if (!sameContent) {
          outcomes.push(eventIdConflict(eventId));
        } else if (earlier !== undefined) {
          outcomes.push({ sameAs: earlier.outcomeIndex });
        } else if (stored !== undefined) {
          outcomes.push({
            status: 'duplicate',
            eventId,
            streamId,
            revision: stored.revision,
            position: stored.position,
            findings: storedFindings(ticket.byId, eventId),
          });
        }
        continue;
      }
      const usedIn = usedAt.get(eventId) ?? [];
      if (usedIn.includes(streamId)) throw new StaleTicketRead(streamId);
      if (usedIn.length > 0) {
        outcomes.push(eventIdConflict(eventId));
        continue;
      }
      const stale = staleExpectation(command, streamId, ticket);
      if (stale !== undefined) {
        outcomes.push({ status: 'rejected', eventId, error: stale });
        continue;
      }

      const plate = plateOf(command, ticket.state);
      const gate =
        plate === undefined ? undefined : gates.get(gateStreamId(command.data.siteId, plate));
      try {
        const decision = decideWeighing(command, ticket.state, {
          now: options.now,
          timeZone: this.timeZone,
          site: sites.get(command.data.siteId),
          vehicle: plate === undefined ? undefined : vehicles.get(plate),
          gate: gate?.state ?? initialGateState(),
        });
        // The client's id goes on the event it reported; derived ids on what follows it.
        const ticketIds = decision.ticket.map((_, k) =>
          k === 0 ? eventId : derivedEventId(eventId, 'ticket', String(k)),
        );
        const gateIds = decision.gate.map((_, k) => derivedEventId(eventId, 'gate', String(k)));
        if (
          ticketIds.some((id) => ticket.byId.has(id)) ||
          gateIds.some((id) => gate?.byId.has(id) === true)
        ) {
          // The id was used before for another report (e.g. another ticket of this plate here).
          outcomes.push(eventIdConflict(eventId));
          continue;
        }
        const metadata = {
          correlationId: options.correlationId,
          causationId: eventId,
          actor: options.actor,
          schemaVersion: EVENT_SCHEMA_VERSION,
          requestDigest: digest,
          ...('device' in command.data && command.data.device !== undefined
            ? { sourceDevice: command.data.device }
            : {}),
        };
        const index0 = ticket.pending.length;
        decision.ticket.forEach((event, k) => {
          ticket.pending.push({
            id: ticketIds[k] ?? eventId,
            type: event.type,
            data: event.data,
            metadata,
          });
          ticket.state = evolveTicket(ticket.state, event);
        });
        if (decision.gate.length > 0) {
          if (gate === undefined) throw new Error(`gate stream for ${streamId} was not loaded`);
          decision.gate.forEach((event, k) => {
            gate.pending.push({
              id: gateIds[k] ?? derivedEventId(eventId, 'gate', String(k)),
              type: event.type,
              data: event.data,
              metadata,
            });
            gate.state = evolveGate(gate.state, event);
          });
        }
        seenInBatch.set(eventId, { digest, outcomeIndex: outcomes.length });
        outcomes.push({
          pending: {
            streamId,
            index: index0,
            findings: decision.ticket.slice(1).map((e) => e.type),
          },
        });
      } catch (error) {
        if (!(error instanceof RuleViolation) && !(error instanceof LedgerError)) throw error;
        outcomes.push({ status: 'rejected', eventId, error });
      }
    }

    const appends: StreamAppend[] = [...tickets, ...gates]
      .filter(([, s]) => s.pending.length > 0)
      .map(([streamId, s]) => ({
        streamId,
        events: s.pending,
        expectedRevision: s.expected === null ? 'no_stream' : s.expected,
      }));
    const written = appends.length === 0 ? [] : await this.store.appendMany(appends);
    const results = new Map(written.map((r) => [r.streamId, r]));

    const resolved: ItemOutcome[] = [];
    for (const [i, outcome] of outcomes.entries()) {
      if ('status' in outcome) {
        resolved.push(outcome);
        continue;
      }
      if ('sameAs' in outcome) {
        const original = resolved[outcome.sameAs];
        if (original === undefined) throw new Error('a repeated item without its original');
        resolved.push(
          original.status === 'rejected' ? original : { ...original, status: 'duplicate' },
        );
        continue;
      }
      const { streamId, index, findings } = outcome.pending;
      const stream = tickets.get(streamId);
      const result = results.get(streamId);
      const item = items[i];
      if (stream === undefined || result === undefined || item === undefined) {
        throw new Error(`no append result for ${streamId}`);
      }
      // Events of one stream take consecutive revisions and positions (see the port).
      const fromEnd = stream.pending.length - 1 - index;
      resolved.push({
        // Idempotent: a concurrent request appended these very events first (the same report).
        status: result.idempotent ? 'duplicate' : 'recorded',
        eventId: item.eventId,
        streamId,
        revision: result.nextExpectedRevision - fromEnd,
        position: result.position - fromEnd,
        findings,
      });
    }
    return resolved;
  }

  /** Reads the streams in one call and folds each into its state. */
  /**
   * Gate streams by their tails (see gateStateFromTail): a batch's cost must not grow with the
   * days a vehicle has been weighing. A tail that cannot tell the state is read whole.
   */
  async #loadGates(streamIds: readonly string[]): Promise<Map<string, StreamState<GateState>>> {
    const unique = [...new Set(streamIds)];
    const tails = await this.store.readStreams(unique, { lastEvents: GATE_TAIL });
    const loaded = new Map<string, StreamState<GateState>>();
    const undecided: string[] = [];
    for (const [streamId, events] of tails) {
      const state = gateStateFromTail(
        events.map((e) => e as unknown as GateEvent),
        events.length < GATE_TAIL || events[0]?.revision === 0,
      );
      if (state === undefined) undecided.push(streamId);
      else loaded.set(streamId, streamStateOf(state, events));
    }
    if (undecided.length > 0) {
      for (const [streamId, stream] of await this.#load(undecided, initialGateState, (s, e) =>
        evolveGate(s, e as unknown as GateEvent),
      )) {
        loaded.set(streamId, stream);
      }
    }
    return loaded;
  }

  async #load<S>(
    streamIds: readonly string[],
    initial: () => S,
    evolve: (state: S, event: { type: string; data: unknown }) => S,
  ): Promise<Map<string, StreamState<S>>> {
    const streams = await this.store.readStreams([...new Set(streamIds)]);
    const loaded = new Map<string, StreamState<S>>();
    for (const [streamId, events] of streams) {
      let state = initial();
      for (const event of events) state = evolve(state, event);
      loaded.set(streamId, streamStateOf(state, events));
    }
    return loaded;
  }
}
