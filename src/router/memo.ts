// Memo per snapshot part (the router's snapshots are immutable by contract, so an object's
// identity stands for its contents).
//
// Entries are admitted on the second use of a key, not the first. A memoised value lives as
// long as the caller keeps the snapshot, so when every snapshot is decided once — a campaign
// wave over a whole book, an API call per debtor — memoising on first use only keeps hundreds
// of bytes per debtor alive for nothing: they survive the young generation, get copied twice,
// and the old generation they fill has to be marked again. Remembering that a key was seen
// costs one weak-set slot; a debtor decided several times pays for one extra computation.

export class SecondUseMemo<K extends object, V> {
  private readonly values = new WeakMap<K, V>();
  private readonly seen = new WeakSet<K>();

  get(key: K): V | undefined {
    return this.values.get(key);
  }

  /** Record `value` as computed for `key`: kept if `key` was offered before, else only noted as seen. */
  offer(key: K, value: V): void {
    if (this.seen.has(key)) this.values.set(key, value);
    else this.seen.add(key);
  }
}
