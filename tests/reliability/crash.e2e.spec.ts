/**
 * The crash test (scripts/crash-test.ts, `npm run crash-test` for longer runs) in its short CI
 * form: 20 SIGKILLs of a real server under ingestion, a fraction of a second to a second after
 * each restart, on PGlite's data folder and on PostgreSQL. Every acknowledged event must be in
 * the log exactly once, the log must verify and every read model must equal its rebuild.
 */
import { describe, expect, it } from 'vitest';
import {
  crashTest,
  defaultCrashTestOptions,
  type CrashTestOptions,
} from '../../scripts/crash-test.js';
import { POSTGRES_URL, postgresAvailable } from '../support/databases.js';

const postgres = await postgresAvailable();

/** Each run restarts the server 21 times; a start takes seconds (PGlite's more). */
const TIMEOUT_MS = 15 * 60_000;

function ciRun(backend: CrashTestOptions['backend']): CrashTestOptions {
  return {
    ...defaultCrashTestOptions,
    backend,
    kills: 20,
    secondsBetween: [0.3, 1.2],
    seed: 20_26,
    clients: 4,
    scale: 0.05,
    databaseUrl: POSTGRES_URL,
    log: (line) => console.log(line),
  };
}

describe.each([
  { backend: 'pglite' as const, skip: false },
  { backend: 'postgres' as const, skip: !postgres },
])('crash safety on $backend', ({ backend, skip }) => {
  it.skipIf(skip)(
    'loses and doubles no acknowledged event across 20 SIGKILLs, and its read models equal a rebuild',
    async () => {
      const report = await crashTest(ciRun(backend));
      expect(report.failures).toEqual([]);
      expect(report.kills).toBe(20);
      expect(report.acknowledged).toBeGreaterThan(0);
      expect(report.check).toMatchObject({ lost: [], duplicated: [], misplaced: [] });
      expect(report.check?.verification.ok).toBe(true);
      expect(report.ok).toBe(true);
    },
    TIMEOUT_MS,
  );
});
