// summary(model, inputShape): the seed's shape demo (`for layer in net: X = layer(X); print(...)`)
// as lines, then parameter counts. Works for any module: it records the output of each direct
// child as the model runs, so it needs no Sequential.

import { noGrad } from '../autograd/grad_mode.js';
import { zeros } from '../autograd/creation.js';
import { Tensor } from '../autograd/tensor.js';
import type { Module } from '../nn/module.js';

const shapeOf = (v: unknown): string => (v instanceof Tensor ? `[${v.shape.join(', ')}]` : typeof v);

/**
 * Runs `model` once on zeros of `inputShape` (no graph, eval mode so no running statistics move,
 * no random draws; every module's mode is restored afterwards) and returns one line per call of a
 * top-level layer — `Sequential output shape:\t [1, 64, 56, 56]` — then `Total params: N` and
 * `Trainable params: N`.
 */
export function summary(model: Module, inputShape: readonly number[]): string[] {
  const lines: string[] = [];
  const handles = model.children().map((child) =>
    child.registerForwardHook((m, _args, out) => void lines.push(`${m.className} output shape:\t ${shapeOf(out)}`)),
  );
  const modes = model.modules().map((m) => [m, m.training] as const);
  try {
    model.eval();
    noGrad(() => model.call(zeros(inputShape)));
  } finally {
    handles.forEach((h) => h.remove());
    for (const [m, training] of modes) m.training = training;
  }
  const params = model.parameters();
  const count = (ps: Tensor[]) => ps.reduce((n, p) => n + p.size, 0);
  lines.push(`Total params: ${count(params)}`, `Trainable params: ${count(params.filter((p) => p.requiresGrad))}`);
  return lines;
}
