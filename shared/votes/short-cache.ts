/**
 * A per-process cache for reads that many clients repeat (GET /results): each key is
 * loaded at most once per `ttlMs`, and concurrent misses share one load, so a thousand
 * browsers polling one election cost one Redis read per function instance per TTL,
 * not one per request. A failed load is not kept. Time is monotonic (a wall-clock
 * step cannot make an entry live forever), and the number of keys is bounded.
 */
export class ShortCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 1000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The cached value of `key`, or `load()`'s (which is then cached); `ttlMs` 0 never caches. */
  get(key: string, load: () => Promise<T>): Promise<T> {
    if (!(this.ttlMs > 0)) return load();
    const t = this.now();
    const hit = this.entries.get(key);
    if (hit && t - hit.at < this.ttlMs) return hit.value;
    if (hit) this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    const value = load();
    const entry = { at: t, value };
    this.entries.set(key, entry);
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }
}
