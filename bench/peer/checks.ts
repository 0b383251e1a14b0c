import type pg from 'pg';
import type { DayCategoryTotal } from '../workload/net-kg-projection.js';
import { TICKET_EVENT_TYPES } from '../workload/tickets.js';

export type Groups = ReadonlyMap<string, DayCategoryTotal>;

/**
 * What a read of the whole log delivered, checked as it streams by (nothing is kept but the
 * ids): how many, whether each came once, and whether global positions only went up.
 */
export class ReadTally {
  readonly #ids = new Set<string>();
  #count = 0;
  #last = 0;
  /** Events that came after one with a higher position. */
  #behind = 0;
  #dense = true;

  add(id: string, position: number): void {
    this.#count += 1;
    this.#ids.add(id);
    if (position <= this.#last) this.#behind += 1;
    if (position !== this.#count) this.#dense = false;
    this.#last = Math.max(this.#last, position);
  }

  get count(): number {
    return this.#count;
  }

  /** Delivered = stored, each once, in increasing position order. */
  exactlyOnceInOrder(stored: number): boolean {
    return this.#count === stored && this.#ids.size === this.#count && this.#behind === 0;
  }

  describe(stored: number): string {
    const missing = stored - this.#ids.size;
    return [
      `${this.#count}/${stored} delivered`,
      this.#ids.size === this.#count ? 'distinct' : `${this.#count - this.#ids.size} duplicate(s)`,
      missing > 0 ? `${missing} never delivered` : '',
      this.#behind === 0
        ? 'positions increasing'
        : `positions NOT increasing (${this.#behind} came after a higher one)`,
      this.#dense ? 'dense (1…n)' : '',
    ]
      .filter((s) => s !== '')
      .join(', ');
  }
}

export function sameGroups(a: Groups, b: Groups): boolean {
  return (
    a.size === b.size &&
    [...a].every(([k, v]) => b.get(k)?.netKg === v.netKg && b.get(k)?.events === v.events)
  );
}

interface GroupRow {
  key: string;
  net_kg: string | number;
  events: string | number;
}

function toGroups(rows: readonly GroupRow[]): Groups {
  return new Map(rows.map((r) => [r.key, { netKg: Number(r.net_kg), events: Number(r.events) }]));
}

/** The read model as a projection left it (same table shape for both stores). */
export async function readModelGroups(client: pg.Client): Promise<Groups> {
  const { rows } = await client.query<GroupRow>(
    `SELECT to_char(day, 'YYYY-MM-DD') || '|' || category AS key, net_kg, events FROM bench_net_kg`,
  );
  return toGroups(rows);
}

/**
 * The same sums straight from a store's own table of events, in SQL: the check that does not go
 * through either store's read path. Only ticket events (the log may also hold seals).
 */
export async function directSqlGroups(
  client: pg.Client,
  table: { readonly name: string; readonly data: string; readonly type: string },
): Promise<Groups> {
  const { data, type } = table;
  const { rows } = await client.query<GroupRow>(
    `SELECT to_char((${data}->>'weighedInAt')::timestamptz AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')
              || '|' || (${data}->>'category') AS key,
            sum(CASE WHEN ${type} = 'VehicleWeighedOut' THEN (${data}->>'netKg')::bigint ELSE 0 END) AS net_kg,
            count(*) AS events
       FROM ${table.name} WHERE ${type} = ANY($1) GROUP BY 1`,
    [[...TICKET_EVENT_TYPES]],
  );
  return toGroups(rows);
}

/** The projection check, as text and verdict: model = direct SQL sum = fold of what was written. */
export function projectionCheck(
  model: Groups,
  sqlSum: Groups,
  expected: Groups,
  ticketEventsStored: number,
): { check: string; ok: boolean } {
  const vsSql = sameGroups(model, sqlSum);
  const vsFold = sameGroups(model, expected);
  const events = [...model.values()].reduce((n, g) => n + g.events, 0);
  return {
    ok: vsSql && vsFold && events === ticketEventsStored,
    check:
      `${model.size} groups, ${events}/${ticketEventsStored} events counted; ` +
      `${vsSql ? '=' : '≠'} SQL sum over its events table, ${vsFold ? '=' : '≠'} fold of the events written`,
  };
}
