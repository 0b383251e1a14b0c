import { RuleViolation } from '../errors/catalogue.js';
import {
  legalGrossLimitKg,
  siteAccepts,
  siteValidOn,
  type Site,
  type Vehicle,
} from '../master-data/master-data.js';
import type { Kg } from '../shared/kilograms.js';
import type { Load } from '../shared/materials.js';
import { businessDay, epochMs, MAX_CLOCK_AHEAD_MS } from '../shared/time.js';
import type { WeighingCommand } from './commands.js';
import type { GateEvent, SiteSnapshot, WeighingEvent, WeighingEventData } from './events.js';
import type { GateState, TicketState } from './ticket.js';

/** What the decision needs besides the ticket: looked up by the caller, never by the domain. */
export interface WeighingContext {
  /** The ledger's clock when the command arrived (ms since the epoch). */
  readonly now: number;
  /** IANA time zone of the business day, e.g. Asia/Shanghai. */
  readonly timeZone: string;
  readonly site: Site | undefined;
  readonly vehicle: Vehicle | undefined;
  /** The plate's gate state at the site (for the plate the command names, if any). */
  readonly gate: GateState;
}

export interface WeighingDecision {
  readonly ticket: readonly WeighingEvent[];
  readonly gate: readonly GateEvent[];
}

/**
 * A measured tare may drift this far from the stored one before it is a finding: 200 kg or 2 %
 * of the stored tare, whichever is more. Drifts are whole kilograms, so 2 % is rounded down
 * (10 025 kg stored: 200.5 kg, and a drift of 201 kg is beyond it).
 */
export function tareToleranceKg(storedTareKg: number): number {
  return Math.max(200, Math.floor(storedTareKg / 50));
}

/** Two weigh-ins of one plate at one site closer than this are a finding. */
export const REPEAT_WEIGHING_WINDOW_S = 5 * 60;

/**
 * Decides what a weighbridge command records on its ticket (and the plate's gate stream), or
 * throws the rule it breaks. Pure: the clock, master data and gate state come in the context.
 */
export function decideWeighing(
  command: WeighingCommand,
  state: TicketState,
  context: WeighingContext,
): WeighingDecision {
  switch (command.type) {
    case 'RecordWeighIn':
    case 'RecordOnePassWeighing':
      return decideFirstWeighing(command, state, context);
    case 'RecordWeighOut':
      return decideWeighOut(command.data, state, context);
    case 'RejectLoad':
      return decideRejection(command.data, state, context);
    case 'CorrectTicket':
      return decideCorrection(command.data, state, context);
    case 'VoidTicket':
      return decideVoid(command.data, state, context);
    default: {
      const unknown: never = command;
      return unknown;
    }
  }
}

function knownSite(context: WeighingContext, siteId: string): Site {
  if (context.site === undefined) {
    throw new RuleViolation(
      'LEDGER_ERR_UNKNOWN_SITE',
      `Site ${siteId} is not registered`,
      'siteId',
    );
  }
  return context.site;
}

function knownVehicle(context: WeighingContext, plate: string): Vehicle {
  if (context.vehicle === undefined) {
    throw new RuleViolation(
      'LEDGER_ERR_UNKNOWN_VEHICLE',
      `Vehicle ${plate} is not registered`,
      'plate',
    );
  }
  return context.vehicle;
}

function notInFuture(context: WeighingContext, at: string, field: string): void {
  if (epochMs(at) > context.now + MAX_CLOCK_AHEAD_MS) {
    throw new RuleViolation(
      'LEDGER_ERR_TIME_IN_FUTURE',
      `${field} ${at} is more than 10 minutes ahead of the ledger's clock`,
      field,
    );
  }
}

function checkWeights(grossKg: Kg, tareKg: Kg | undefined, vehicle: Vehicle): void {
  const limit = legalGrossLimitKg(vehicle.axles);
  if (grossKg > limit) {
    throw new RuleViolation(
      'LEDGER_ERR_OVER_LEGAL_LIMIT',
      `Gross ${grossKg} kg is above the legal limit of ${limit} kg for ${vehicle.axles} axles`,
      'grossKg',
      { limitKg: limit },
    );
  }
  if (tareKg !== undefined && tareKg >= grossKg) {
    throw new RuleViolation(
      'LEDGER_ERR_TARE_NOT_BELOW_GROSS',
      `Tare ${tareKg} kg is not below gross ${grossKg} kg`,
      'tareKg',
    );
  }
}

