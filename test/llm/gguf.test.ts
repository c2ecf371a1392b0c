import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ProviderError } from "../../src/errors.ts";
import { checkGgufFile, GgufProvider } from "../../src/llm/index.ts";

const dir = mkdtempSync(join(tmpdir(), "iopo-gguf-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function header(version: number, tensors: bigint, kvs: bigint, extra = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(24);
  b.write("GGUF", 0, "latin1");
  b.writeUInt32LE(version, 4);
  b.writeBigUInt64LE(tensors, 8);
  b.writeBigUInt64LE(kvs, 16);
  return Buffer.concat([b, extra]);
}

async function rejectsWith(path: string, pattern: RegExp): Promise<void> {
  await assert.rejects(GgufProvider.open({ path, gpu: false }), (err: Error) => {
    assert.ok(err instanceof ProviderError, `${err.name}: ${err.message}`);
    assert.match(err.message, pattern);
    assert.ok(err.message.includes(path), "the message names the file");
    return true;
  });
}

test("a missing model file is a clear ProviderError", async () => {
  await rejectsWith(join(dir, "nope.gguf"), /GGUF model file not found; expected an existing \.gguf file/);
  await rejectsWith(dir, /GGUF model file not found.*not a regular file/);
});

test("corrupt files are rejected before loading: wrong magic, empty, cut header, bad version, absurd counts", async () => {
  const cases: [string, Buffer, RegExp][] = [
    ["text.gguf", Buffer.from("hello, I am not a model"), /not a GGUF model file.*got "hell"/],
    ["empty.gguf", Buffer.alloc(0), /got an empty file/],
    ["short.gguf", Buffer.from("GGUF\x03\x00"), /a header cut short/],
    ["v9.gguf", header(9, 0n, 0n), /format version 9/],
    ["counts.gguf", header(3, 1n << 40n, 5n, Buffer.from("garbage")), /announcing 1099511627776 tensors/],
  ];
  for (const [name, bytes, pattern] of cases) {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    await rejectsWith(path, pattern);
  }
  const fine = join(dir, "empty-but-valid-header.gguf");
  writeFileSync(fine, header(3, 0n, 0n));
  await checkGgufFile(fine);
});

test("a well-formed header with no model in it fails to load with a ProviderError (real node-llama-cpp)", async () => {
  const path = join(dir, "no-arch.gguf");
  writeFileSync(path, header(3, 0n, 0n));
  await rejectsWith(path, /cannot load the GGUF model/);
});
