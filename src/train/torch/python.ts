// The Python side's interpreter and its preflight: which python runs the ranks (IOPO_PYTHON, else /usr/bin/python3),
// the environment every rank gets (PYTHONPATH at the repository's python/ folder), and one check before any work —
// no Python, no torch, a torch older than 1.13, no CUDA for --device cuda, FSDP on a torch before 2.1 — each a
// single error naming what to install. Does not start training ranks (launch.ts).

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../errors.ts";

// ---- types ----

export interface TorchInfo {
  readonly python: string;
  readonly torch: string;
  readonly cuda: boolean;
  readonly gpus: number;
  readonly transformers: boolean;
  readonly peft: boolean;
}

// ---- helpers ----

/** The repository's python/ folder (the iopo_torch package lives there). */
export const PYTHON_DIR = fileURLToPath(new URL("../../../python/", import.meta.url));

export const INSTALL_HINT =
  "install PyTorch ≥ 1.13: `apt-get install python3-torch libopenblas0-pthread` (Debian/Ubuntu, for /usr/bin/python3) " +
  "or `pip install torch` (then point IOPO_PYTHON at that interpreter)";

/** "2.4.1+cu121" → [2, 4]. */
export function torchVersion(v: string): [number, number] {
  const [a, b] = v.split("+")[0]!.split(".");
  return [Number.parseInt(a ?? "0", 10) || 0, Number.parseInt(b ?? "0", 10) || 0];
}

const atLeast = (v: string, major: number, minor: number) => {
  const [a, b] = torchVersion(v);
  return a > major || (a === major && b >= minor);
};

// ---- exports ----

/** The interpreter that runs the ranks: $IOPO_PYTHON, else Debian's /usr/bin/python3 (which has python3-torch). */
export const pythonPath = (): string => process.env.IOPO_PYTHON || "/usr/bin/python3";

/** Environment of a Python process: the package on PYTHONPATH, no bytecode files written into the repository. */
export function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const path = process.env.PYTHONPATH ? `${PYTHON_DIR}:${process.env.PYTHONPATH}` : PYTHON_DIR;
  return { ...process.env, PYTHONPATH: path, PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1", ...extra };
}

/** Run `python -m iopo_torch check` and refuse, with what to install, anything the job cannot run on. */
export async function checkTorch(o: { device?: string; fsdp?: boolean }): Promise<TorchInfo> {
  const python = pythonPath();
  const { code, stdout, stderr, error } = await new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
    error?: Error;
  }>((resolve) => {
    const child = spawn(python, ["-m", "iopo_torch", "check"], { env: pythonEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", (e) => resolve({ code: null, stdout: out, stderr: err, error: e }));
    child.on("close", (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  if (error)
    throw new ConfigError(`--engine torch needs Python with PyTorch; cannot run ${python}`, {
      path: python,
      field: "--engine",
      expected: "a Python 3 interpreter with torch ≥ 1.13 (IOPO_PYTHON, else /usr/bin/python3)",
      got: (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : error.message,
      hint: INSTALL_HINT,
    });
  let info: Record<string, unknown> | null = null;
  try {
    info = JSON.parse(stdout.trim().split("\n").pop() ?? "") as Record<string, unknown>;
  } catch {
    info = null;
  }
  if (code !== 0 || info === null)
    throw new ConfigError(`--engine torch: ${python} could not run the iopo_torch check`, {
      path: python,
      field: "--engine",
      got: `exit code ${code}: ${stderr.trim().split("\n").slice(-3).join(" | ") || "no output"}`,
      hint: `use Python ≥ 3.8 with torch; ${INSTALL_HINT}`,
    });
  const version = typeof info.torch === "string" ? info.torch : null;
  if (version === null)
    throw new ConfigError(`--engine torch: PyTorch is not installed for ${python}`, {
      path: python,
      field: "--engine",
      expected: "import torch to work",
      got: String(info.error ?? "no torch module"),
      hint: INSTALL_HINT,
    });
  if (!atLeast(version, 1, 13))
    throw new ConfigError(`--engine torch: PyTorch ${version} is too old`, {
      path: python,
      field: "--engine",
      expected: "torch ≥ 1.13",
      got: version,
      hint: INSTALL_HINT,
    });
  if (o.device === "cuda" && info.cuda !== true)
    throw new ConfigError("--device cuda: this PyTorch sees no CUDA device", {
      path: python,
      field: "--device",
      expected: "torch.cuda.is_available()",
      got: `torch ${version} without a usable GPU`,
      hint: "use --device cpu, or install a CUDA build of torch (`pip install torch`) on a machine with a GPU",
    });
  if (o.fsdp && !atLeast(version, 2, 1))
    throw new ConfigError("--fsdp needs PyTorch ≥ 2.1", {
      path: python,
      field: "--fsdp",
      expected: "torch ≥ 2.1",
      got: version,
      hint: "drop --fsdp (data parallel replicates the model on every rank), or `pip install 'torch>=2.1'`",
    });
  return {
    python,
    torch: version,
    cuda: info.cuda === true,
    gpus: Number(info.gpus ?? 0),
    transformers: info.transformers === true,
    peft: info.peft === true,
  };
}
