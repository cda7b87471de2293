// Confusion matrix and per-class accuracy of a classifier's predictions.

/** counts[t][p]: how many samples of true class t were predicted as p (rows = true, columns = predicted). */
export function confusionMatrix(predicted: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): number[][] {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`confusionMatrix: numClasses must be an integer >= 1, got ${numClasses}`);
  if (predicted.length !== labels.length) {
    throw new Error(`confusionMatrix: ${predicted.length} predictions but ${labels.length} labels`);
  }
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    const p = predicted[i];
    if (!Number.isInteger(t) || t < 0 || t >= numClasses) throw new Error(`confusionMatrix: label ${t} at index ${i} is outside [0, ${numClasses})`);
    if (!Number.isInteger(p) || p < 0 || p >= numClasses) throw new Error(`confusionMatrix: prediction ${p} at index ${i} is outside [0, ${numClasses})`);
    m[t][p]++;
  }
  return m;
}

/** Diagonal over row sum for each true class; NaN for a class with no samples. */
export function perClassAccuracy(confusion: readonly number[][]): number[] {
  return confusion.map((row, t) => {
    if (row.length !== confusion.length) throw new Error(`perClassAccuracy: row ${t} has ${row.length} entries, expected ${confusion.length} (a square matrix)`);
    let total = 0;
    for (const v of row) total += v;
    return total === 0 ? NaN : row[t] / total;
  });
}
