// Every prediction of a model over a loader, for the pictures of an evaluation: the confusion
// matrix (src/train/confusion.ts) and the misclassified images (src/plot/confusion.ts).

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { noGrad } from '../autograd/grad_mode.js';
import { crossEntropy } from '../autograd/ops/loss.js';
import type { Tensor } from '../autograd/tensor.js';
import type { DataLoader } from '../data/dataloader.js';
import type { Dataset } from '../data/dataset.js';
import { confusionSvg, misclassifiedSvg, type MisclassifiedImage } from '../plot/confusion.js';
import { confusionMatrix, perClassAccuracy } from './confusion.js';
import { checkTta, ttaLogits, type TestTimeAugmentation } from './evaluate.js';
import type { TrainableModule } from './fit.js';

/**
 * What {@link predict} returns: each sample's predicted class, true label and confidence, with the overall accuracy
 * and mean loss.
 */
export interface Predictions {
  /** argmax class per sample, in the loader's order. */
  predicted: Int32Array;
  labels: Int32Array;
  /** Softmax probability of the predicted class. */
  confidence: Float32Array;
  accuracy: number;
  loss: number;
  count: number;
}

/**
 * Runs `model` over `loader` in eval mode without recording the graph (restoring the mode) and keeps every prediction;
 * `tta` as evaluate's (with 'flip', confidence is the mean of the two probabilities).
 */
export function predict(
  model: TrainableModule, loader: DataLoader, lossFn: (logits: Tensor, y: Tensor) => Tensor = crossEntropy, tta: TestTimeAugmentation = 'none',
): Predictions {
  checkTta('predict', tta);
  const predicted: number[] = [];
  const labels: number[] = [];
  const confidence: number[] = [];
  let lossSum = 0;
  let correct = 0;
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => {
      for (const { x, y } of loader.batches(0)) {
        const logits = ttaLogits(model, x, tta);
        const [n, c] = logits.shape;
        const d = logits.data;
        for (let i = 0; i < n; i++) {
          let best = 0;
          for (let k = 1; k < c; k++) if (d[i * c + k] > d[i * c + best]) best = k;
          let z = 0;
          for (let k = 0; k < c; k++) z += Math.exp(d[i * c + k] - d[i * c + best]);
          predicted.push(best);
          labels.push(y.data[i]);
          confidence.push(1 / z);
          if (best === y.data[i]) correct++;
        }
        lossSum += lossFn(logits, y).item() * y.size;
      }
    });
  } finally {
    model.train(wasTraining);
  }
  const count = labels.length;
  return {
    predicted: Int32Array.from(predicted), labels: Int32Array.from(labels), confidence: Float32Array.from(confidence),
    accuracy: count ? correct / count : NaN, loss: count ? lossSum / count : NaN, count,
  };
}

/** The first `max` misclassified samples of `dataset` (the loader's unshuffled source), as drawable images. */
export function misclassifiedImages(dataset: Dataset, p: Predictions, classNames: readonly string[], max = 32): MisclassifiedImage[] {
  const out: MisclassifiedImage[] = [];
  for (let i = 0; i < p.count && out.length < max; i++) {
    if (p.predicted[i] === p.labels[i]) continue;
    const { x } = dataset.get(i);
    out.push({
      pixels: x.data.subarray(0, x.height * x.width), width: x.width, height: x.height,
      trueName: classNames[p.labels[i]] ?? String(p.labels[i]), predictedName: classNames[p.predicted[i]] ?? String(p.predicted[i]),
      confidence: p.confidence[i],
    });
  }
  return out;
}

/**
 * What {@link writeEvaluationFiles} produced: the confusion CSV and SVG, the misclassified-images SVG, and the
 * numbers behind them.
 */
export interface EvaluationFiles {
  confusionCsv: string;
  confusionSvg: string;
  misclassifiedSvg: string;
  confusion: number[][];
  perClass: number[];
}

/** Writes confusion.csv (true class per row, predicted per column, with names), confusion.svg and misclassified.svg into `dir`. */
export async function writeEvaluationFiles(
  dir: string, dataset: Dataset, p: Predictions, classNames: readonly string[], options: { title?: string; maxImages?: number } = {},
): Promise<EvaluationFiles> {
  let k = classNames.length;
  for (let i = 0; i < p.count; i++) k = Math.max(k, p.labels[i] + 1, p.predicted[i] + 1);
  const confusion = confusionMatrix(p.predicted, p.labels, k);
  const perClass = perClassAccuracy(confusion);
  const names = Array.from({ length: k }, (_, i) => classNames[i] ?? String(i));
  // Class names are plain words here; quote them anyway so a comma in one cannot shift the columns.
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const csv = [['true\\predicted', ...names].map(q).join(','), ...confusion.map((row, i) => [q(names[i]), ...row].join(','))].join('\n') + '\n';
  const files = { confusionCsv: join(dir, 'confusion.csv'), confusionSvg: join(dir, 'confusion.svg'), misclassifiedSvg: join(dir, 'misclassified.svg') };
  const title = options.title ? ` — ${options.title}` : '';
  await writeFile(files.confusionCsv, csv);
  await writeFile(files.confusionSvg, confusionSvg(confusion, names, { title: `confusion matrix, accuracy ${p.accuracy.toFixed(4)} on ${p.count} images${title}` }));
  const wrong = misclassifiedImages(dataset, p, names, options.maxImages ?? 32);
  const nWrong = p.count - Math.round(p.accuracy * p.count);
  await writeFile(files.misclassifiedSvg, misclassifiedSvg(wrong, { title: `misclassified: first ${wrong.length} of ${nWrong} wrong test images${title}` }));
  return { ...files, confusion, perClass };
}
