// Answer-at-once OpenAI-compatible server for `npm run bench:requests`, run in its own process so the client
// measured by the benchmark does not share its event loop. Prints `PORT <n>` on stdout when listening.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

let n = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    n++;
    const body = JSON.stringify({
      id: `chatcmpl-${n}`,
      object: "chat.completion",
      created: 0,
      model: "bench",
      choices: [{ index: 0, message: { role: "assistant", content: `reply ${n}` }, finish_reason: "stop" }],
      usage: { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 },
    });
    res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);
});
process.on("SIGTERM", () => {
  process.stdout.write(`SERVED ${n}\n`);
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
