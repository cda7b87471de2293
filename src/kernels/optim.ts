// The optimizer updates on flat arrays: torch 1.13's single-tensor SGD and Adam/AdamW.
//
// The plain loops are the reference: float64 arithmetic per element, the parameter and its
// state buffers stored in their own dtype (so float32 state is rounded on every store and read
// back rounded, as PyTorch's float32 state is): the reference backend's kernels. The wasm
// backend takes float32 arrays to WebAssembly SIMD (fast/optim.ts), which gives the same bits.

import type { FloatArray, TypedArray } from './dtype.js';
import { fastEligible, fastEngine } from './fast/engine.js';
import { adamWasm, sgdWasm } from './fast/optim.js';
import { kernelChains, noKernel, registerKernel } from './backend.js';

/** SGD's hyperparameters as the kernel takes them, as `torch.optim.SGD`'s. */
export interface SgdHyperParams {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

/** Adam's hyperparameters as the kernel takes them, as `torch.optim.Adam`'s. */
export interface AdamHyperParams {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

const allF32 = (...xs: (TypedArray | null)[]): boolean => xs.every((x) => x === null || x instanceof Float32Array);

function useWasm(n: number, ...xs: (TypedArray | null)[]) {
  return fastEligible(n) && allF32(...xs) ? fastEngine() : null;
}

/**
 * One SGD step on `data`: d = ±grad + weightDecay·p; buf = d on the first step, else
 * momentum·buf + (1 − dampening)·d; d = nesterov ? d + momentum·buf : buf; p -= lr·d.
 * `buf` is null without momentum; `first` marks the step that creates it.
 */
export function sgdStep(data: FloatArray, grad: TypedArray, buf: FloatArray | null, first: boolean, h: SgdHyperParams): void {
  const chain = kernelChains().sgdStep;
  for (let i = 0; i < chain.length; i++) if (chain[i](data, grad, buf, first, h)) return;
  throw noKernel('sgdStep');
}

function sgdStepWasm(data: FloatArray, grad: TypedArray, buf: FloatArray | null, first: boolean, h: SgdHyperParams): boolean {
  const eng = useWasm(data.length, data, grad, buf);
  if (!eng) return false;
  const { lr, momentum, dampening, weightDecay, nesterov, maximize } = h;
  sgdWasm(eng, data as Float32Array, grad as Float32Array, buf as Float32Array | null, first, {
    lr, weightDecay, momentum, oneMinusDampening: 1 - dampening, nesterov, maximize,
  });
  return true;
}

export function sgdReference(data: FloatArray, grad: TypedArray, buf: FloatArray | null, first: boolean, h: SgdHyperParams): void {
  const { lr, momentum, dampening, weightDecay: wd, nesterov, maximize } = h;
  const n = data.length;
  for (let i = 0; i < n; i++) {
    let d = maximize ? -grad[i] : grad[i];
    if (wd !== 0) d += wd * data[i];
    if (buf) {
      // The first step copies d into the buffer with no dampening, as PyTorch's clone does.
      buf[i] = first ? d : momentum * buf[i] + (1 - dampening) * d;
      d = nesterov ? d + momentum * buf[i] : buf[i];
    }
    data[i] -= lr * d;
  }
}

/** The per-step scalars, computed once so both paths use the same values. */
function adamScalars(h: AdamHyperParams, step: number) {
  const [beta1, beta2] = h.betas;
  return { beta1, beta2, stepSize: h.lr / (1 - beta1 ** step), bc2Sqrt: Math.sqrt(1 - beta2 ** step) };
}

/**
 * One Adam step (step count `step`, from 1) on `data` with moment buffers m, v and, for
 * amsgrad, vMax. `decoupled` = AdamW: p *= 1 − lr·wd first, and no L2 term in the gradient.
 */
export function adamStep(data: FloatArray, grad: TypedArray, m: FloatArray, v: FloatArray, vMax: FloatArray | null, h: AdamHyperParams, step: number, decoupled: boolean): void {
  const chain = kernelChains().adamStep;
  for (let i = 0; i < chain.length; i++) if (chain[i](data, grad, m, v, vMax, h, step, decoupled)) return;
  throw noKernel('adamStep');
}

function adamStepWasm(data: FloatArray, grad: TypedArray, m: FloatArray, v: FloatArray, vMax: FloatArray | null, h: AdamHyperParams, step: number, decoupled: boolean): boolean {
  const eng = useWasm(data.length, data, grad, m, v, vMax);
  if (!eng) return false;
  const { lr, eps, weightDecay: wd, maximize } = h;
  const keep = decoupled && lr * wd !== 0;
  adamWasm(eng, data as Float32Array, grad as Float32Array, m as Float32Array, v as Float32Array, vMax as Float32Array | null, {
    ...adamScalars(h, step),
    decay: keep ? 'decoupled' : !decoupled && wd !== 0 ? 'l2' : 'none',
    maximize,
    keep: 1 - lr * wd,
    l2: wd,
    eps,
  });
  return true;
}

registerKernel('sgdStep', 'wasm', sgdStepWasm);
registerKernel('adamStep', 'wasm', adamStepWasm);
registerKernel('sgdStep', 'reference', (data, grad, buf, first, h) => {
  sgdReference(data, grad, buf, first, h);
  return true;
});
registerKernel('adamStep', 'reference', (data, grad, m, v, vMax, h, step, decoupled) => {
  adamReference(data, grad, m, v, vMax, h, step, decoupled);
  return true;
});

export function adamReference(data: FloatArray, grad: TypedArray, m: FloatArray, v: FloatArray, vMax: FloatArray | null, h: AdamHyperParams, step: number, decoupled: boolean): void {
  const { lr, eps, weightDecay: wd, maximize } = h;
  const n = data.length;
  if (decoupled && lr * wd !== 0) {
    const keep = 1 - lr * wd;
    for (let i = 0; i < n; i++) data[i] *= keep;
  }
  const { beta1, beta2, stepSize, bc2Sqrt } = adamScalars(h, step);
  const l2 = decoupled ? 0 : wd;
  for (let i = 0; i < n; i++) {
    let gi = maximize ? -grad[i] : grad[i];
    if (l2 !== 0) gi += l2 * data[i];
    m[i] = beta1 * m[i] + (1 - beta1) * gi;
    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
    // amsgrad normalises by the running maximum of v (Math.max propagates NaN, as torch.maximum).
    const vi = vMax ? (vMax[i] = Math.max(vMax[i], v[i])) : v[i];
    data[i] -= (stepSize * m[i]) / (Math.sqrt(vi) / bc2Sqrt + eps);
  }
}
