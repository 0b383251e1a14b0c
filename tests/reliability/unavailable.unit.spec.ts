import { describe, expect, it } from 'vitest';
import { isStoreUnavailable } from '../../src/store/unavailable.js';

const coded = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('isStoreUnavailable', () => {
  it.each([
    ['connection refused', coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['connection reset', coded('ECONNRESET', 'read ECONNRESET')],
    ['connect timed out', coded('ETIMEDOUT')],
    ['host unreachable', coded('EHOSTUNREACH')],
    ['a restart ends the session (admin_shutdown)', coded('57P01', 'terminating connection')],
    ['the server crashed (crash_shutdown)', coded('57P02')],
    ['the server is starting up (cannot_connect_now)', coded('57P03')],
    ['too many connections', coded('53300')],
    ['connection failure (class 08)', coded('08006')],
    ['pg: the socket closed under a query', new Error('Connection terminated unexpectedly')],
    ['pg: the connect timed out', new Error('Connection terminated due to connection timeout')],
    ['pg-pool: no connection in time', new Error('timeout exceeded when trying to connect')],
    [
      'pg: a client whose socket failed',
      new Error('Client has encountered a connection error and is not queryable'),
    ],
    [
      'EventStoreDB: unavailable',
      Object.assign(new Error('14 UNAVAILABLE'), { type: 'unavailable' }),
    ],
    [
      'wrapped: the cause is a refused connection',
      new Error('append failed', { cause: coded('ECONNREFUSED') }),
    ],
    [
      'every address refused (AggregateError)',
      Object.assign(new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], ''), {
        code: 'ECONNREFUSED',
      }),
    ],
    ['AggregateError without a code of its own', new AggregateError([coded('ECONNREFUSED')], '')],
  ])('%s: unavailable', (_, error) => {
    expect(isStoreUnavailable(error)).toBe(true);
  });

  it.each([
    ['a syntax error', coded('42601', 'syntax error at or near "SELEC"')],
    ['a unique violation', coded('23505', 'duplicate key value violates unique constraint')],
    ['a serialization failure', coded('40001')],
    ['a ledger error code', coded('LEDGER_ERR_WRONG_EXPECTED_REVISION')],
    ['a plain error', new Error('SELECT secret FROM x')],
    ['a message that only contains the words', new Error('not a Connection terminated thing')],
    [
      'EventStoreDB: wrong expected version',
      Object.assign(new Error('x'), { type: 'wrong-expected-version' }),
    ],
    ['not an error', 'ECONNREFUSED'],
    ['nothing', undefined],
    ['null', null],
  ])('%s: not unavailable', (_, error) => {
    expect(isStoreUnavailable(error)).toBe(false);
  });

  it('follows causes only so deep (a cycle ends)', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(isStoreUnavailable(a)).toBe(false);
  });
});
