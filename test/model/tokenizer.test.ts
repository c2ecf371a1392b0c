import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CheckpointError, ConfigError } from "../../src/errors.ts";
import {
  byteLevelBpeTokenizerJson,
  loadTokenizer,
  ModelTokenizer,
  PLAIN_CHAT_TEMPLATE,
  parseVocabAndMerges,
  trainByteLevelBpe,
} from "../../src/model/index.ts";

const DATA = new URL("../../../shared/data/tokenizers/", import.meta.url);
const text = (p: string) => readFile(new URL(p, DATA), "utf8");
const jsonl = async (p: string) =>
  (await text(p))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

// The Qwen2 tokenizer.json, built from the official vocab.json + merges.txt + the three added tokens.
const qwen2Json = byteLevelBpeTokenizerJson(
  parseVocabAndMerges(await text("qwen2/vocab.json"), await text("qwen2/merges.txt")),
  Object.entries(JSON.parse(await text("qwen2/added_tokens.json")) as Record<string, number>).map(([content, id]) => ({
    id,
    content,
  })),
);
const qwen2Config = JSON.parse(await text("qwen2/tokenizer_config.qwen2-1.5b-finetune.json"));
const template = await text("qwen2/Qwen2.5-Instruct.chat_template.jinja");
const qwen2 = new ModelTokenizer(qwen2Json, { ...qwen2Config, chat_template: template });
// A small byte-level BPE for the tests that do not need the real vocabulary (building Qwen2's takes ~1 s).
const small = trainByteLevelBpe(["hello hello world, brief answers"], { vocabSize: 270, specialTokens: ["<|e|>"] });
const smallJson = byteLevelBpeTokenizerJson(small, small.added);

test("Qwen2 byte-level BPE reproduces all 46 llama.cpp vectors, and decodes back to the text", async () => {
  const vectors = (await jsonl("llamacpp-vectors/vectors.jsonl")).filter((v) => v.vocab === "qwen2");
  assert.equal(vectors.length, 46);
  const misses: string[] = [];
  for (const v of vectors) {
    const ids = qwen2.encode(v.text);
    if (JSON.stringify(ids) !== JSON.stringify(v.ids)) misses.push(`${v.index} ${JSON.stringify(v.text)}: ${ids}`);
    assert.equal(qwen2.decode(ids), v.text.normalize("NFC"), `decode ${v.index}`);
  }
  assert.deepEqual(misses, []);
});

test("Qwen2.5 chat template: all 9 cases render and tokenize exactly", async () => {
  const cases = await jsonl("qwen2/chat_template_cases.qwen2.5.jsonl");
  assert.equal(cases.length, 9);
  for (const c of cases) {
    const options = { addGenerationPrompt: c.add_generation_prompt };
    assert.equal(qwen2.applyChatTemplate(c.messages, options), c.rendered, c.name);
    assert.deepEqual(qwen2.encodeChat(c.messages, options), c.input_ids, c.name);
  }
});

test("special tokens: ids, never split, dropped by skipSpecialTokens", () => {
  assert.equal(qwen2.specialId("eos"), 151645);
  assert.equal(qwen2.specialId("pad"), 151643);
  assert.equal(qwen2.specialId("bos"), null);
  assert.equal(qwen2.vocabSize, 151646);
  const ids = qwen2.encode("<|im_start|>user\nhi<|im_end|>");
  assert.equal(ids[0], 151644);
  assert.equal(ids.at(-1), 151645);
  assert.equal(qwen2.decode(ids, { skipSpecialTokens: true }), "user\nhi");
  assert.equal(qwen2.decode([]), "");
});

test("without a chat_template the documented plain layout is used", () => {
  const plain = new ModelTokenizer(smallJson, { chat_template: null });
  assert.equal(plain.chatTemplate, null);
  const messages = [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hi" },
    { role: "assistant", content: "Hello." },
    { role: "user", content: "Bye" },
  ];
  assert.equal(
    plain.applyChatTemplate(messages, { addGenerationPrompt: true }),
    "### System:\nBe brief.\n\n### User:\nHi\n\n### Assistant:\nHello.\n\n### User:\nBye\n\n### Assistant:\n",
  );
  assert.equal(plain.applyChatTemplate(messages.slice(1, 2)), "### User:\nHi\n\n");
  assert.ok(PLAIN_CHAT_TEMPLATE.includes("add_generation_prompt"));
});

test("a broken chat template is a ConfigError", () => {
  const broken = new ModelTokenizer(smallJson, { chat_template: "{% for m in messages %}" });
  assert.throws(() => broken.applyChatTemplate([{ role: "user", content: "x" }]), ConfigError);
});

test("a WordLevel tokenizer.json encodes with unk and decodes with spaces", () => {
  const added = (id: number, content: string) => ({
    id,
    content,
    special: true,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
  });
  const json = {
    version: "1.0",
    added_tokens: [added(0, "[UNK]"), added(5, "[EOS]")],
    normalizer: { type: "Lowercase" },
    pre_tokenizer: { type: "Whitespace" },
    post_processor: null,
    decoder: null,
    model: {
      type: "WordLevel",
      vocab: { "[UNK]": 0, hello: 1, world: 2, "!": 3, ",": 4, "[EOS]": 5 },
      unk_token: "[UNK]",
    },
  };
  const tok = new ModelTokenizer(json, { unk_token: "[UNK]", eos_token: "[EOS]" });
  assert.deepEqual(tok.encode("Hello, world! Goodbye world[EOS]"), [1, 4, 2, 3, 0, 2, 5]);
  assert.equal(tok.decode([1, 4, 2, 3]), "hello , world !");
  assert.equal(tok.decode([1, 2, 5], { skipSpecialTokens: true }), "hello world");
  assert.equal(tok.specialId("eos"), 5);
});

const dir = await mkdtemp(join(tmpdir(), "iopo-tok-"));
after(() => rm(dir, { recursive: true, force: true }));

test("loadTokenizer reads tokenizer.json and tokenizer_config.json; a missing tokenizer.json names the file", async () => {
  await writeFile(join(dir, "tokenizer.json"), JSON.stringify(smallJson));
  await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify({ ...qwen2Config, chat_template: template }));
  const tok = await loadTokenizer(dir);
  assert.deepEqual(tok.encode("hello world"), new ModelTokenizer(smallJson).encode("hello world"));
  assert.equal(tok.decode(tok.encode("hello world")), "hello world");
  assert.equal(tok.specialId("eos"), null); // the Qwen2 config's eos <|im_end|> is not in this vocabulary
  assert.ok(tok.applyChatTemplate([{ role: "user", content: "x" }]).startsWith("<|im_start|>system\nYou are Qwen"));
  await assert.rejects(loadTokenizer(join(dir, "nope")), (err: unknown) => {
    assert.ok(err instanceof CheckpointError);
    assert.match(err.message, /nope\/tokenizer\.json/);
    return true;
  });
});
