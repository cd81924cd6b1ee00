/**
 * In-memory `NonceStore` for tests and the single-process local stack. On AWS the store must be shared by all
 * instances (a conditional put with TTL in DynamoDB); this one only sees its own process.
 */
import type { NonceStore } from './push.ts';

export interface MemoryNonceStoreOptions {
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Entries are kept this long past their timestamp; match the push window (default 300 s). */
  windowSeconds?: number;
  /** Hard bound on memory; the oldest entries go first (default 100 000). */
  maxEntries?: number;
}

export class MemoryNonceStore implements NonceStore {
  readonly #entries = new Map<string, { timestamp: number; fingerprint: string }>();
  readonly #now: () => number;
  readonly #window: number;
  readonly #max: number;

  constructor(options: MemoryNonceStoreOptions) {
    this.#now = options.now;
    this.#window = options.windowSeconds ?? 300;
    this.#max = options.maxEntries ?? 100_000;
  }

  get size(): number {
    return this.#entries.size;
  }

  async seen(nonce: string, timestamp: number, fingerprint: string): Promise<boolean> {
    this.#prune();
    // A replay repeats the signed timestamp too: keying on both avoids false alarms between different requests.
    const key = `${timestamp}:${nonce}`;
    const known = this.#entries.get(key);
    if (known) return known.fingerprint !== fingerprint;
    this.#entries.set(key, { timestamp, fingerprint });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    return false;
  }

  /** Drops entries whose timestamp is out of the window: such requests are refused as stale before the store. */
  #prune(): void {
    const cutoff = this.#now() / 1000 - this.#window;
    for (const [key, entry] of this.#entries) {
      if (entry.timestamp >= cutoff) break;
      this.#entries.delete(key);
    }
  }
}
