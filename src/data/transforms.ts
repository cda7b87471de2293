// Per-sample image transforms (torchvision's), applied by the DataLoader with its seeded generator.

import type { Generator } from '../autograd/random.js';
import type { ImageSample } from './dataset.js';

/**
 * A per-sample image transform, as torchvision's: maps one CHW image to another, drawing any
 * randomness from `rng` (the DataLoader's per-batch seeded generator) so augmentation is reproducible.
 */
export type Transform = (img: ImageSample, rng: Generator) => ImageSample;

/** Applies transforms left to right. */
export function compose(...transforms: Transform[]): Transform {
  return (img, rng) => transforms.reduce((acc, t) => t(acc, rng), img);
}

/**
 * Bilinear resize to size×size (or [h, w]) with half-pixel centres and no antialiasing,
 * as torch's F.interpolate(mode='bilinear', align_corners=False) — what D2L's Resize(96) does
 * to a tensor-less PIL image up to rounding, since upsampling needs no antialias.
 */
export function resize(size: number | readonly [number, number]): Transform {
  const [oh, ow] = typeof size === 'number' ? [size, size] : size;
  if (!(oh >= 1 && ow >= 1) || !Number.isInteger(oh) || !Number.isInteger(ow)) {
    throw new Error(`resize: size must be positive integers, got ${String(size)}`);
  }
  return (img) => {
    const { channels: c, height: h, width: w } = img;
    if (h === oh && w === ow) return img;
    const out = new Float32Array(c * oh * ow);
    const sy = h / oh;
    const sx = w / ow;
    for (let y = 0; y < oh; y++) {
      const fy = Math.max(0, (y + 0.5) * sy - 0.5);
      const y0 = Math.min(h - 1, Math.floor(fy));
      const y1 = Math.min(h - 1, y0 + 1);
      const wy = fy - y0;
      for (let x = 0; x < ow; x++) {
        const fx = Math.max(0, (x + 0.5) * sx - 0.5);
        const x0 = Math.min(w - 1, Math.floor(fx));
        const x1 = Math.min(w - 1, x0 + 1);
        const wx = fx - x0;
        for (let ch = 0; ch < c; ch++) {
          const p = img.data;
          const b = ch * h * w;
          const top = p[b + y0 * w + x0] * (1 - wx) + p[b + y0 * w + x1] * wx;
          const bot = p[b + y1 * w + x0] * (1 - wx) + p[b + y1 * w + x1] * wx;
          out[ch * oh * ow + y * ow + x] = top * (1 - wy) + bot * wy;
        }
      }
    }
    return { data: out, channels: c, height: oh, width: ow };
  };
}

/** (x - mean[c]) / std[c] per channel; a single number applies to every channel. */
export function normalize(mean: number | readonly number[], std: number | readonly number[]): Transform {
  const ms = typeof mean === 'number' ? [mean] : mean;
  const ss = typeof std === 'number' ? [std] : std;
  if (ss.some((s) => !(s !== 0))) throw new Error('normalize: std must be non-zero');
  return (img) => {
    const { channels: c, height: h, width: w } = img;
    if ((ms.length !== 1 && ms.length !== c) || (ss.length !== 1 && ss.length !== c)) {
      throw new Error(`normalize: ${ms.length} means and ${ss.length} stds for an image with ${c} channels`);
    }
    const out = new Float32Array(img.data.length);
    const plane = h * w;
    for (let ch = 0; ch < c; ch++) {
      const m = ms[ms.length === 1 ? 0 : ch];
      const s = ss[ss.length === 1 ? 0 : ch];
      for (let i = ch * plane; i < (ch + 1) * plane; i++) out[i] = (img.data[i] - m) / s;
    }
    return { ...img, data: out };
  };
}

/** Pads by `padding` (zeros) on every side, then crops a random size×size window. */
export function randomCrop(size: number, padding = 0): Transform {
  return (img, rng) => {
    const { channels: c, height: h, width: w } = img;
    const ph = h + 2 * padding;
    const pw = w + 2 * padding;
    if (size > ph || size > pw) throw new Error(`randomCrop: crop ${size} is larger than the padded image ${ph}×${pw}`);
    const top = rng.randint(0, ph - size + 1);
    const left = rng.randint(0, pw - size + 1);
    const out = new Float32Array(c * size * size);
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < size; y++) {
        const sy = top + y - padding;
        if (sy < 0 || sy >= h) continue;
        for (let x = 0; x < size; x++) {
          const sx = left + x - padding;
          if (sx >= 0 && sx < w) out[(ch * size + y) * size + x] = img.data[(ch * h + sy) * w + sx];
        }
      }
    }
    return { data: out, channels: c, height: size, width: size };
  };
}

/** Mirrors left-right with probability p. */
export function randomHorizontalFlip(p = 0.5): Transform {
  return (img, rng) => {
    if (!(rng.random() < p)) return img;
    const { channels: c, height: h, width: w } = img;
    const out = new Float32Array(img.data.length);
    for (let r = 0; r < c * h; r++) {
      for (let x = 0; x < w; x++) out[r * w + x] = img.data[r * w + (w - 1 - x)];
    }
    return { ...img, data: out };
  };
}
