// Progress for long runs: a cli-progress bar on a TTY (done/total, rate, ETA, failures), plain periodic lines
// otherwise (CI logs, pipes). Shows counts only; never prints request content or secrets.

import cliProgress from "cli-progress";
// ---- types ----

export interface ProgressOptions {
  /** Records expected. */
  readonly total: number;
  /** Where to draw. @default process.stderr */
  readonly stream?: NodeJS.WriteStream;
  /** Force TTY or plain mode. @default stream.isTTY */
  readonly tty?: boolean;
  /** Plain mode: ms between lines. @default 10000 */
  readonly intervalMs?: number;
  /** Label in front of each line. @default "generate" */
  readonly label?: string;
  /** Time source. @default Date.now */
  readonly now?: () => number;
}

/** Counts a progress display shows. */
export interface ProgressCounts {
  readonly done: number;
  readonly failed: number;
}

export interface Progress {
  update(counts: ProgressCounts): void;
  /** Draw the final state and release the terminal. */
  stop(counts?: ProgressCounts): void;
}

// ---- helpers ----

function eta(remaining: number, rate: number): string {
  if (rate <= 0 || !Number.isFinite(rate)) return "?";
  const s = Math.round(remaining / rate);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** One plain progress line. */
export function progressLine(label: string, done: number, total: number, failed: number, rate: number): string {
  const pct = total > 0 ? ((100 * done) / total).toFixed(1) : "0.0";
  return `${label}: ${done}/${total} (${pct}%), ${rate.toFixed(1)}/s, ETA ${eta(total - done, rate)}, failed ${failed}`;
}

// ---- exports ----

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? Boolean(stream.isTTY);
  const label = options.label ?? "generate";
  const now = options.now ?? Date.now;
  const started = now();
  const rateOf = (done: number) => done / Math.max(0.001, (now() - started) / 1000);

  if (tty) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} [{bar}] {value}/{total} | {rate}/s | ETA {eta} | failed {failed}`,
        fps: 5,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(options.total, 0, { rate: "0.0", eta: "?", failed: 0 });
    const payload = (a: ProgressCounts) => {
      const rate = rateOf(a.done);
      return { rate: rate.toFixed(1), eta: eta(options.total - a.done, rate), failed: a.failed };
    };
    return {
      update: (a) => bar.update(a.done, payload(a)),
      stop: (a) => {
        if (a) bar.update(a.done, payload(a));
        bar.stop();
      },
    };
  }
  const interval = options.intervalMs ?? 10_000;
  let last = started;
  return {
    update: (a) => {
      const t = now();
      if (t - last < interval) return;
      last = t;
      stream.write(`${progressLine(label, a.done, options.total, a.failed, rateOf(a.done))}\n`);
    },
    stop: (a) => {
      if (a) stream.write(`${progressLine(label, a.done, options.total, a.failed, rateOf(a.done))}\n`);
    },
  };
}
