/**
 * skipgrad.optim: optimizers, learning-rate schedulers and gradient clipping, as `torch.optim`
 * and `torch.nn.utils.clip_grad_*` (torch 1.13's updates and formulas). `sg.SGD`, `sg.Adam`,
 * `sg.AdamW`, `sg.clipGradNorm` and `sg.clipGradValue` are also exported at the top level.
 *
 * @module
 */
export {
  Optimizer, type HyperParams, type SchedulerFields, type ParamGroup, type ParamGroupSpec, type Params,
  type ParamState, type StateKind, type OptimizerStateDict,
} from './optimizer.js';
export { SGD, type SGDHyper, type SGDOptions } from './sgd.js';
export { Adam, type AdamHyper, type AdamOptions } from './adam.js';
export { AdamW } from './adamw.js';
export { LRScheduler, type SchedulerStateDict } from './lr_scheduler.js';
export { StepLR, MultiStepLR, CosineAnnealingLR, LinearLR } from './schedulers.js';
export { OneCycleLR, type OneCycleLROptions } from './one_cycle_lr.js';
export { SequentialLR, ChainedScheduler } from './composite_lr.js';
export { clipGradNorm, clipGradValue, type ClipGradNormOptions } from './clip_grad.js';
