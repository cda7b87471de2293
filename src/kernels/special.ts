// Special functions JavaScript's Math lacks: erf, erfc (double precision, about 1e-15 relative),
// and rounding half to even (IEEE's default, C's nearbyint, what torch.round does).

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const SERIES_LIMIT = 2.5;

/**
 * erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)): every term is positive, so the sum
 * has no cancellation. Used for |x| < 2.5, where it needs at most ~60 terms.
 */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/**
 * erfc(x) for x >= 2.5 from its continued fraction
 * erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated by Lentz's method.
 */
function erfcFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = d === 0 ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < SERIES_LIMIT) return x < 0 ? -erfSeries(ax) : erfSeries(x);
  if (ax > 6) return x > 0 ? 1 : -1; // erfc(6) ≈ 2e-17 is below half an ulp of 1
  const r = 1 - erfcFraction(ax);
  return x > 0 ? r : -r;
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < SERIES_LIMIT) return 1 - erf(x); // erfc(x) >= 4e-4 here: the subtraction keeps ~12 digits
  if (x > 27.3) return 0; // below the smallest double
  return erfcFraction(x);
}

/** Rounds to the nearest integer, ties to the even one (0.5 → 0, 1.5 → 2, −2.5 → −2), keeping −0. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties go toward +∞
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
