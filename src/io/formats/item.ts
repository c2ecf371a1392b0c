// The unit every format adapter reads and writes: a record tagged with its kind and the line it came from.

import type { Example, Instruction, IopoGroup, PreferencePair } from "../../schema/index.ts";
import type { ReadOptions } from "../jsonl.ts";

export type Item =
  | { readonly kind: "instruction"; readonly value: Instruction; readonly line: number }
  | { readonly kind: "example"; readonly value: Example; readonly line: number }
  | { readonly kind: "pair"; readonly value: PreferencePair; readonly line: number }
  | { readonly kind: "group"; readonly value: IopoGroup; readonly line: number };

export type ItemKind = Item["kind"];

export interface WriteResult {
  readonly written: number;
  /** Extra files written beside the output (e.g. LLaMA-Factory's dataset_info.json). */
  readonly extra: string[];
}

export interface Format {
  /** What this format holds, in words, for --help and errors. */
  readonly description: string;
  /** Record kinds it can hold. */
  readonly kinds: readonly ItemKind[];
  read(path: string, options: ReadOptions): AsyncGenerator<Item>;
  /** Write items (already of a supported kind) atomically to `path`. */
  write(path: string, items: AsyncIterable<Item>): Promise<WriteResult>;
}
