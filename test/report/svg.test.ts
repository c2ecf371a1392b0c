import assert from "node:assert/strict";
import { test } from "node:test";
import { barChart, esc, lineChart, ticks } from "../../src/report/index.ts";

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

test("esc escapes the five HTML-significant characters", () => {
  assert.equal(
    esc(`<script>alert("x" & 'y')</script>`),
    "&#60;script&#62;alert(&#34;x&#34; &#38; &#39;y&#39;)&#60;/script&#62;",
  );
});

test("ticks are round numbers covering the range", () => {
  assert.deepEqual(ticks(0, 100), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(ticks(0.1, 0.9), [0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(ticks(3, 3), [3]);
});

test("lineChart draws one path per non-empty series and escapes names", () => {
  const svg = lineChart({
    id: "t",
    title: "loss <1>",
    xLabel: "step",
    yLabel: "y",
    ref: 0,
    series: [
      {
        name: "a",
        color: "#f00",
        points: [
          [1, 2],
          [2, 1],
          [3, 0.5],
        ],
      },
      {
        name: "<b>",
        color: "#00f",
        points: [
          [1, -1],
          [3, 1],
        ],
      },
      { name: "empty", color: "#0f0", points: [] },
    ],
  });
  assert.equal(count(svg, /<path class="mark"/g), 2);
  assert.ok(svg.includes("loss &#60;1&#62;"));
  assert.ok(!svg.includes("<b>"));
  assert.match(svg, /<path class="mark" data-series="a" d="M56\.0,[\d.]+L[\d.]+,[\d.]+L548\.0,[\d.]+"/);
  assert.equal(count(svg, /class="ref"/g), 1);
});

test("barChart draws a rect per non-null value, with heights proportional to the values", () => {
  const svg = barChart({
    id: "b",
    title: "acc",
    yLabel: "%",
    yMax: 100,
    categories: ["x", "y"],
    series: [
      { name: "s1", color: "#111", values: [50, null] },
      { name: "s2", color: "#222", values: [100, 0] },
    ],
  });
  assert.equal(count(svg, /<rect class="mark"/g), 3);
  const h = [...svg.matchAll(/<rect class="mark"[^>]* height="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(h[1], 2 * h[0]!);
  assert.equal(h[2], 0.5); // a zero is drawn as a hairline so the bar is visibly there
});
