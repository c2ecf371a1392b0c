// Starting and supervising the Python ranks of one job: a free port on 127.0.0.1 for the env:// rendezvous, N
// processes (`python -m iopo_torch <mode> <job.json>`), rank 0's stdout read as JSON events, every rank's last
// stderr lines kept. A rank that dies ends the run: the others are stopped and the error names the rank, its exit
// code and its last stderr lines. Also the torchrun and Slurm lines for several machines. No training logic here.

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { IopoError } from "../../errors.ts";
import { PYTHON_DIR, pythonEnv, pythonPath } from "./python.ts";

// ---- types ----

/** One JSON line of rank 0 (python/iopo_torch/train.py `emit`). */
export type RankEvent = { readonly event: string } & Record<string, unknown>;

export interface LaunchOptions {
  readonly mode: "train" | "logps";
  readonly job: string;
  readonly nproc: number;
  /** Threads per rank (OMP_NUM_THREADS and torch.set_num_threads). */
  readonly threads: number;
  /** Called for each event of rank 0, in order; a returned promise is awaited before the next one. */
  readonly onEvent: (e: RankEvent) => void | Promise<void>;
  /** Called when a rank fails: an error that explains it better (an error event, a non-finite step), or null. */
  readonly explain?: () => Error | null;
}

// ---- helpers ----

const TAIL = 20;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal)
    return `killed by ${signal} (exit code ${128 + (signal === "SIGKILL" ? 9 : signal === "SIGTERM" ? 15 : 0)})`;
  return `exit code ${code}`;
}

// ---- exports ----

/** Run the ranks of a job to the end; rejects when one fails (after stopping the others). */
export async function launchRanks(o: LaunchOptions): Promise<void> {
  const port = await freePort();
  const python = pythonPath();
  const children: ChildProcess[] = [];
  const tails: string[][] = [];
  let chain: Promise<void> = Promise.resolve();
  let eventError: unknown = null;
  const exits: Promise<{ rank: number; code: number | null; signal: NodeJS.Signals | null }>[] = [];
  for (let rank = 0; rank < o.nproc; rank++) {
    const env = pythonEnv({
      RANK: String(rank),
      LOCAL_RANK: String(rank),
      WORLD_SIZE: String(o.nproc),
      LOCAL_WORLD_SIZE: String(o.nproc),
      MASTER_ADDR: "127.0.0.1",
      MASTER_PORT: String(port),
      OMP_NUM_THREADS: String(o.threads),
      IOPO_SUPERVISED: "1",
      // Debian's torch calls the system OpenBLAS, whose own threads would multiply with torch's (threads × BLAS
      // threads ≤ cores, as bench:train found); one BLAS thread per rank unless the user says otherwise.
      OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? "1",
      // Idle OpenMP threads sleep instead of spinning: on a shared CPU spinning made a step 10–30× slower (measured:
      // 0.41 s passive vs 6–12 s spinning for the bench:train model with 2 threads on a loaded 2-core machine).
      OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? "PASSIVE",
    });
    const child = spawn(python, ["-m", "iopo_torch", o.mode, o.job], { env, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    const tail: string[] = [];
    tails.push(tail);
    createInterface({ input: child.stderr! }).on("line", (l) => {
      tail.push(l);
      if (tail.length > TAIL) tail.shift();
      if (process.env.IOPO_TORCH_VERBOSE) process.stderr.write(`[rank ${rank}] ${l}\n`);
    });
    createInterface({ input: child.stdout! }).on("line", (l) => {
      if (rank !== 0 || !l.startsWith("{")) return;
      let e: RankEvent;
      try {
        e = JSON.parse(l) as RankEvent;
      } catch {
        return;
      }
      chain = chain.then(async () => {
        if (eventError === null)
          try {
            await o.onEvent(e);
          } catch (err) {
            eventError = err;
          }
      });
    });
    exits.push(
      new Promise((resolve) => {
        child.on("error", () => resolve({ rank, code: 127, signal: null }));
        child.on("close", (code, signal) => resolve({ rank, code, signal }));
      }),
    );
  }
  const stopAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  };
  process.once("exit", stopAll);
  try {
    // The first rank to fail starts a grace period (a NaN step ends every rank by itself); then the rest are stopped,
    // so none waits forever in a collective with a dead peer.
    const killed = new Set<number>();
    let grace: NodeJS.Timeout | null = null;
    const order: number[] = [];
    const stopRest = () => {
      children.forEach((c, i) => {
        if (c.exitCode === null && c.signalCode === null) killed.add(i);
      });
      stopAll();
    };
    for (const e of exits)
      void e.then((r) => {
        if (r.code === 0 && !r.signal) return;
        order.push(r.rank);
        if (grace === null) grace = setTimeout(stopRest, 2000);
      });
    const results = await Promise.all(exits);
    if (grace) clearTimeout(grace);
    // The cause: a rank that ended by a signal we did not send, else the first that failed by itself.
    const own = order.map((i) => results[i]!).filter((r) => !killed.has(r.rank));
    const failure = own.find((r) => r.signal) ?? own[0] ?? null;
    await chain;
    if (eventError !== null) throw eventError;
    if (failure) {
      const better = o.explain?.();
      if (better) throw better;
      const lines = tails[failure.rank]!.slice(-8);
      throw new IopoError(
        `PyTorch rank ${failure.rank} of ${o.nproc} died (${describeExit(failure.code, failure.signal)}); the run stopped` +
          `${lines.length ? `. Its last stderr lines:\n  ${lines.join("\n  ")}` : " (no stderr output)"}`,
        {
          hint: "fix the cause above, then rerun the same command with --resume (it continues from the last checkpoint)",
        },
      );
    }
  } finally {
    process.removeListener("exit", stopAll);
    stopAll();
  }
}

/** Commands for `--print-launch`: torchrun and Slurm srun lines for `nnodes` machines × `nproc` ranks each. */
export function launchLines(job: string, nnodes: number, nproc: number): string[] {
  // Every machine starts from this directory (the job's paths may be relative to it) with the package on its path.
  const py = `cd ${process.cwd()} && PYTHONPATH=${PYTHON_DIR}`;
  const mod = `-m iopo_torch train ${job}`;
  return [
    `# on each of the ${nnodes} machines (the run directory on a shared file system; NODE_RANK = 0 … ${nnodes - 1}; MASTER = machine 0's address):`,
    `${py} torchrun --nnodes ${nnodes} --nproc-per-node ${nproc} --node-rank $NODE_RANK --master-addr $MASTER --master-port 29500 ${mod}`,
    `# or with Slurm, once (one task per GPU):`,
    `srun --nodes ${nnodes} --ntasks-per-node ${nproc} --gpus-per-node ${nproc} bash -c '${py} RANK=$SLURM_PROCID WORLD_SIZE=$SLURM_NTASKS LOCAL_RANK=$SLURM_LOCALID MASTER_ADDR=$(scontrol show hostnames $SLURM_JOB_NODELIST | head -n1) MASTER_PORT=29500 python3 ${mod}'`,
  ];
}
