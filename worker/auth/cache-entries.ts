/**
 * The auth caches' table and its eviction. Eviction is second-chance (CLOCK over insertion order),
 * close to LRU: a hit only marks its entry used, and the eviction sweep moves a used entry to the
 * back once instead of dropping it. An LRU touch per hit (Map delete + set) costs a hash-table
 * compaction every few hits once the table is nearly full, about 1.5 µs per hit at 1,000 entries
 * in workerd; a mark costs nothing.
 */

/** `used`: hit since the eviction sweep last passed it (its second chance). */
export type Entry<V> = { value: V | null; expiresAt: number; used: boolean };

/** Stores `entry` under `key` at the back of `entries`, then evicts down to `maxEntries`; returns how many it evicted. */
export function storeEntry<V>(entries: Map<string, Entry<V>>, key: string, entry: Entry<V>, maxEntries: number): number {
  entries.delete(key); // re-insert: a (re)loaded entry goes to the back
  entries.set(key, entry);
  let evicted = 0;
  // Second chance: a used entry at the front moves to the back unmarked; one pass unmarks them all.
  while (entries.size > maxEntries) {
    const oldest = entries.entries().next();
    if (oldest.done) break;
    const [oldestKey, e] = oldest.value;
    entries.delete(oldestKey);
    if (e.used) {
      e.used = false;
      entries.set(oldestKey, e);
    } else evicted++;
  }
  return evicted;
}
