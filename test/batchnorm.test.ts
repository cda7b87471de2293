import { describe, expect, it } from 'vitest';
import { batchNorm } from '../src/autograd/ops/batch_norm.js';
import { gradcheck, manualSeed, noGrad, ones, randn, rand, tensor, zeros } from '../src/index.js';
import { decode, expectClose, loadFixture, type EncodedTensor, type FixtureCase } from './helpers/fixtures.js';

const cases = loadFixture('bn');
const f64 = { dtype: 'float64' as const, requiresGrad: true };

describe('batchNorm vs PyTorch', () => {
  for (const name of ['bn_nchw_f32', 'bn_ncl_f32', 'bn_nc_f64_plain']) {
    it(name, () => {
      const c: FixtureCase = cases[name];
      // float64 cases must agree to float64 rounding; float32 ones use the default tolerances.
      const tol: [number, number] = c.x1.dtype === 'float64' ? [1e-10, 1e-12] : [1e-5, 1e-6];
      const [momentum, eps] = c.opts.data;
      const rm = decode(c.rm0);
      const rv = decode(c.rv0);
      const affine = c.w !== undefined;
      const run = (xEnc: EncodedTensor, training: boolean) => {
        const xl = decode(xEnc, true);
        const w = affine ? decode(c.w, true) : null;
        const b = affine ? decode(c.b, true) : null;
        const y = batchNorm(xl, rm, rv, w, b, { training, momentum, eps });
        y.backward(decode(c.g));
        return { y, dx: xl.grad, dw: w?.grad ?? null, db: b?.grad ?? null };
      };

      const t1 = run(c.x1, true);
      expectClose(t1.y, c.out, 'train out', ...tol);
      expectClose(t1.dx, c.dx, 'train dx', ...tol);
      if (affine) {
        expectClose(t1.dw, c.dw, 'train dweight', ...tol);
        expectClose(t1.db, c.db, 'train dbias', ...tol);
      }
      expectClose(rm, c.rm1, 'runningMean after 1 step', ...tol);
      expectClose(rv, c.rv1, 'runningVar after 1 step', ...tol);

      run(c.x2, true);
      expectClose(rm, c.rm2, 'runningMean after 2 steps', ...tol);
      expectClose(rv, c.rv2, 'runningVar after 2 steps', ...tol);

      const e = run(c.x1, false);
      expectClose(e.y, c.eval_out, 'eval out', ...tol);
      expectClose(e.dx, c.eval_dx, 'eval dx', ...tol);
      if (affine) {
        expectClose(e.dw, c.eval_dw, 'eval dweight', ...tol);
        expectClose(e.db, c.eval_db, 'eval dbias', ...tol);
      }
      // Eval leaves the running statistics alone.
      expectClose(rm, c.rm2, 'runningMean after eval', ...tol);
    });
  }
});

describe('batchNorm gradients (float64 gradcheck)', () => {
  const train = { training: true };
  it('training [N,C] with and without weight/bias', () => {
    manualSeed(11);
    const x = randn([6, 4], f64);
    const w = randn([4], f64);
    const b = randn([4], f64);
    expect(gradcheck((x, w, b) => batchNorm(x, null, null, w, b, train), [x, w, b]).ok).toBe(true);
    expect(gradcheck((x) => batchNorm(x, null, null, null, null, train), [x]).ok).toBe(true);
    // weight only: bias absent
    expect(gradcheck((x, w) => batchNorm(x, null, null, w, null, train), [x, w]).ok).toBe(true);
  });

  it('training [N,C,H,W] with and without weight/bias, running stats updated alongside', () => {
    manualSeed(12);
    const x = randn([3, 2, 3, 4], f64);
    const w = randn([2], f64);
    const b = randn([2], f64);
    const rm = zeros([2], { dtype: 'float64' });
    const rv = ones([2], { dtype: 'float64' });
    expect(gradcheck((x, w, b) => batchNorm(x, rm, rv, w, b, train), [x, w, b]).ok).toBe(true);
    expect(gradcheck((x) => batchNorm(x, null, null, null, null, train), [x]).ok).toBe(true);
  });

  it('eval mode is affine in x, weight and bias', () => {
    manualSeed(13);
    const x = randn([5, 3, 2], f64);
    const w = randn([3], f64);
    const b = randn([3], f64);
    const rm = randn([3], { dtype: 'float64' });
    const rv = rand([3], { dtype: 'float64' }).add(0.5);
    expect(gradcheck((x, w, b) => batchNorm(x, rm, rv, w, b), [x, w, b]).ok).toBe(true);
    expect(gradcheck((x) => batchNorm(x, rm, rv), [x]).ok).toBe(true);
  });

  it('eval mode without running statistics uses batch statistics', () => {
    manualSeed(14);
    const x = randn([4, 3], f64);
    const y = batchNorm(x, null, null);
    const yTrain = batchNorm(x, null, null, null, null, { training: true });
    expect(Array.from(y.data)).toEqual(Array.from(yTrain.data));
    expect(gradcheck((x) => batchNorm(x, null, null), [x]).ok).toBe(true);
  });
});