function checkAccepted(site: Site, load: Load): void {
  if (!siteAccepts(site, load)) {
    const what = load.kind === 'waste' ? load.category : load.residue;
    throw new RuleViolation(
      'LEDGER_ERR_NOT_ACCEPTED',
      `Site ${site.siteId} does not accept ${what}`,
      'load',
    );
  }
}

function snapshot(site: Site): SiteSnapshot {
  return site.operation === undefined
    ? { kind: site.kind, districtId: site.districtId }
    : { kind: site.kind, operation: site.operation, districtId: site.districtId };
}

function decideFirstWeighing(
  command: Extract<WeighingCommand, { type: 'RecordWeighIn' | 'RecordOnePassWeighing' }>,
  state: TicketState,
  context: WeighingContext,
): WeighingDecision {
  const data = command.data;
  const site = knownSite(context, data.siteId);
  const vehicle = knownVehicle(context, data.plate);
  notInFuture(context, data.weighedInAt, 'weighedInAt');
  if (state.status !== 'none') {
    throw new RuleViolation(
      'LEDGER_ERR_TICKET_NUMBER_REUSED',
      `Ticket ${data.ticketNo} at ${data.siteId} already exists with other content`,
      'ticketNo',
    );
  }
  const day = businessDay(data.weighedInAt, context.timeZone);
  if (!siteValidOn(site, day)) {
    throw new RuleViolation(
      'LEDGER_ERR_SITE_NOT_VALID',
      `Site ${site.siteId} is not permitted on ${day}`,
      'siteId',
    );
  }
  if (data.direction === 'inbound') {
    checkAccepted(site, data.load);
    if (data.origin === undefined) {
      throw new RuleViolation(
        'LEDGER_ERR_INVALID_INPUT',
        'An inbound ticket says where the load came from',
        'origin',
      );
    }
  } else if (data.destination === undefined) {
    throw new RuleViolation(
      'LEDGER_ERR_INVALID_INPUT',
      'An outbound ticket names the receiving site',
      'destination',
    );
  }
  const onePass = command.type === 'RecordOnePassWeighing' ? command.data : undefined;
  checkWeights(data.grossKg, onePass?.tareKg, vehicle);
  const gate = context.gate;
  if (gate.openTicketNo !== undefined && gate.openTicketNo !== data.ticketNo) {
    throw new RuleViolation(
      'LEDGER_ERR_PLATE_HAS_OPEN_TICKET',
      `Vehicle ${data.plate} already has open ticket ${gate.openTicketNo} at ${data.siteId}`,
      'plate',
      { openTicketNo: gate.openTicketNo },
    );
  }

  const first = {
    siteId: data.siteId,
    ticketNo: data.ticketNo,
    direction: data.direction,
    plate: data.plate,
    load: data.load,
    grossKg: data.grossKg,
    weighedInAt: data.weighedInAt,
    businessDay: day,
    ...(data.origin === undefined ? {} : { origin: data.origin }),
    ...(data.destination === undefined ? {} : { destination: data.destination }),
    site: snapshot(site),
    ...(data.device === undefined ? {} : { device: data.device }),
  };
  const ticket: WeighingEvent[] =
    onePass === undefined
      ? [{ type: 'VehicleWeighedIn', data: first }]
      : [
          {
            type: 'VehicleWeighedOnePass',
            data: {
              ...first,
              tareKg: onePass.tareKg,
              tareSource: onePass.tareSource,
              netKg: (data.grossKg - onePass.tareKg) as Kg,
            },
          },
        ];
  if (gate.last !== undefined) {
    // Compared in milliseconds: 299.5 s apart is within the window, whatever it rounds to.
    const apartMs = epochMs(data.weighedInAt) - epochMs(gate.last.weighedInAt);
    if (apartMs >= 0 && apartMs < REPEAT_WEIGHING_WINDOW_S * 1000) {
      ticket.push({
        type: 'RepeatWeighingSuspected',
        data: {
          siteId: data.siteId,
          ticketNo: data.ticketNo,
          plate: data.plate,
          previousTicketNo: gate.last.ticketNo,
          previousWeighedInAt: gate.last.weighedInAt,
          secondsApart: Math.floor(apartMs / 1000),
        },
      });
    }
  }
  const gateEvents: GateEvent[] = [
    {
      type: 'PlateWeighedInAtGate',
      data: {
        siteId: data.siteId,
        ticketNo: data.ticketNo,
        plate: data.plate,
        weighedInAt: data.weighedInAt,
        ticketOpen: onePass === undefined,
      },
    },
  ];
  return { ticket, gate: gateEvents };
}

