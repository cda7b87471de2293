// Every documented engine error, with its exact message: each names the op and the shapes involved.

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';

const f64 = { dtype: 'float64' } as const;
const int = (v: sg.NestedArray) => sg.tensor(v, { dtype: 'int32' });
const z = (...shape: number[]) => sg.zeros(shape);

/** The message `fn` throws (the test fails if it does not throw). */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error, none was thrown');
}

const ROWS: [what: string, fn: () => unknown, message: string][] = [
  // matmul
  ['matmul inner dims', () => z(2, 3).matmul(z(4, 5)), 'matmul: [2,3] @ [4,5]: inner dimensions 3 and 4 differ'],
  ['matmul 1-D inner dims', () => z(3).matmul(z(4)), 'matmul: [3] @ [4]: inner dimensions 3 and 4 differ'],
  ['matmul batched inner dims', () => z(2, 3, 4).matmul(z(2, 5, 6)), 'matmul: [2,3,4] @ [2,5,6]: inner dimensions 4 and 5 differ'],
  ['matmul batch dims', () => z(2, 3, 4).matmul(z(3, 4, 5)),
    'matmul: batch dims of [2,3,4] @ [3,4,5]: shapes [2] and [3] cannot be broadcast: dimension -1 is 2 vs 3'],
  ['matmul 0-d', () => z().matmul(z(3)), 'matmul: both operands need at least 1 dim, got [] @ [3]'],
  // broadcasting
  ['add broadcast', () => z(2, 3).add(z(4)), 'add: shapes [2,3] and [4] cannot be broadcast: dimension -1 is 3 vs 4'],
  ['mul broadcast', () => z(2, 3, 4).mul(z(5, 1)), 'mul: shapes [2,3,4] and [5,1] cannot be broadcast: dimension -2 is 3 vs 5'],
  ['where broadcast', () => sg.where(int([1, 0]), z(3), z(3)),
    'where: shapes [2] and [3] cannot be broadcast: dimension -1 is 2 vs 3'],
  ['expand', () => z(2, 3).expand([4, 3, 4]), 'expand: shape [2,3] cannot be expanded to [4,3,4] (dim 1: 2 vs 3)'],
  ['expand -1 in a new dim', () => z(3).expand([-1, 3]), 'expand: invalid shape [-1,3] for input [3] (-1 only keeps an existing dim)'],
  ['expand to fewer dims', () => z(2, 3).expand([3]), 'expand: cannot expand shape [2,3] to fewer dims [3]'],
  // reshape
  ['reshape size', () => z(2, 3).reshape([4, 2]), 'reshape: shape [4,2] is invalid for input of shape [2,3] (6 elements)'],
  ['reshape -1 not divisible', () => z(2, 3).reshape([-1, 4]), 'reshape: shape [-1,4] is invalid for input of shape [2,3]'],
  ['reshape two -1', () => z(2, 3).reshape([-1, -1]), 'reshape: only one dimension can be -1, got [-1,-1]'],
  // dims
  ['sum dim', () => z(2, 3).sum(2), 'sum: dim 2 is out of range for a tensor of rank 2 (shape [2,3], dims -2..1)'],
  ['sum repeated dim', () => z(2, 3).sum([1, -1]), 'sum: repeated dim in [1,-1]'],
  ['mean dim', () => z(2, 3).mean(-3), 'mean: dim -3 is out of range for a tensor of rank 2 (shape [2,3], dims -2..1)'],
  ['max dim', () => z(2, 3).max(5), 'max: dim 5 is out of range for a tensor of rank 2 (shape [2,3], dims -2..1)'],
  ['min dim', () => z(2, 3).min(-4), 'min: dim -4 is out of range for a tensor of rank 2 (shape [2,3], dims -2..1)'],
  ['max over an empty dim', () => z(2, 0).max(1), 'max: cannot reduce dim 1 of size 0 in shape [2,0]'],
  ['min over an empty dim', () => z(0, 3).min(0), 'min: cannot reduce dim 0 of size 0 in shape [0,3]'],
  ['max of an empty tensor', () => z(0).max(), 'max: cannot reduce an empty tensor'],
  ['var dim', () => z(2, 3).var(3), 'var: dim 3 is out of range for a tensor of rank 2 (shape [2,3], dims -2..1)'],
  ['softmax dim', () => z(2, 3).softmax(2), 'softmax: dim 2 is out of range for a tensor of rank 2'],
  ['logSoftmax dim', () => z(2, 3).logSoftmax(-3), 'logSoftmax: dim -3 is out of range for a tensor of rank 2'],
  ['transpose dim', () => z(2, 3).transpose(0, 2), 'transpose: dim 2 is out of range for a tensor of rank 2'],
  ['permute length', () => z(2, 3).permute([0]), 'permute: [0] has 1 dims, the tensor has 2'],
  ['permute repeated', () => z(2, 3).permute([1, -1]), 'permute: repeated dim in [1,-1]'],
  ['unsqueeze dim', () => z(2, 3).unsqueeze(4), 'unsqueeze: dim 4 is out of range for a tensor of rank 3'],
  ['squeeze dim', () => z(2, 3).squeeze(2), 'squeeze: dim 2 is out of range for a tensor of rank 2'],
  ['flatten order', () => z(2, 3, 4).flatten(2, 1), 'flatten: startDim 2 comes after endDim 1'],
  ['slice dim', () => z(2, 3).slice(2, 0, 1), 'slice: dim 2 is out of range for a tensor of rank 2'],
  ['slice step', () => z(2, 3).slice(1, 0, 3, 0), 'slice: step must be a positive integer, got 0'],
  // cat / stack
  ['cat shapes', () => sg.cat([z(2, 3), z(2, 4)], 0), 'cat: shapes [2,3] and [2,4] differ outside dim 0'],
  ['cat ranks', () => sg.cat([z(2, 3), z(2, 3, 1)], 1), 'cat: shapes [2,3] and [2,3,1] differ outside dim 1'],
  ['cat dtypes', () => sg.cat([z(2), sg.zeros([2], f64)]), 'cat: dtypes float32 and float64 differ'],
  ['cat dim', () => sg.cat([z(2), z(2)], 1), 'cat: dim 1 is out of range for a tensor of rank 1'],
  ['cat empty', () => sg.cat([]), 'cat: expected a non-empty list of tensors'],
  ['stack shapes', () => sg.stack([z(2, 3), z(3, 2)]), 'stack: shapes [2,3] and [3,2] differ'],
  // gather
  ['gather out of bounds', () => z(2, 5).gather(1, int([[0, 5], [1, 2]])), 'gather: index 5 is out of bounds for dim 1 of size 5'],
  ['gather negative index', () => z(2, 5).gather(1, int([[0, -1], [1, 2]])), 'gather: index -1 is out of bounds for dim 1 of size 5'],
  ['gather index dtype', () => z(2, 5).gather(1, z(2, 2)), 'gather: index must be int32, got float32'],
  ['gather index rank', () => z(2, 5).gather(1, int([0, 1])), 'gather: index [2] and input [2,5] must have the same number of dims'],
  ['gather index too large', () => z(2, 5).gather(1, int([[0], [1], [2]])), 'gather: index [3,1] is larger than input [2,5] at dim 0'],
  // losses
  ['crossEntropy target range', () => sg.crossEntropy(z(2, 4), int([1, 4])), 'crossEntropy: target 4 at position 1 is out of range for 4 classes'],
  ['crossEntropy negative target', () => sg.crossEntropy(z(2, 4), int([-1, 0])), 'crossEntropy: target -1 at position 0 is out of range for 4 classes'],
  ['crossEntropy target dtype', () => sg.crossEntropy(z(2, 4), z(2)),
    "crossEntropy: target [2] does not match input [2,4] (a float32 target holds class probabilities and needs the input's shape; class indices are int32 of shape [2])"],
  ['crossEntropy target shape', () => sg.crossEntropy(z(2, 4), int([[1], [2]])),
    'crossEntropy: target [2,1] does not match input [2,4] (expected [2])'],
  ['crossEntropy target length', () => sg.crossEntropy(z(2, 4), int([1, 2, 3])),
    'crossEntropy: target [3] does not match input [2,4] (expected [2])'],
  ['crossEntropy input rank', () => sg.crossEntropy(z(2, 4, 3), int([1, 2])), 'crossEntropy: target [2] does not match input [2,4,3] (expected [2,3])'],
  ['crossEntropy 0-d input', () => sg.crossEntropy(z(), int(1)), 'crossEntropy: input must be [C], [N, C] or [N, C, d1, …], got a 0-d tensor'],
  ['nllLoss target dtype', () => sg.nllLoss(z(2, 4), z(2)), 'nllLoss: target must hold int32 class indices, got float32'],
  ['crossEntropy weight shape', () => sg.crossEntropy(z(2, 4), int([1, 2]), { weight: z(3) }), 'crossEntropy: weight [3] must be [4]'],
  ['crossEntropy reduction', () => sg.crossEntropy(z(2, 4), int([1, 2]), { reduction: 'avg' as never }),
    "crossEntropy: reduction must be 'mean', 'sum' or 'none', got 'avg'"],
  ['crossEntropy labelSmoothing', () => sg.crossEntropy(z(2, 4), int([1, 2]), { labelSmoothing: 1.5 }),
    'crossEntropy: labelSmoothing must be in [0, 1], got 1.5'],
  ['nllLoss target range', () => sg.nllLoss(z(3, 2), int([0, 1, 2])), 'nllLoss: target 2 at position 2 is out of range for 2 classes'],
  ['mseLoss shapes', () => sg.mseLoss(z(2, 3), z(3, 2)), 'mseLoss: input [2,3] and target [3,2] must have the same shape'],
  // pointwise
  // backward
  ['backward on a non-scalar', () => z(2, 3).requiresGrad_().mul(2).backward(),
    'backward: a gradient can be created implicitly only for one-element outputs, got shape [2,3]'],
  ['backward gradient shape', () => z(2, 3).requiresGrad_().mul(2).backward(z(3, 2)),
    "backward: gradient shape [3,2] does not match the tensor's shape [2,3]"],
  ['backward with a non-tensor gradient', () => z(2).requiresGrad_().mul(2).backward([1, 1] as never),
    'backward: gradient must be a Tensor'],
  ['backward without grad', () => z(2).sum().backward(), 'backward: this tensor does not require grad and has no gradFn'],
  ['retainGrad without grad', () => z(2).retainGrad(), "retainGrad: can't retain the gradient of a tensor that does not require grad"],
  ['registerHook without grad', () => z(2).registerHook(() => undefined),
    "registerHook: can't register a hook on a tensor that doesn't require gradient"],
  // tensors
  ['item on many elements', () => z(2, 2).item(), 'item: only a tensor with one element can be converted to a number, got shape [2,2]'],
  ['int32 requiresGrad', () => int([1]).requiresGrad_(), 'requiresGrad: only float tensors can require gradients, this one is int32'],
  ['Tensor size', () => new sg.Tensor(new Float32Array(5), [2, 3]), 'Tensor: shape [2,3] needs 6 elements, got 5'],
  ['tensor typed-array shape', () => sg.tensor(new Float32Array(5), { shape: [2, 2] }),
    'tensor: shape [2,2] needs 4 elements, the array has 5'],
  ['tensor shape as 2nd argument', () => sg.tensor([1, 2, 3, 4], [2, 2] as never),
    'tensor: the second argument must be options {dtype, requiresGrad, shape}, got the array [2,2] (a shape goes in {shape: [...]})'],
  ['tensor unknown option', () => sg.tensor([1], { dtpye: 'float64' } as never),
    "tensor: unknown option(s) 'dtpye' (known: dtype, requiresGrad, shape)"],
  ['tensor ragged', () => sg.tensor([[1, 2], [3]]), 'tensor: ragged nested array at [1]: expected length 2'],
  ['zeros shape', () => sg.zeros([2, -1]), 'full: invalid shape [2,-1]'],
  ['randint range', () => sg.randint(3, 3, [2]), 'randint: need integers low < high, got 3 and 3'],
  ['arange step', () => sg.arange(0, 3, 0), 'arange: step must be a non-zero finite number, got 0'],
  // gradcheck
  ['gradcheck float32 input', () => sg.gradcheck((x) => x.mul(2), [z(2).requiresGrad_()]),
    'gradcheck: input 0 (shape [2]) must be float64, got float32'],
  ['gradcheck no grad input', () => sg.gradcheck((x) => x.mul(2), [sg.zeros([2], f64)]), 'gradcheck: no input requires grad'],
];

describe('errors', () => {
  it.each(ROWS.map((r, k) => [r[0], k] as const))('%s', (_what, k) => {
    const [, fn, message] = ROWS[k];
    expect(messageOf(fn)).toBe(message);
  });

  it('a user op backward returning a wrong-shaped gradient is named', () => {
    const bad = sg.defineOp({
      name: 'badGrad',
      forward: (_ctx, x: sg.Tensor) => x.mul(2),
      backward: () => [sg.zeros([5], f64)],
    });
    const x = sg.zeros([2, 3], { ...f64, requiresGrad: true });
    expect(messageOf(() => bad(x).sum().backward())).toBe(
      'badGrad: backward returned a gradient of shape [5] for argument 0 of shape [2,3]',
    );
  });
});
