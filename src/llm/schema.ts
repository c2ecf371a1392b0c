// zod schemas for the LLM layer: chat messages, sampling options, results, `iopo generate` input/output lines.
// Shapes only; behaviour lives in provider/engine files. The lead may move shared shapes to src/schema/.

import { z } from "zod";

// ---- chat ----

export const ChatMessageSchema = z.object({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/** Sampling parameters; every field is part of the cache key. */
export const ChatOptionsSchema = z.object({
  /** Sampling temperature, 0–2. */
  temperature: z.number().min(0).max(2).optional(),
  /** Upper bound on completion tokens. */
  max_tokens: z.number().int().positive().optional(),
  top_p: z.number().min(0).max(1).optional(),
  seed: z.number().int().optional(),
  stop: z.array(z.string()).optional(),
  /** A JSON schema the reply must follow (structured output); providers that can, constrain decoding with it. */
  json_schema: z.record(z.string(), z.unknown()).optional(),
});
export type ChatOptions = z.infer<typeof ChatOptionsSchema>;

export const UsageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof UsageSchema>;

/** Why generation stopped, normalised across providers. */
export const FinishSchema = z.enum(["stop", "length", "content_filter", "tool_calls", "other"]);
export type Finish = z.infer<typeof FinishSchema>;

export const ChatResultSchema = z.object({
  text: z.string(),
  usage: UsageSchema,
  finish: FinishSchema,
});
export type ChatResult = z.infer<typeof ChatResultSchema>;

// ---- generate job lines ----

/** One input line of `iopo generate`: `{id, messages}` or `{id, prompt}` (a single user turn). */
export const GenerateInputSchema = z.union([
  z.object({ id: z.union([z.string(), z.number()]), messages: z.array(ChatMessageSchema).min(1) }),
  z.object({ id: z.union([z.string(), z.number()]), prompt: z.string() }),
]);
export type GenerateInput = z.infer<typeof GenerateInputSchema>;

/** Failure causes, one per error family (plus invalid structured replies). */
export const FailureCauseSchema = z.enum([
  "rate_limited",
  "server_error",
  "bad_request",
  "auth_error",
  "connection_error",
  "timeout",
  "aborted",
  "invalid_reply",
]);
export type FailureCause = z.infer<typeof FailureCauseSchema>;

export const FailureSchema = z.object({
  cause: FailureCauseSchema,
  message: z.string(),
  status: z.number().int().optional(),
  attempts: z.number().int().nonnegative(),
});
export type Failure = z.infer<typeof FailureSchema>;

/** One output line of `iopo generate`. */
export const GenerateOutputSchema = z.union([
  z.object({
    id: z.union([z.string(), z.number()]),
    text: z.string(),
    usage: UsageSchema,
    finish: FinishSchema,
    attempts: z.number().int().nonnegative(),
  }),
  z.object({ id: z.union([z.string(), z.number()]), error: FailureSchema }),
]);
export type GenerateOutput = z.infer<typeof GenerateOutputSchema>;

/** Price table: model name → USD per million prompt / completion tokens. */
export const PriceTableSchema = z.record(
  z.string(),
  z.object({ prompt: z.number().nonnegative(), completion: z.number().nonnegative() }),
);
export type PriceTable = z.infer<typeof PriceTableSchema>;