function decideWeighOut(
  data: Extract<WeighingCommand, { type: 'RecordWeighOut' }>['data'],
  state: TicketState,
  context: WeighingContext,
): WeighingDecision {
  notInFuture(context, data.weighedOutAt, 'weighedOutAt');
  if (state.status !== 'open') {
    throw new RuleViolation(
      'LEDGER_ERR_TICKET_NOT_OPEN',
      `Ticket ${data.ticketNo} at ${data.siteId} has no open weigh-in (it is ${state.status})`,
      'ticketNo',
    );
  }
  const { weighIn } = state;
  if (epochMs(data.weighedOutAt) < epochMs(weighIn.weighedInAt)) {
    throw new RuleViolation(
      'LEDGER_ERR_OUT_OF_ORDER',
      `Weigh-out at ${data.weighedOutAt} is before the weigh-in at ${weighIn.weighedInAt}`,
      'weighedOutAt',
    );
  }
  if (data.tareKg >= weighIn.grossKg) {
    throw new RuleViolation(
      'LEDGER_ERR_TARE_NOT_BELOW_GROSS',
      `Tare ${data.tareKg} kg is not below gross ${weighIn.grossKg} kg`,
      'tareKg',
    );
  }
  const ticket: WeighingEvent[] = [
    {
      type: 'VehicleWeighedOut',
      data: {
        siteId: data.siteId,
        ticketNo: data.ticketNo,
        tareKg: data.tareKg,
        tareSource: 'measured',
        weighedOutAt: data.weighedOutAt,
        netKg: (weighIn.grossKg - data.tareKg) as Kg,
      },
    },
  ];
  const stored = context.vehicle?.storedTareKg;
  if (stored !== undefined) {
    const drift = data.tareKg - stored;
    const tolerance = tareToleranceKg(stored);
    if (Math.abs(drift) > tolerance) {
      ticket.push({
        type: 'TareDriftFound',
        data: {
          siteId: data.siteId,
          ticketNo: data.ticketNo,
          plate: weighIn.plate,
          storedTareKg: stored,
          measuredTareKg: data.tareKg,
          driftKg: drift,
          toleranceKg: tolerance,
        },
      });
    }
  }
  return { ticket, gate: [closeAtGate(data.siteId, data.ticketNo, weighIn.plate)] };
}

function closeAtGate(siteId: string, ticketNo: string, plate: string): GateEvent {
  return { type: 'PlateTicketClosedAtGate', data: { siteId, ticketNo, plate } };
}

function decideRejection(
  data: Extract<WeighingCommand, { type: 'RejectLoad' }>['data'],
  state: TicketState,
  context: WeighingContext,
): WeighingDecision {
  const site = knownSite(context, data.siteId);
  notInFuture(context, data.rejectedAt, 'rejectedAt');
  if (state.status !== 'none') {
    throw new RuleViolation(
      'LEDGER_ERR_TICKET_NUMBER_REUSED',
      `Ticket ${data.ticketNo} at ${data.siteId} already exists with other content`,
      'ticketNo',
    );
  }
  const rejected: WeighingEventData<'LoadRejected'> = {
    siteId: data.siteId,
    ticketNo: data.ticketNo,
    plate: data.plate,
    load: data.load,
    reason: data.reason,
    ...(data.note === undefined ? {} : { note: data.note }),
    rejectedAt: data.rejectedAt,
    businessDay: businessDay(data.rejectedAt, context.timeZone),
    ...(data.origin === undefined ? {} : { origin: data.origin }),
    site: snapshot(site),
  };
  return { ticket: [{ type: 'LoadRejected', data: rejected }], gate: [] };
}

