// The offline world's simple-instruction seeds: task templates × topics, ids `seed-0000…`, deterministic.
// Each seed keeps its topic so the responder can write on theme; tasks with an input carry a short text.

import { Rng } from "./rng.ts";
import { NOUNS, TASKS, TOPICS, type Topic, VALIDATION_TOPICS } from "./vocab.ts";

// ---- types ----

export interface Seed {
  readonly id: string;
  readonly text: string;
  readonly topic: Topic;
  readonly input: string | null;
}

// ---- helpers ----

function inputFor(topic: Topic, index: number | string): string {
  const rng = Rng.for(0, `input:${index}`);
  const [a, b, c] = rng.sample(topic.nouns, 3);
  const n = rng.pick(NOUNS);
  return `Notes: ${a} matters more than most people think. Good ${b} takes ${n}. Many readers ask how ${c} fits in.`;
}

// ---- exports ----

/** All built-in seeds (TASKS × TOPICS = 400), in a fixed order. */
export const SEEDS: readonly Seed[] = TOPICS.flatMap((topic, ti) =>
  TASKS.map((task, ki) => {
    const index = ti * TASKS.length + ki;
    return {
      id: `seed-${String(index).padStart(4, "0")}`,
      text: task.text.replace("{t}", topic.name),
      topic,
      input: task.input ? inputFor(topic, index) : null,
    };
  }),
);

/** Seeds of the validation topics (TASKS × VALIDATION_TOPICS = 40, ids `vseed-0000…`): in no split of SEEDS. */
export const VALIDATION_SEEDS: readonly Seed[] = VALIDATION_TOPICS.flatMap((topic, ti) =>
  TASKS.map((task, ki) => {
    const index = ti * TASKS.length + ki;
    return {
      id: `vseed-${String(index).padStart(4, "0")}`,
      text: task.text.replace("{t}", topic.name),
      topic,
      input: task.input ? inputFor(topic, `v${index}`) : null,
    };
  }),
);

/** A seed from a user's simple instruction: its topic nouns are its own longer words. */
export function seedFromText(id: string, text: string, input: string | null = null): Seed {
  const words = (text.toLowerCase().match(/[a-z]{5,}/g) ?? []).filter((w, i, a) => a.indexOf(w) === i);
  const nouns = words.length >= 3 ? words.slice(0, 8) : [...words, ...TOPICS[0]!.nouns].slice(0, 6);
  return { id, text, topic: { name: words.slice(0, 2).join(" ") || "the topic", nouns }, input };
}
