// Progress output: a redrawn bar on a terminal, plain periodic lines elsewhere (logs, CI, pipes).

/** Where a {@link ProgressBar} writes (process.stdout or a test's stand-in). */
export interface ProgressStream {
  /** Writes `s` as is. */
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** One progress report: epoch, batch, running loss and throughput. */
export interface ProgressState {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  examplesPerSec: number;
  /** Seconds since the epoch started. */
  elapsed: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A training progress display: a redrawn bar on a terminal, one line per tenth of an epoch elsewhere (logs, CI, pipes). */
export class ProgressBar {
  private lastPlainTenth = -1;
  private lastDraw = 0;

  constructor(
    private readonly out: ProgressStream,
    private readonly tty = Boolean(out.isTTY),
  ) {}

  /** Shows `p` (on a terminal at most 10 redraws a second). */
  update(p: ProgressState): void {
    const eta = p.batch > 0 ? (p.elapsed / p.batch) * (p.batches - p.batch) : NaN;
    const stats = `loss ${p.loss.toFixed(3)}, ${p.examplesPerSec.toFixed(1)} examples/sec, ETA ${formatDuration(eta)}`;
    if (this.tty) {
      const now = Date.now();
      if (now - this.lastDraw < 100 && p.batch < p.batches) return; // redraw at most 10 times a second
      this.lastDraw = now;
      const width = 24;
      const filled = Math.round((p.batch / p.batches) * width);
      const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? '>' : '') + ' '.repeat(width - filled);
      const line = `epoch ${p.epoch}/${p.epochs} [${bar}] ${p.batch}/${p.batches} ${stats}`;
      const cols = this.out.columns ?? 120;
      this.out.write(`\r${line.slice(0, cols - 1)}\x1b[K`);
      return;
    }
    // Plain output: one line per tenth of the epoch.
    const tenth = Math.floor((p.batch / p.batches) * 10);
    if (tenth > this.lastPlainTenth && tenth < 10) {
      this.lastPlainTenth = tenth;
      this.out.write(`epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches}: ${stats}\n`);
    }
  }

  /** Clears the bar at the end of an epoch (the epoch's line goes to the log). */
  clear(): void {
    if (this.tty) this.out.write('\r\x1b[K');
    this.lastPlainTenth = -1;
  }
}
