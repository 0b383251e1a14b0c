/**
 * What a fresh EventStoreDB already holds before any client writes: system events (stream names
 * and event types starting with `$`). They are here so that a client's "exclude system events"
 * filter has something to exclude, and so that no test can assume the log starts empty.
 */
import { randomUUID } from 'node:crypto';
import type { ProposedEvent, TransactionLog } from './log.js';

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

function systemEvent(eventType: string, data: unknown): ProposedEvent {
  return {
    eventId: randomUUID(),
    eventType,
    contentType: 'application/json',
    data: json(data),
    customMetadata: new Uint8Array(),
  };
}

/** Appends the system events a new node writes on its first start. */
export function seedSystemEvents(log: TransactionLog): void {
  log.commit('$settings', [
    systemEvent('$settings', {
      $userStreamAcl: { $r: '$all', $w: '$all', $d: '$all', $mr: '$all', $mw: '$all' },
      $systemStreamAcl: { $r: '$admins', $w: '$admins', $d: '$admins' },
    }),
  ]);
  log.commit('$$$scavenges', [systemEvent('$metadata', { $maxAge: 2_592_000 })]);
  log.commit('$scavenges', [
    systemEvent('$scavengeStarted', { scavengeId: randomUUID(), nodeEndpoint: '127.0.0.1:2113' }),
  ]);
  log.commit('$stats-127.0.0.1:2113', [systemEvent('$statsCollected', { 'proc-cpu': 0.5 })]);
}