function decideCorrection(
  data: Extract<WeighingCommand, { type: 'CorrectTicket' }>['data'],
  state: TicketState,
  context: WeighingContext,
): WeighingDecision {
  notInFuture(context, data.correctedAt, 'correctedAt');
  if (state.status === 'voided') {
    throw new RuleViolation(
      'LEDGER_ERR_TICKET_VOIDED',
      `Ticket ${data.ticketNo} is voided`,
      'ticketNo',
    );
  }
  if (state.status !== 'weighed') {
    throw new RuleViolation(
      'LEDGER_ERR_TICKET_NOT_WEIGHED',
      `Ticket ${data.ticketNo} at ${data.siteId} has no complete weighing to correct (it is ${state.status})`,
      'ticketNo',
    );
  }
  const current = state.weighing;
  const grossKg = data.grossKg ?? current.grossKg;
  const tareKg = data.tareKg ?? current.tareKg;
  const load = data.load ?? current.load;
  if (context.vehicle !== undefined) checkWeights(grossKg, tareKg, context.vehicle);
  else if (tareKg >= grossKg) {
    throw new RuleViolation(
      'LEDGER_ERR_TARE_NOT_BELOW_GROSS',
      `Tare ${tareKg} kg is not below gross ${grossKg} kg`,
      'tareKg',
    );
  }
  if (current.direction === 'inbound' && context.site !== undefined)
    checkAccepted(context.site, load);
  const origin = data.origin ?? current.origin;
  const destination = data.destination ?? current.destination;
  const corrected: WeighingEventData<'TicketCorrected'> = {
    siteId: data.siteId,
    ticketNo: data.ticketNo,
    version: current.version + 1,
    grossKg,
    tareKg,
    netKg: (grossKg - tareKg) as Kg,
    load,
    ...(origin === undefined ? {} : { origin }),
    ...(destination === undefined ? {} : { destination }),
    reason: data.reason,
    approvedBy: data.approvedBy,
    correctedAt: data.correctedAt,
  };
  return { ticket: [{ type: 'TicketCorrected', data: corrected }], gate: [] };
}

function decideVoid(
  data: Extract<WeighingCommand, { type: 'VoidTicket' }>['data'],
  state: TicketState,
  context: WeighingContext,
): WeighingDecision {
  notInFuture(context, data.voidedAt, 'voidedAt');
  if (state.status === 'none') {
    throw new RuleViolation(
      'LEDGER_ERR_TICKET_NOT_OPEN',
      `Ticket ${data.ticketNo} at ${data.siteId} does not exist`,
      'ticketNo',
    );
  }
  if (state.status === 'voided') {
    throw new RuleViolation(
      'LEDGER_ERR_TICKET_VOIDED',
      `Ticket ${data.ticketNo} is already voided`,
      'ticketNo',
    );
  }
  const voided = {
    type: 'TicketVoided' as const,
    data: {
      siteId: data.siteId,
      ticketNo: data.ticketNo,
      reason: data.reason,
      approvedBy: data.approvedBy,
      voidedAt: data.voidedAt,
    },
  };
  // Voiding an open ticket frees the plate at the gate.
  const gate =
    state.status === 'open' ? [closeAtGate(data.siteId, data.ticketNo, state.weighIn.plate)] : [];
  return { ticket: [voided], gate };
}

/** The plate a command concerns (to look up its vehicle and gate), if the command names one. */
export function plateOf(command: WeighingCommand, state: TicketState): string | undefined {
  switch (command.type) {
    case 'RecordWeighIn':
    case 'RecordOnePassWeighing':
    case 'RejectLoad':
      return command.data.plate;
    case 'RecordWeighOut':
    case 'CorrectTicket':
    case 'VoidTicket':
      if (state.status === 'open') return state.weighIn.plate;
      if (state.status === 'weighed') return state.weighing.plate;
      return undefined;
  }
}
