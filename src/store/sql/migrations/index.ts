import type { Migration } from 'kysely';
import * as eventLog from './0001-event-log.js';
import * as eventIdIndex from './0002-event-id-index.js';
import * as hashChain from './0003-hash-chain.js';

/** The event log's migrations, in order. */
export const storeMigrations: Record<string, Migration> = {
  '0001-event-log': eventLog,
  '0002-event-id-index': eventIdIndex,
  '0003-hash-chain': hashChain,
};