describe('batchNorm semantics', () => {
  it('normalizes with the biased variance and updates with the unbiased one', () => {
    const x = tensor([[1], [3]], { dtype: 'float64' }); // mean 2, biased var 1, unbiased var 2
    const rm = tensor([10], { dtype: 'float64' });
    const rv = tensor([10], { dtype: 'float64' });
    const y = batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.5, eps: 0 });
    expect(Array.from(y.data)).toEqual([-1, 1]);
    expect(rm.item()).toBe(6); // 0.5 * 10 + 0.5 * 2
    expect(rv.item()).toBe(6); // 0.5 * 10 + 0.5 * 2
  });

  it('updates only the running statistic that is given, outside the graph', () => {
    const x = tensor([[1, 2], [3, 6]], { requiresGrad: true });
    const rm = zeros([2]);
    const y = batchNorm(x, rm, null, null, null, { training: true, momentum: 1 });
    expect(Array.from(rm.data)).toEqual([2, 4]);
    expect(rm.requiresGrad).toBe(false);
    expect(rm.gradFn).toBeNull();
    expect(y.gradFn?.name).toBe('batchNorm');
    const rv = ones([2]);
    batchNorm(x, null, rv, null, null, { training: true, momentum: 1 });
    expect(Array.from(rv.data)).toEqual([2, 8]);
  });

  it('records no graph under noGrad, keeps float32, and frees the graph after backward', () => {
    const x = randn([4, 3], { requiresGrad: true });
    expect(noGrad(() => batchNorm(x, null, null, null, null, { training: true })).requiresGrad).toBe(false);
    const y = batchNorm(x, null, null, ones([3], { requiresGrad: true }), null, { training: true });
    expect(y.dtype).toBe('float32');
    y.sum().backward();
    expect(x.grad!.dtype).toBe('float32');
    // d/dx of sum(xhat) is 0: the batch mean absorbs a uniform shift.
    for (const v of x.grad!.data) expect(Math.abs(v)).toBeLessThan(1e-6);
    expect(() => y.sum().backward()).toThrow(/batchNorm: trying to backward through the graph a second time/);
  });

  it('names the op and the shapes in every error', () => {
    const x = zeros([2, 3]);
    const c3 = zeros([3]);
    expect(() => batchNorm(zeros([3]), null, null)).toThrow('batchNorm: expected input of shape [N, C, ...], got [3]');
    expect(() => batchNorm(zeros([2, 3], { dtype: 'int32' }), null, null)).toThrow(
      'batchNorm: expected a float input, got int32 of shape [2,3]',
    );
    expect(() => batchNorm(x, null, null, zeros([4]))).toThrow(
      'batchNorm: weight [4] must be [3], one value per channel of input [2,3]',
    );
    expect(() => batchNorm(x, null, null, null, zeros([3, 1]))).toThrow(
      'batchNorm: bias [3,1] must be [3], one value per channel of input [2,3]',
    );
    expect(() => batchNorm(x, zeros([2]), c3)).toThrow('batchNorm: runningMean [2] must be [3], one value per channel of input [2,3]');
    expect(() => batchNorm(x, c3, zeros([4]))).toThrow('batchNorm: runningVar [4] must be [3], one value per channel of input [2,3]');
    expect(() => batchNorm(x, null, null, zeros([3], { dtype: 'int32' }))).toThrow('batchNorm: weight [3] must be float, got int32');
    expect(() => batchNorm(x, zeros([3], { requiresGrad: true }), c3)).toThrow(
      'batchNorm: runningMean [3] must not require grad (running statistics are buffers)',
    );
    expect(() => batchNorm(x, c3, null)).toThrow(
      'batchNorm: eval mode needs both running statistics or neither, runningVar is null (input [2,3])',
    );
    expect(() => batchNorm(zeros([1, 3]), null, null, null, null, { training: true })).toThrow(
      'batchNorm: expected more than 1 value per channel when training, got input of shape [1,3]',
    );
    expect(() => batchNorm(zeros([1, 3, 1, 1]), c3, ones([3]), null, null, { training: true })).toThrow(
      'batchNorm: expected more than 1 value per channel when training, got input of shape [1,3,1,1]',
    );
    // One value per channel is fine in eval mode with running statistics.
    expect(batchNorm(ones([1, 3]), c3, ones([3]), null, null, { eps: 0 }).toArray()).toEqual([[1, 1, 1]]);
  });
});
