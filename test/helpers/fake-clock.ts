// A virtual clock for engine tests: timers fire in time order whenever the process has nothing else to do
// (checked with setImmediate), so retries, backoff and timeouts of minutes run in milliseconds of wall time.

import type { Clock } from "../../src/llm/index.ts";

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: Timer[] = [];
  private scheduled = false;
  /** Every delay passed to setTimer, in order (timeouts and sleeps). */
  readonly delays: number[] = [];

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: Timer = { at: this.t + ms, seq: this.seq++, fn };
    this.delays.push(ms);
    this.timers.push(timer);
    this.schedule();
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.timers.length === 0) return;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift()!;
      this.t = Math.max(this.t, next.at);
      next.fn();
      if (this.timers.length > 0) this.schedule();
    });
  }
}
