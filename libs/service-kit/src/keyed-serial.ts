// Per-disk serialisation (like a per-gendisk mutex): the work queued for one key runs one
// item at a time, in order; different keys run independently.

/**
 * Invariants:
 *   - `run(key, fn)` starts `fn` only after everything queued earlier for `key` settled,
 *     whether it resolved or threw; `fn`'s result or error goes to its own caller only.
 *   - A key with nothing queued holds no memory.
 */
export class KeyedSerial {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.tails.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Resolves once everything queued for `key` so far has settled. */
  async settled(key: string): Promise<void> {
    await this.tails.get(key);
  }
}
