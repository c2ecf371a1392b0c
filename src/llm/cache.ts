// Persistent response cache in one SQLite file (better-sqlite3), keyed by a hash of the canonical request.
// Writes are batched into transactions; a record counts as done only after its batch commits (`flush`).
// Also keeps failed keys (so a rerun of a finished job sends nothing) until `--retry-failed` clears them.

import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { ProviderError } from "../errors.ts";
import type { ChatMessage, ChatOptions, ChatResult, Failure } from "./schema.ts";

// ---- types ----

/** Bump when the meaning of a cached value changes; old entries then miss. */
export const CACHE_SCHEMA_VERSION = 1;

export interface CachedResult extends ChatResult {
  /** Attempts it took when first requested. */
  readonly attempts: number;
}

export interface KeyParts {
  readonly kind: string;
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly options: ChatOptions;
}

// ---- helpers ----

/** JSON with object keys sorted and undefined fields dropped, so equal requests hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

// ---- exports ----

/** Cache key: sha256 of provider kind, model, messages, sampling options and schema version (never key or URL). */
export function cacheKey(parts: KeyParts): string {
  const { kind, model, messages, options } = parts;
  const canon = canonicalJson({
    v: CACHE_SCHEMA_VERSION,
    kind,
    model,
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
    options,
  });
  return createHash("sha256").update(canon).digest("hex");
}

export interface CacheOptions {
  /** Commit a batch when it holds this many records. @default 512 */
  readonly batchSize?: number;
  /** Commit a partial batch this long after its first record, ms (bounds the fsyncs per second). @default 50 */
  readonly flushMs?: number;
}

/** The SQLite cache. Open with `ResponseCache.open(path)`; `":memory:"` works for tests. */
export class ResponseCache {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[string], { value: string }>;
  private readonly lookupStmt: Database.Statement<[string, string], { value: string; t: string }>;
  private readonly putStmt: Database.Statement<[string, string, number]>;
  private readonly getFailStmt: Database.Statement<[string], { value: string }>;
  private readonly putFailStmt: Database.Statement<[string, string, number]>;
  private readonly delFailStmt: Database.Statement<[string]>;
  private readonly commitBatch: (items: readonly PendingItem[]) => void;
  private pending: PendingItem[] = [];
  private waiters: (() => void)[] = [];
  readonly batchSize: number;
  readonly flushMs: number;

  private constructor(path: string, db: Database.Database, options: CacheOptions) {
    this.path = path;
    this.db = db;
    this.batchSize = options.batchSize ?? 512;
    this.flushMs = options.flushMs ?? 50;
    db.exec(`CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL, created INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS failures (key TEXT PRIMARY KEY, value TEXT NOT NULL, created INTEGER NOT NULL);`);
    this.getStmt = db.prepare("SELECT value FROM responses WHERE key = ?");
    this.lookupStmt = db.prepare(
      "SELECT value, 'r' AS t FROM responses WHERE key = ? UNION ALL SELECT value, 'f' AS t FROM failures WHERE key = ? ORDER BY t DESC LIMIT 1",
    );
    this.putStmt = db.prepare("INSERT OR REPLACE INTO responses (key, value, created) VALUES (?, ?, ?)");
    this.getFailStmt = db.prepare("SELECT value FROM failures WHERE key = ?");
    this.putFailStmt = db.prepare("INSERT OR REPLACE INTO failures (key, value, created) VALUES (?, ?, ?)");
    this.delFailStmt = db.prepare("DELETE FROM failures WHERE key = ?");
    this.commitBatch = db.transaction((items: readonly PendingItem[]) => {
      const now = Date.now();
      for (const item of items) {
        if (item.table === "responses") {
          this.putStmt.run(item.key, item.value, now);
          this.delFailStmt.run(item.key);
        } else this.putFailStmt.run(item.key, item.value, now);
      }
    });
  }

  /** Open (creating if needed) a cache file. WAL + synchronous=FULL: a committed batch survives kill -9 and power loss. */
  static open(path: string, options: CacheOptions = {}): ResponseCache {
    try {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
      const db = new Database(path);
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.pragma("busy_timeout = 5000");
      return new ResponseCache(path, db, options);
    } catch (err) {
      throw new ProviderError("cannot open the response cache", {
        path,
        expected: "a writable SQLite file",
        got: (err as Error).message,
        hint: "pass --cache <file> in a writable folder, or delete a corrupt cache file",
        cause: err,
      });
    }
  }

  get(key: string): CachedResult | undefined {
    const row = this.getStmt.get(key);
    return row ? (JSON.parse(row.value) as CachedResult) : undefined;
  }

  /** One query for both tables: the cached result, else the recorded failure, else undefined. */
  lookup(key: string): { result?: CachedResult; failure?: Failure } | undefined {
    const row = this.lookupStmt.get(key, key); // 'r' sorts after 'f': a result wins over a failure
    if (!row) return undefined;
    return row.t === "r"
      ? { result: JSON.parse(row.value) as CachedResult }
      : { failure: JSON.parse(row.value) as Failure };
  }

  getFailure(key: string): Failure | undefined {
    const row = this.getFailStmt.get(key);
    return row ? (JSON.parse(row.value) as Failure) : undefined;
  }

  /** Forget all recorded failures (they will be requested again). Returns how many were cleared. */
  clearFailures(): number {
    return this.db.prepare("DELETE FROM failures").run().changes;
  }

  /** Number of cached responses. */
  size(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM responses").get() as { n: number }).n;
  }

  /** Queue a result; resolves once it is committed. */
  put(key: string, result: CachedResult): Promise<void> {
    return this.enqueue({ table: "responses", key, value: JSON.stringify(result) });
  }

  /** Queue a failure record; resolves once committed. */
  putFailure(key: string, failure: Failure): Promise<void> {
    return this.enqueue({ table: "failures", key, value: JSON.stringify(failure) });
  }

  /** Commit everything queued now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const items = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    this.commitBatch(items);
    for (const w of waiters) w();
  }

  close(): void {
    this.flush();
    if (this.db.open) this.db.close();
  }

  private timer: NodeJS.Timeout | undefined;
  private enqueue(item: PendingItem): Promise<void> {
    return new Promise<void>((resolve) => {
      this.pending.push(item);
      this.waiters.push(resolve);
      if (this.pending.length >= this.batchSize) this.flush();
      else if (!this.timer) {
        // One commit (one fsync) per window: large batches under load, ≤ flushMs latency when idle.
        this.timer = setTimeout(() => this.flush(), this.flushMs);
      }
    });
  }
}

interface PendingItem {
  readonly table: "responses" | "failures";
  readonly key: string;
  readonly value: string;
}
