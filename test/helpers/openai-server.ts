// A real OpenAI-compatible HTTP test server on 127.0.0.1 (port 0): POST /v1/chat/completions, non-streaming,
// with a scriptable reply function and fault injection (429 + Retry-After, 500, hang, malformed JSON, a body cut
// mid-stream, slow replies, any status). Counts requests. Reusable by every area's tests.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

// ---- types ----

export interface ChatRequestBody {
  model: string;
  messages: { role: string; content: string }[];
  temperature?: number;
  max_tokens?: number;
  response_format?: unknown;
  [key: string]: unknown;
}

export interface SeenRequest {
  /** 1-based arrival number over the server's life. */
  readonly n: number;
  /** 1-based count of requests with this same body so far (attempt number as the server sees it). */
  readonly attempt: number;
  /** Arrival time (Date.now()). */
  readonly at: number;
  readonly body: ChatRequestBody;
  /** The last user message's content, for convenience. */
  readonly prompt: string;
  readonly authorization: string | undefined;
}

export type Fault =
  | { readonly kind: "ok"; readonly text?: string; readonly finish?: string; readonly delayMs?: number }
  | { readonly kind: "rate_limit"; readonly retryAfter?: string; readonly retryAfterMs?: string }
  | { readonly kind: "status"; readonly status: number; readonly body?: unknown }
  | { readonly kind: "hang" }
  | { readonly kind: "malformed" }
  | { readonly kind: "cut" }
  | { readonly kind: "slow"; readonly ms: number };

export interface ServerScript {
  /** Reply text for a request. @default `echo: <prompt>` */
  reply?: (req: SeenRequest) => string;
  /** Fault (or "ok") for a request. @default ok */
  fault?: (req: SeenRequest) => Fault | undefined;
  /** When set, requests whose bearer token differs get 401. */
  apiKey?: string;
}

export interface TestServer {
  /** Base URL including `/v1`, e.g. `http://127.0.0.1:41234/v1`. */
  readonly url: string;
  readonly port: number;
  /** Chat-completion requests received so far. */
  readonly count: number;
  readonly requests: readonly SeenRequest[];
  script: ServerScript;
  /** Forget counted requests (the script stays). */
  reset(): void;
  close(): Promise<void>;
}

// ---- helpers ----

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

function completion(req: SeenRequest, text: string, finish = "stop"): unknown {
  const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
  const promptTokens = req.body.messages.reduce((n, m) => n + words(m.content), 0);
  return {
    id: `chatcmpl-${req.n}`,
    object: "chat.completion",
    created: Math.floor(req.at / 1000),
    model: req.body.model,
    choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: finish }],
    usage: { prompt_tokens: promptTokens, completion_tokens: words(text), total_tokens: promptTokens + words(text) },
  };
}

// ---- exports ----

/** Start a server; `close()` it in `after`. */
export async function startOpenAIServer(script: ServerScript = {}): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const perBody = new Map<string, number>();
  const sockets = new Set<Socket>();
  const state = { script, count: 0 };

  const server = createServer(async (req, res) => {
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      sendJson(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
      return;
    }
    const raw = await readBody(req);
    let body: ChatRequestBody;
    try {
      body = JSON.parse(raw) as ChatRequestBody;
    } catch {
      sendJson(res, 400, { error: { message: "request body is not JSON" } });
      return;
    }
    const canon = JSON.stringify(body);
    const attempt = (perBody.get(canon) ?? 0) + 1;
    perBody.set(canon, attempt);
    const user = [...body.messages].reverse().find((m) => m.role === "user");
    const seen: SeenRequest = {
      n: ++state.count,
      attempt,
      at: Date.now(),
      body,
      prompt: user?.content ?? "",
      authorization: req.headers.authorization,
    };
    requests.push(seen);
    const s = state.script;
    if (s.apiKey !== undefined && req.headers.authorization !== `Bearer ${s.apiKey}`) {
      sendJson(res, 401, { error: { message: "invalid api key", type: "invalid_request_error" } });
      return;
    }
    const fault = s.fault?.(seen) ?? { kind: "ok" };
    const text = () => (s.reply ? s.reply(seen) : `echo: ${seen.prompt}`);
    switch (fault.kind) {
      case "ok":
        if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
        sendJson(res, 200, completion(seen, fault.text ?? text(), fault.finish));
        return;
      case "slow":
        await new Promise((r) => setTimeout(r, fault.ms));
        if (!res.destroyed) sendJson(res, 200, completion(seen, text()));
        return;
      case "rate_limit": {
        const headers: Record<string, string> = {};
        if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
        if (fault.retryAfterMs !== undefined) headers["retry-after-ms"] = fault.retryAfterMs;
        sendJson(res, 429, { error: { message: "rate limited", type: "rate_limit" } }, headers);
        return;
      }
      case "status":
        sendJson(res, fault.status, fault.body ?? { error: { message: `scripted ${fault.status}` } });
        return;
      case "hang":
        return; // never answers; close() destroys the socket
      case "malformed": {
        const bad = '{"id": "x", "choices": [ {"message": ';
        res.writeHead(200, { "content-type": "application/json", "content-length": String(bad.length) });
        res.end(bad);
        return;
      }
      case "cut": {
        const full = JSON.stringify(completion(seen, text()));
        res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(full)) });
        res.write(full.slice(0, Math.floor(full.length / 2)));
        setTimeout(() => res.socket?.destroy(), 5);
        return;
      }
    }
  });
  server.keepAliveTimeout = 30_000;
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    get count() {
      return state.count;
    },
    requests,
    get script() {
      return state.script;
    },
    set script(next: ServerScript) {
      state.script = next;
    },
    reset() {
      requests.length = 0;
      perBody.clear();
      state.count = 0;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
