// Confusion matrices and per-class accuracy from predicted and true class indices.

function checkClass(what: string, value: number, i: number, numClasses: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= numClasses) {
    throw new RangeError(`confusionMatrix: ${what}[${i}] is ${value}; expected an integer class in [0, ${numClasses - 1}]`);
  }
}

/** counts[t][p] = how many samples of true class t were predicted as p (rows = true, columns = predicted). */
export function confusionMatrix(predicted: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): number[][] {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`confusionMatrix: numClasses must be an integer >= 1, got ${numClasses}`);
  }
  if (predicted.length !== labels.length) {
    throw new RangeError(`confusionMatrix: ${predicted.length} predictions but ${labels.length} labels`);
  }
  const counts = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = Number(labels[i]);
    const p = Number(predicted[i]);
    checkClass('labels', t, i, numClasses);
    checkClass('predicted', p, i, numClasses);
    counts[t][p]++;
  }
  return counts;
}

/** The diagonal over each row's total: the accuracy on each true class (NaN for a class with no samples). */
export function perClassAccuracy(confusion: readonly number[][]): number[] {
  return confusion.map((row, t) => {
    if (!Array.isArray(row) || row.length !== confusion.length) {
      throw new RangeError(`perClassAccuracy: row ${t} has ${Array.isArray(row) ? row.length : 'no'} columns; expected a square ${confusion.length}×${confusion.length} matrix`);
    }
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? NaN : row[t] / total;
  });
}
