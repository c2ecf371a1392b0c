import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { convert, detectFormat, FORMATS, type Item, toTraceLine } from "../../src/io/index.ts";
import { sharedData } from "../helpers/paths.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "iopo-formats-"));

async function collect(gen: AsyncIterable<Item>): Promise<Item[]> {
  const out: Item[] = [];
  for await (const item of gen) out.push(item);
  return out;
}

test("trace: reading maps levels2 to dimensions and keeps the two stray labels", async () => {
  const items = await collect(FORMATS.trace.read(sharedData("trace/trace_eval.jsonl"), {}));
  assert.equal(items.length, 1042);
  const first = items[0]!;
  assert.equal(first.kind, "instruction");
  if (first.kind !== "instruction") return;
  assert.deepEqual(first.value.constraints[0], {
    text: "1. 描述需采用文艺的语气风格，以激发读者对歌曲的兴趣；",
    type: "Tone and Style",
  });
  assert.equal(first.value.input, '"Hotel California" — 老鹰乐队。');
  const labels = items.flatMap((i) =>
    i.kind === "instruction" ? i.value.constraints.flatMap((c) => (c.label ? [c.label] : [])) : [],
  );
  assert.deepEqual(labels.sort(), ["·", "输入格式约束"].sort());
});

test("trace: write(read(file)) reproduces every official line", async () => {
  const dir = tmp();
  const out = join(dir, "trace.jsonl");
  await convert(sharedData("trace/trace_eval.jsonl"), "trace", "trace", out);
  const want = readFileSync(sharedData("trace/trace_eval.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const got = readFileSync(out, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.deepEqual(got[i], want[i], `line ${i + 1}`);
});

test("llamafactory: the official IOPO record → groups → llamafactory is the same record", async () => {
  const dir = tmp();
  const groups = join(dir, "groups.jsonl");
  const back = join(dir, "trace.json");
  await convert(sharedData("trace/iopo_train_example.json"), "llamafactory", "groups", groups);
  const g = JSON.parse(readFileSync(groups, "utf8"));
  assert.equal(g.x1.constraints.length, 3);
  assert.equal(g.x2.constraints[1].text, "2. 标题中必须同时包含“高考”和“大学入学”两个关键词；");
  assert.match(g.y1, /^"高考前夜/);
  await convert(groups, "groups", "llamafactory", back);
  assert.deepEqual(
    JSON.parse(readFileSync(back, "utf8")),
    JSON.parse(readFileSync(sharedData("trace/iopo_train_example.json"), "utf8")),
  );
  const info = JSON.parse(readFileSync(join(dir, "dataset_info.json"), "utf8"));
  const official = JSON.parse(readFileSync(sharedData("trace/dataset_info.json"), "utf8"));
  assert.deepEqual(info.trace, official.trace_iopo);
});

test("llamafactory: DPO ranking and SFT shapes, JSONL too", async () => {
  const dir = tmp();
  const src = join(dir, "mixed.jsonl");
  const x = "Write a haiku\n1. Mention rain.\n";
  writeFileSync(
    src,
    `${JSON.stringify({ conversations: [{ from: "human", value: x }], chosen: { from: "gpt", value: "rain" }, rejected: { from: "gpt", value: "sun" } })}\n` +
      `${JSON.stringify({
        conversations: [
          { from: "human", value: x },
          { from: "gpt", value: "rain falls" },
        ],
      })}\n`,
  );
  const items = await collect(FORMATS.llamafactory.read(src, {}));
  assert.deepEqual(
    items.map((i) => i.kind),
    ["pair", "example"],
  );
  await assert.rejects(
    FORMATS.llamafactory.write(
      join(dir, "out.json"),
      (async function* () {
        yield* items;
      })(),
    ),
    /one kind of record/,
  );
});

test("trl: pairs and SFT round trip in conversational form", async () => {
  const dir = tmp();
  const pairs = join(dir, "pairs.jsonl");
  const instruction = { id: "p1", description: "Say hi", constraints: [{ text: "1. Be brief." }], input: null };
  writeFileSync(pairs, `${JSON.stringify({ id: "p1", instruction, chosen: "hi", rejected: "hello there friend" })}\n`);
  const trl = join(dir, "trl.jsonl");
  await convert(pairs, "pairs", "trl", trl);
  const rec = JSON.parse(readFileSync(trl, "utf8"));
  assert.deepEqual(rec, {
    prompt: [{ role: "user", content: "Say hi\n1. Be brief.\n" }],
    chosen: [{ role: "assistant", content: "hi" }],
    rejected: [{ role: "assistant", content: "hello there friend" }],
  });
  const back = await collect(FORMATS.trl.read(trl, {}));
  assert.equal(back[0]!.kind, "pair");
  if (back[0]!.kind === "pair") assert.deepEqual(back[0]!.value.instruction.constraints, instruction.constraints);
  // SFT from pairs takes the chosen response.
  const sft = join(dir, "sft.jsonl");
  await convert(pairs, "pairs", "sft", sft);
  assert.equal(JSON.parse(readFileSync(sft, "utf8")).response, "hi");
});

test("format detection from the first record", async () => {
  assert.equal(await detectFormat(sharedData("trace/trace_eval.jsonl")), "trace");
  assert.equal(await detectFormat(sharedData("trace/iopo_train_example.json")), "llamafactory");
});

test("trace lines written from a structured instruction use the Chinese labels", () => {
  const line = toTraceLine({
    id: "1",
    description: "d",
    constraints: [{ text: "1. c", type: "Inclusion" }],
    input: null,
  });
  assert.deepEqual(line.levels2, ["包含约束"]);
  assert.equal(line.input, "NULL");
});
