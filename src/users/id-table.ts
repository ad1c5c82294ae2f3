/**
 * A map from user ID to value in fixed-size chunks: growing it never rehashes every entry at once (a JS Map of
 * 262,144 users copies them all when it doubles: a stall of ~100 ms that starves heartbeats).
 */

const SHIFT = 12;
const CHUNK = 1 << SHIFT;
const MASK = CHUNK - 1;

interface Chunk<V> {
  slots: Array<V | undefined>;
  count: number;
}

/** IDs (non-negative safe integers) to values. */
export class IdTable<V> {
  private readonly chunks = new Map<number, Chunk<V>>();
  size = 0;

  get(id: number): V | undefined {
    return this.chunks.get(Math.floor(id / CHUNK))?.slots[id & MASK];
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  set(id: number, v: V): void {
    const key = Math.floor(id / CHUNK);
    let c = this.chunks.get(key);
    if (!c) {
      c = { slots: new Array<V | undefined>(CHUNK).fill(undefined), count: 0 };
      this.chunks.set(key, c);
    }
    const i = id & MASK;
    if (c.slots[i] === undefined) {
      c.count++;
      this.size++;
    }
    c.slots[i] = v;
  }

  delete(id: number): boolean {
    const key = Math.floor(id / CHUNK);
    const c = this.chunks.get(key);
    const i = id & MASK;
    if (!c || c.slots[i] === undefined) return false;
    c.slots[i] = undefined;
    this.size--;
    if (--c.count === 0) this.chunks.delete(key);
    return true;
  }

  /** Every value, in no particular order. */
  forEach(fn: (v: V) => void): void {
    for (const c of this.chunks.values()) {
      const s = c.slots;
      for (let i = 0; i < CHUNK; i++) {
        const v = s[i];
        if (v !== undefined) fn(v);
      }
    }
  }

  /** Every ID, in no particular order. */
  keys(): number[] {
    const out: number[] = [];
    for (const [key, c] of this.chunks) {
      const s = c.slots;
      for (let i = 0; i < CHUNK; i++) if (s[i] !== undefined) out.push(key * CHUNK + i);
    }
    return out;
  }
}
