// The HTML report: escaping and structure on a real quick-demo run (every method, two seeds), then headless Chromium
// (Debian's chromium via playwright-core): no console errors, every chart drawn, the results with per-seed values and
// token counts, the bootstrap intervals and the ordering as results.json has them, an injected <script> inert.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { demoConfig, layout, METHOD_SPECS, METHODS, runDemo, writeReport } from "../../src/demo/index.ts";
import { PAPER_TABLE1 } from "../../src/report/index.ts";

const CHROMIUM = "/usr/bin/chromium";
const dir = mkdtempSync(join(tmpdir(), "iopo-report-"));
const out = join(dir, "run");
const INJECT = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">`;
let html = "";

before(async () => {
  await runDemo({ dir: out, config: demoConfig("quick", 0), logger: { info: () => {}, progress: () => {} } });
  // A generation that carries markup: it must be shown as text.
  const L = layout(out);
  const path = L.generations(0, "iopo");
  const gens = readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  gens[0].response = `${INJECT}\n${gens[0].response}`;
  writeFileSync(path, `${gens.map((g: unknown) => JSON.stringify(g)).join("\n")}\n`);
  await writeReport(out);
  html = readFileSync(L.report, "utf8");
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("the report is self-contained: no external URLs, a CSP that allows only its own script", () => {
  assert.doesNotMatch(html, /\b(src|href)=["']?(https?:)?\/\//i);
  assert.match(
    html,
    /Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; script-src &#39;sha256-/,
  );
  assert.equal((html.match(/<script>/g) ?? []).length, 1);
});

test("model outputs are escaped", () => {
  assert.ok(!html.includes(INJECT));
  assert.ok(html.includes("&#60;script&#62;window.__pwned = 1&#60;/script&#62;"));
});

test("the paper's numbers are there, labelled as the paper's 7B/8B numbers", () => {
  for (const r of PAPER_TABLE1) assert.ok(html.includes(`<td>${r.if_m.toFixed(1)}</td>`), `${r.model} ${r.method}`);
  assert.match(html, /7B\/8B models judged by an LLM; for reference, not this run(&#39;|')s numbers/);
});

test("headless Chromium: no console errors, charts drawn, tables present, injected script inert; screenshot", async (t) => {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) — .ci/run does this in CI`,
  );
  const profile = mkdtempSync(join(tmpdir(), "iopo-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    viewport: { width: 1280, height: 900 },
  });
  t.after(async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  const requests: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(`file://${layout(out).report}`);
  await page.waitForFunction("document.documentElement.dataset.ready === '1'");
  const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  assert.deepEqual(errors, []);
  assert.deepEqual(
    requests.filter((u) => !u.startsWith("file://")),
    [],
  );
  // Tables: this run's results (every method), the intervals, the ordering, and the paper's Table 1 (6 rows).
  assert.equal(await page.locator("#results tr[data-model]").count(), METHODS.length);
  assert.equal(await page.locator("#paper tr").count(), 7);
  const n = (x: number) => Math.round(x).toLocaleString("en");
  const p1 = (x: number) => (100 * x).toFixed(1);
  for (const m of METHODS) {
    const row = page.locator(`#results tr[data-model="${m}"]`);
    const s = results.summary[m];
    assert.equal(await row.locator("td.l").innerText(), METHOD_SPECS[m].label);
    // Token counts as results.json has them (mean over seeds), visible.
    assert.ok(s.tokens_prompt > 0 && s.tokens_response > 0, m);
    assert.equal(await row.locator('td[data-col="tokens-prompt"]').innerText(), n(s.tokens_prompt));
    assert.equal(await row.locator('td[data-col="tokens-response"]').innerText(), n(s.tokens_response));
    assert.ok(await row.locator('td[data-col="tokens-prompt"]').isVisible());
    assert.equal(await row.locator('td[data-col="repetition"]').innerText(), p1(s.repetition_share));
    // The mean over seeds, then the two per-seed values.
    const ifs = await row.locator('td[data-metric="if_s"]').innerText();
    assert.equal(ifs.replace(/\s+/g, " "), `${p1(s.metrics.if_s.mean)} ${s.metrics.if_s.per_seed.map(p1).join(" / ")}`);
  }
  // Every interval of results.json, in percentage points, visible.
  const pp = (x: number) => `${x > 0 ? "+" : x < 0 ? "−" : "±"}${Math.abs(100 * x).toFixed(1)}`;
  assert.equal(await page.locator("#intervals tr[data-cmp]").count(), results.comparisons.length);
  assert.equal(results.comparisons.length, 12);
  for (const c of results.comparisons) {
    const row = page.locator(`#intervals tr[data-cmp="${c.a}-${c.b}-${c.metric}"]`);
    assert.equal(await row.locator("td.ci").innerText(), `[${pp(c.lo)}, ${pp(c.hi)}]`);
    assert.ok(await row.locator("td.ci").isVisible());
    assert.match(await row.innerText(), new RegExp(c.verdict));
  }
  for (const k of ["if_s", "if_m", "constraint_level"])
    assert.match(
      await page.locator(`#ordering li[data-metric="${k}"]`).innerText(),
      new RegExp(`IOPO > DPO > SFT ${results.ordering[k].holds ? "holds" : "does not hold"}`),
    );
  assert.match(await page.locator("#total-time").innerText(), new RegExp(`^${results.total_seconds.toFixed(0)} s`));
  // Every chart drawn: each svg.chart has at least one mark with a size.
  const charts = (await page.evaluate(`[...document.querySelectorAll("svg.chart")].map((s) => ({
    id: s.getAttribute("data-chart"),
    marks: [...s.querySelectorAll(".mark")].filter((m) => { const b = m.getBBox(); return b.width > 0 || b.height > 0; }).length,
  }))`)) as { id: string; marks: number }[];
  const ids = charts.map((c) => c.id);
  for (const want of ["by-dimension", "by-count", ...METHODS.map((m) => `loss-${m}`), "margins", "reward-accuracy"])
    assert.ok(ids.includes(want), `chart ${want} missing (have ${ids.join(", ")})`);
  for (const c of charts) assert.ok(c.marks > 0, `chart ${c.id} has no marks`);
  // The margins chart has IOPO's output-preference (per input) and input-preference (per response) parts apart,
  // and DPO's margin.
  assert.equal(await page.locator('svg[data-chart="margins"] path.mark').count(), 5);
  // The injected markup is text, and it did not run.
  assert.equal(await page.evaluate("typeof window.__pwned"), "undefined");
  assert.equal(await page.locator("pre.gen", { hasText: "<script>window.__pwned = 1</script>" }).count(), 1);
  // The legend toggles a series (the report's own script runs).
  await page.locator('svg[data-chart="margins"] .legend').first().click();
  assert.equal(await page.locator('svg[data-chart="margins"] path.mark[style*="display: none"]').count(), 1);
  const shot = join(tmpdir(), "iopo-report-test.png"); // kept after the test for a look
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(readFileSync(shot).length > 10_000);
  t.diagnostic(`screenshot: ${shot}`);
});
