/**
 * Counts "something was appended" signals (from LISTEN/NOTIFY or from this process's own
 * appends) so that a subscriber can ask "has anything happened since I last looked?" without
 * missing a signal that arrived between its read and its wait.
 */
export class AppendSignal {
  #version = 0;
  #waiters = new Set<() => void>();

  get version(): number {
    return this.#version;
  }

  notify(): void {
    this.#version += 1;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /**
   * Resolves when a signal newer than `seen` arrives, after `timeoutMs` (the polling fallback,
   * which also covers a lost notification connection), or when `signal` aborts.
   */
  waitForNewerThan(seen: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#version !== seen || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
    });
  }
}
