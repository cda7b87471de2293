// noGrad, enableGrad and detectAnomaly across `await`: the mode belongs to the callback's async
// context, holds after every await inside it, and never leaks into code running concurrently.

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';

const tick = () => new Promise<void>((r) => setImmediate(r));
const leaf = () => sg.tensor([1, 2, 3], { requiresGrad: true });

describe('grad modes across await', () => {
  it('noGrad(async) records no graph after the first, second and a timer await', async () => {
    const x = leaf();
    const ys = await sg.noGrad(async () => {
      const out = [x.mul(2)];
      await tick();
      out.push(x.mul(3));
      await sleep(2);
      out.push(x.mul(4));
      await Promise.resolve();
      out.push(x.exp());
      return out;
    });
    expect(ys.map((y) => y.requiresGrad)).toEqual([false, false, false, false]);
    expect(sg.isGradEnabled()).toBe(true); // the caller's context never changed
    expect(x.mul(2).requiresGrad).toBe(true);
  });

  it('enableGrad(async) inside noGrad(async) records, and noGrad resumes after it', async () => {
    const x = leaf();
    const [inner, after] = await sg.noGrad(async () => {
      await tick();
      const inner = await sg.enableGrad(async () => {
        await tick();
        return x.mul(2);
      });
      await tick();
      return [inner, x.mul(2)];
    });
    expect(inner.gradFn?.name).toBe('mul');
    expect(after.requiresGrad).toBe(false);
  });

  it('concurrent contexts do not leak into each other (interleaved awaits)', async () => {
    const x = leaf();
    const log: string[] = [];
    const record = (who: string) => log.push(`${who}:${sg.isGradEnabled() ? 'grad' : 'nograd'}:${x.mul(1).requiresGrad}`);
    const plain = async () => {
      for (let i = 0; i < 3; i++) {
        record('plain');
        await tick();
      }
    };
    const quiet = () =>
      sg.noGrad(async () => {
        for (let i = 0; i < 3; i++) {
          record('quiet');
          await tick();
        }
      });
    const loud = () =>
      sg.noGrad(() =>
        sg.enableGrad(async () => {
          for (let i = 0; i < 3; i++) {
            record('loud');
            await tick();
          }
        }),
      );
    await Promise.all([plain(), quiet(), loud()]);
    expect(log).toHaveLength(9);
    // The three tasks interleave (each runs at every tick), and each sees only its own mode.
    expect(log.slice(0, 3).map((e) => e.split(':')[0])).toEqual(['plain', 'quiet', 'loud']);
    for (const e of log) {
      const who = e.split(':')[0];
      expect(e).toBe(who === 'quiet' ? 'quiet:nograd:false' : `${who}:grad:true`);
    }
  });

  it('setGradEnabled inside an async noGrad context stays inside it', async () => {
    const outside: boolean[] = [];
    await Promise.all([
      sg.noGrad(async () => {
        sg.setGradEnabled(true);
        await tick();
        expect(sg.isGradEnabled()).toBe(true);
        sg.setGradEnabled(false);
        await tick();
        expect(sg.isGradEnabled()).toBe(false);
      }),
      (async () => {
        for (let i = 0; i < 3; i++) {
          outside.push(sg.isGradEnabled());
          await tick();
        }
      })(),
    ]);
    expect(outside).toEqual([true, true, true]);
  });

  it('a synchronous noGrad still restores the mode when its callback throws', () => {
    expect(() => sg.noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(sg.isGradEnabled()).toBe(true);
  });

  it('work a synchronous noGrad schedules keeps its mode; the caller is back at once, in every nesting', async () => {
    const seen: string[] = [];
    const note = (what: string) => seen.push(`${what}:${sg.isGradEnabled()}`);
    sg.noGrad(() => {
      note('outer');
      setTimeout(() => note('timer'), 1);
      void Promise.resolve().then(() => note('then'));
      sg.enableGrad(() => {
        note('inner');
        setImmediate(() => note('immediate'));
      });
      note('outer again');
    });
    note('caller');
    await sleep(5);
    note('caller after');
    // the synchronous part, then the promise reaction, in order; the immediate and the 1 ms timer
    // in whichever order the event loop reaches them (it varies); the caller after its 5 ms sleep
    expect(seen.slice(0, 5)).toEqual(['outer:false', 'inner:true', 'outer again:false', 'caller:true', 'then:false']);
    expect(seen.slice(5, 7).sort()).toEqual(['immediate:true', 'timer:false']);
    expect(seen[7]).toBe('caller after:true');
  });

  it('refuses a non-function callback by name', () => {
    expect(() => sg.noGrad(3 as unknown as () => number)).toThrow('noGrad: expected a callback function, got number');
    expect(() => sg.detectAnomaly(null as unknown as () => number)).toThrow('detectAnomaly: expected a callback function, got object');
  });
});

describe('detectAnomaly across await', () => {
  const nanLeaf = () => sg.tensor([1, NaN], { requiresGrad: true });

  it('stays on after awaits, in the forward and in the backward', async () => {
    await expect(
      sg.detectAnomaly(async () => {
        await tick();
        await sleep(1);
        return sg.log(sg.tensor([-1, 1]));
      }),
    ).rejects.toThrow(/^anomaly: log produced NaN in its forward output at flat index 0/);

    await expect(
      sg.detectAnomaly(async () => {
        const x = sg.tensor([0, 4], { requiresGrad: true });
        const y = sg.sqrt(x).sum(); // finite forward, Inf gradient at 0
        await tick();
        y.backward();
      }),
    ).rejects.toMatchObject({ name: 'AnomalyError', op: 'sqrt', phase: 'backward' });
  });

  it('is off in a concurrent task outside it, and back off after it', async () => {
    const outside: number[] = [];
    const checked = sg.detectAnomaly(async () => {
      await tick();
      await tick();
      return nanLeaf().mul(2);
    });
    const unchecked = (async () => {
      await tick();
      outside.push(nanLeaf().mul(2).data[1]); // NaN, no error: this context is not in anomaly mode
      await tick();
      outside.push(nanLeaf().mul(2).data[1]);
    })();
    const [r1, r2] = await Promise.allSettled([checked, unchecked]);
    expect(r1.status).toBe('rejected');
    expect((r1 as PromiseRejectedResult).reason).toBeInstanceOf(sg.AnomalyError);
    expect(r2.status).toBe('fulfilled');
    expect(outside.map(Number.isNaN)).toEqual([true, true]);
    expect(Number.isNaN(nanLeaf().mul(2).data[1])).toBe(true); // no error here either
  });

  it('noGrad inside detectAnomaly keeps anomaly on (the modes are independent)', async () => {
    await expect(
      sg.detectAnomaly(() =>
        sg.noGrad(async () => {
          await tick();
          expect(sg.isGradEnabled()).toBe(false);
          return nanLeaf().mul(2);
        }),
      ),
    ).rejects.toThrow(/^anomaly: mul received NaN in its forward input/);
  });
});
