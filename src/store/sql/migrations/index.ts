import type { Migration } from 'kysely';
import * as eventLog from './0001-event-log.js';

/** The event log's migrations, in order. */
export const storeMigrations: Record<string, Migration> = {
  '0001-event-log': eventLog,
};
