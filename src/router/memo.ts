// Memo per snapshot part (the router's snapshots are immutable by contract, so an object's
// identity stands for its contents).
//
// Entries are admitted on the second use of a key, not the first: when every snapshot is
// decided once (a campaign wave, an API call per debtor), first-use memos only keep memory
// alive for nothing. Why and what it measured: docs/adr/0007-router-hot-path.md.

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
