import { factKey, factsOf, type Fact, type FactSum } from '../../domain/compliance/facts.js';
import { intakeDaysOf, type SiteFacts } from '../../domain/compliance/indicators.js';
import { siteSchema } from '../../domain/master-data/master-data.js';
import type { WeighingEvent } from '../../domain/weighing/events.js';
import {
  evolveTicket,
  initialTicketState,
  type TicketState,
} from '../../domain/weighing/ticket.js';
import type { ComplianceSource } from '../../compliance/compliance-report.js';
import type { FactFilter } from '../../projections/compliance-facts/query.js';
import type { RecordedEvent } from '../../store/port.js';

const TICKET_PREFIX = 'ticket-';
const SITE_PREFIX = 'site-';

/**
 * The log folded in memory, without the ledger's database or its read models: each ticket's
 * state through the domain's own `evolveTicket`, each site's master data as last registered.
 * Its `source()` feeds the same indicator code the API runs, so a figure recomputed from it
 * differs from the published one only if the read model or the log does.
 */
export class FoldedLog {
  readonly #tickets = new Map<string, TicketState>();
  readonly #sites = new Map<string, SiteFacts>();
  #position = 0;
  #recordedAt: string | undefined;

  get position(): number {
    return this.#position;
  }

  push(event: RecordedEvent): void {
    this.#position = event.position;
    this.#recordedAt = event.recordedAt;
    if (event.streamId.startsWith(TICKET_PREFIX)) {
      const state = this.#tickets.get(event.streamId) ?? initialTicketState();
      this.#tickets.set(event.streamId, evolveTicket(state, event as unknown as WeighingEvent));
    } else if (event.streamId.startsWith(SITE_PREFIX)) {
      // The latest registration or update is the master data in force, as MasterData reads it.
      const site = siteSchema.safeParse(event.data);
      if (site.success) this.#sites.set(event.streamId.slice(SITE_PREFIX.length), site.data);
    }
  }

  #facts(filter: FactFilter): Fact[] {
    const facts: Fact[] = [];
    for (const state of this.#tickets.values()) {
      for (const fact of factsOf(state)) {
        if (fact.day < filter.from || fact.day > filter.to) continue;
        if (filter.districtId !== undefined && fact.districtId !== filter.districtId) continue;
        facts.push(fact);
      }
    }
    return facts;
  }

  /** Only "as of the folded position": the fold knows nothing else. */
  source(): ComplianceSource {
    const position = this.#position;
    const only = (asOf: number | undefined) => {
      if (asOf !== undefined && asOf !== position) {
        throw new Error(`this fold holds the log up to ${position}, not ${asOf}`);
      }
    };
    return {
      periodSums: (filter, asOf) => {
        only(asOf);
        const facts = this.#facts(filter);
        return Promise.resolve({
          sums: sum(facts.map((f) => ({ ...f, day: '' }))),
          intakeDays: intakeDaysOf(sum(facts)),
          checkpoint: position,
        });
      },
      factSums: (filter, asOf) => {
        only(asOf);
        return Promise.resolve({ sums: sum(this.#facts(filter)), checkpoint: position });
      },
      changesSince: () => Promise.reject(new Error('a fold lists no changes since a moment')),
      positionAt: () => Promise.reject(new Error('a fold is at one position only')),
      recordedAtOf: (p) =>
        Promise.resolve(
          p === position && this.#recordedAt !== undefined ? new Date(this.#recordedAt) : undefined,
        ),
      sites: (ids, p) => {
        only(p);
        const found = new Map<string, SiteFacts>();
        for (const id of ids) {
          const site = this.#sites.get(id);
          if (site !== undefined) found.set(id, site);
        }
        return Promise.resolve(found);
      },
    };
  }
}

/** Facts summed by every dimension, with the number of tickets in each. */
function sum(facts: readonly Fact[]): FactSum[] {
  const sums = new Map<string, FactSum>();
  for (const fact of facts) {
    const key = factKey(fact);
    const before = sums.get(key);
    sums.set(key, {
      ...fact,
      netKg: (before?.netKg ?? 0) + fact.netKg,
      tickets: (before?.tickets ?? 0) + 1,
    });
  }
  return [...sums.values()];
}
