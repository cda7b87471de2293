// One seeded generator behind every random op, so runs are reproducible and checkpointable.
// xoshiro128** (32-bit state words, exact in JS integer arithmetic), seeded through splitmix32.

/** A `Generator`'s full state (`getState`/`setState`), plain data so it can go into a checkpoint. */
export interface GeneratorState {
  /** The four 32-bit xoshiro128** state words. */
  s: [number, number, number, number];
  /** A Box–Muller spare normal, kept so a restored state continues the same sequence. */
  spare: number | null;
}

/**
 * A seeded pseudo-random generator (xoshiro128**), as `torch.Generator`: every random op draws from
 * `defaultGenerator` unless given one, so runs are reproducible. Its sequence is its own, not PyTorch's.
 */
export class Generator {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  /** A generator seeded with `seed` (see `manualSeed`). */
  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Reseeds (any number; the integer part is used, through splitmix32), as `Generator.manual_seed`. */
  manualSeed(seed: number): this {
    let x = (Math.trunc(seed) ^ Math.trunc(seed / 2 ** 32)) >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s[0] === 0 && this.s[1] === 0 && this.s[2] === 0 && this.s[3] === 0) this.s[0] = 1;
    this.spare = null;
    return this;
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [low, high). */
  randint(low: number, high: number): number {
    return low + Math.floor(this.random() * (high - low));
  }

  /** A copy of the current state, as `Generator.get_state`. */
  getState(): GeneratorState {
    return { s: [this.s[0], this.s[1], this.s[2], this.s[3]], spare: this.spare };
  }

  /**
   * Restores a state from `getState`, so the sequence continues exactly from there, as `Generator.set_state`.
   */
  setState(state: GeneratorState): void {
    if (!state || !Array.isArray(state.s) || state.s.length !== 4) {
      throw new Error('Generator.setState: expected {s: [4 uint32], spare}');
    }
    this.s.set(state.s.map((v) => v >>> 0));
    this.spare = state.spare ?? null;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The default generator used by every random op unless one is passed explicitly. */
export const defaultGenerator = new Generator(0);

/** Seeds the default generator (PyTorch's `torch.manual_seed`). */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}
