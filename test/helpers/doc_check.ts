// `expr; // => value` in a doc block: the value the doc shows must be what the code gives.

function close(actual: unknown, expected: unknown): boolean {
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (Number.isNaN(expected)) return Number.isNaN(actual);
    if (!Number.isFinite(expected)) return actual === expected;
    // Docs print numbers rounded: agree to 6 significant digits, or to the digits the doc shows.
    const d = decimals(expected);
    return Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)) + (d > 0 ? 0.5 * 10 ** -d : 0);
  }
  if (Array.isArray(expected)) {
    const a = ArrayBuffer.isView(actual) ? Array.from(actual as unknown as ArrayLike<number>) : actual;
    return Array.isArray(a) && a.length === expected.length && expected.every((e, i) => close(a[i], e));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return false;
    const keys = Object.keys(expected);
    return keys.length === Object.keys(actual).length && keys.every((k) => close((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]));
  }
  return Object.is(actual, expected);
}

function decimals(x: number): number {
  const s = String(x);
  const dot = s.indexOf('.');
  return dot < 0 || s.includes('e') ? 0 : s.length - dot - 1;
}

export function check(run: () => unknown, expected: unknown, where: string): void {
  const actual = run();
  if (!close(actual, expected)) {
    throw new Error(`${where}: the doc says ${JSON.stringify(expected)}, the code gives ${JSON.stringify(actual, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v))}`);
  }
}
