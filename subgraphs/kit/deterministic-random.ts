/**
 * Deterministic pseudo-random numbers for seed data.
 *
 * Every generated entity draws from its own stream, derived from (seed, kind, id). That is what
 * lets one domain recompute another domain's facts without reading its database: the sales seed
 * knows a product's list price, the finance seed knows every order, and all of them agree.
 */
export const DEFAULT_SEED = 20_240_601;

function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  /** A stream for one entity: same (seed, kind, id) → same numbers, in any process. */
  static for(seed: number, kind: string, id: number): Random {
    return new Random(hashString(`${seed}:${kind}:${id}`));
  }

  /** mulberry32: small, fast, and good enough for realistic-looking data. */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks by weight: `weighted([['a', 3], ['b', 1]])` returns 'a' three times as often. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((sum, [, w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }
}

/** The seed data's calendar: three full years, fixed so that results are reproducible. */
export const DATA_START = Date.UTC(2023, 0, 1);
export const DATA_END = Date.UTC(2025, 11, 31);
const DAY = 86_400_000;

export const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
export const isoDateTime = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
export const addDays = (ms: number, days: number): number => ms + days * DAY;
export const randomInstant = (rng: Random, from = DATA_START, to = DATA_END): number =>
  from + Math.floor(rng.next() * (to - from));
export const round2 = (n: number): number => Math.round(n * 100) / 100;

/** How many entities each domain seeds, agreed mesh-wide so that cross-domain keys line up. */
export function entityCounts(scale: number) {
  return {
    customers: Math.round(5_000 * scale),
    products: Math.round(1_000 * scale),
    orders: Math.round(50_000 * scale),
  };
}
