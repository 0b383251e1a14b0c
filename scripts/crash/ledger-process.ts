import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LedgerHttp } from './http.js';

/** The repository's root (this file is scripts/crash/ledger-process.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * How the server is started: `dist` runs the compiled build (`node dist/main.js`, the faster
 * start), `tsx` runs the sources through tsx's loader in the same process (so that SIGKILL hits
 * the server itself, not a wrapper), `auto` takes `dist` when it is newer than every source file.
 */
export type ServerRunner = 'auto' | 'dist' | 'tsx';

function newestIn(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newestIn(full) : statSync(full).mtimeMs);
  }
  return latest;
}

/** `dist` or `tsx` for `auto`, and why. */
export function resolveRunner(runner: ServerRunner): { runner: 'dist' | 'tsx'; note?: string } {
  if (runner !== 'auto') return { runner };
  let built = 0;
  try {
    built = statSync(path.join(REPO_ROOT, 'dist/main.js')).mtimeMs;
  } catch {
    return { runner: 'tsx', note: 'no build in dist/: the server runs through tsx' };
  }
  if (newestIn(path.join(REPO_ROOT, 'src')) > built) {
    return {
      runner: 'tsx',
      note: 'dist/ is older than src/: the server runs through tsx (npm run build starts it faster)',
    };
  }
  return { runner: 'dist' };
}

function command(runner: 'dist' | 'tsx'): string[] {
  return runner === 'dist' ? ['dist/main.js'] : ['--import', 'tsx', 'src/main.ts'];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One ledger server process at a time, started, killed and restarted on the same port. */
export class LedgerProcess {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #starts = 0;

  constructor(
    private readonly options: {
      readonly runner: 'dist' | 'tsx';
      /** The server's whole environment. */
      readonly env: NodeJS.ProcessEnv;
      /** The server's output, appended across restarts. */
      readonly logFile: string;
      readonly http: LedgerHttp;
      readonly readyTimeoutMs?: number;
    },
  ) {}

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts the server and resolves once `GET /health` answers 200. */
  async start(): Promise<void> {
    if (this.#child !== undefined) throw new Error('the ledger is already running');
    this.#starts += 1;
    const log = openSync(this.options.logFile, 'a');
    const child = spawn(process.execPath, command(this.options.runner), {
      cwd: REPO_ROOT,
      env: this.options.env,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.#child = child;
    let exitedWith: string | undefined;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        exitedWith = signal ?? `code ${String(code)}`;
        if (this.#child === child) this.#child = undefined;
        resolve();
      });
    });
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 120_000);
    for (;;) {
      if (exitedWith !== undefined) {
        throw new Error(
          `the ledger exited (${exitedWith}) before it was ready (start ${this.#starts}); ` +
            `its output:\n${this.tail()}`,
        );
      }
      try {
        const health = await this.options.http.request('GET', '/health');
        if (health.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(
          `the ledger was not ready in time (start ${this.#starts}):\n${this.tail()}`,
        );
      }
      await sleep(50);
    }
  }

  /** SIGKILL: no shutdown hook runs, requests in flight lose their connection. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    child.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM: the server finishes its requests and closes the database; killed after the grace. */
  async stop(graceMs = 30_000): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    child.kill('SIGTERM');
    const stopped = await Promise.race([
      this.#exited.then(() => true),
      sleep(graceMs).then(() => false),
    ]);
    if (!stopped) await this.kill();
  }

  /** The last lines the server wrote. */
  tail(lines = 30): string {
    try {
      return readFileSync(this.options.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no output)';
    }
  }
}
