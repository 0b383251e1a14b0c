import { LedgerError } from '../domain/errors/catalogue.js';
import type { ExpectedRevision } from './port.js';

/** The one error for a failed expectation; carries the stream's actual revision (null: no stream). */
export class WrongExpectedRevisionError extends LedgerError {
  readonly streamId: string;
  readonly expectedRevision: ExpectedRevision;
  readonly actualRevision: number | null;

  constructor(streamId: string, expectedRevision: ExpectedRevision, actualRevision: number | null) {
    super(
      'LEDGER_ERR_WRONG_EXPECTED_REVISION',
      `Stream ${streamId}: expected revision ${String(expectedRevision)}, actual ${
        actualRevision === null ? 'no stream' : String(actualRevision)
      }`,
      { streamId, expectedRevision, actualRevision },
    );
    this.streamId = streamId;
    this.expectedRevision = expectedRevision;
    this.actualRevision = actualRevision;
  }
}

/** An event id already stored in the stream with other content, or not at the place appended to. */
export class EventIdConflictError extends LedgerError {
  readonly streamId: string;
  readonly eventId: string;

  constructor(streamId: string, eventId: string, reason: string) {
    super('LEDGER_ERR_EVENT_ID_CONFLICT', `Stream ${streamId}: event ${eventId} ${reason}`, {
      streamId,
      eventId,
      reason,
    });
    this.streamId = streamId;
    this.eventId = eventId;
  }
}
