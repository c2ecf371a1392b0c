// Inline SVG charts for the HTML report: a line chart (training curves) and a grouped bar chart (accuracies).
// Pure string builders with no library and no network; every text is escaped. Marks carry class="mark" so a
// test can count what was drawn; each chart is an <svg class="chart" data-chart="…">.

// ---- types ----

export interface LineSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface LineChart {
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  /** Draw a dashed horizontal line at this value (e.g. 0 for margins, ln 2 for losses at the start). */
  readonly ref?: number;
}

export interface BarSeries {
  readonly name: string;
  readonly color: string;
  /** One value per category; null = no data (nothing drawn). */
  readonly values: readonly (number | null)[];
}

export interface BarChart {
  readonly id: string;
  readonly title: string;
  readonly yLabel: string;
  readonly categories: readonly string[];
  readonly series: readonly BarSeries[];
  /** Fixed top of the y axis (100 for percentages). */
  readonly yMax?: number;
  /** Second line of each category label (e.g. "n=12"). */
  readonly notes?: readonly string[];
}

// ---- helpers ----

const W0 = 560;
const H = 300;
const M = { left: 56, right: 12, top: 34, bottom: 58 };

/** Escape text for HTML and SVG (element content and attribute values). */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/** About five round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function frame(id: string, title: string, yLabel: string, body: string, legend: string, W = W0): string {
  return (
    `<svg class="chart" data-chart="${esc(id)}" viewBox="0 0 ${W} ${H + legendRows(legend) * 14}" width="${W}" height="${H + legendRows(legend) * 14}" role="img" ` +
    `aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg">` +
    `<text class="title" x="${M.left}" y="18">${esc(title)}</text>` +
    `<text class="axis-label" transform="translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>` +
    body +
    legend +
    `</svg>`
  );
}

/** Extra legend rows beyond the first (each entry is one <g class="legend" data-row=…>). */
const legendRows = (legend: string) =>
  Math.max(0, ...[...legend.matchAll(/data-row="(\d+)"/g)].map((m) => Number(m[1])));

/** Legend entries left to right, wrapping onto new rows below the chart when the width runs out. */
function legendOf(items: readonly { name: string; color: string }[], W = W0): string {
  let x = M.left;
  let row = 0;
  return items
    .map((s) => {
      const w = 24 + s.name.length * 6.2;
      if (x + w > W - M.right && x > M.left) [x, row] = [M.left, row + 1];
      const y = H - 16 + row * 14;
      const g =
        `<g class="legend" data-series="${esc(s.name)}" data-row="${row}"><rect x="${x.toFixed(0)}" y="${y}" width="10" height="10" fill="${esc(s.color)}"/>` +
        `<text x="${(x + 14).toFixed(0)}" y="${y + 9}">${esc(s.name)}</text></g>`;
      x += w;
      return g;
    })
    .join("");
}

// ---- exports ----

export function lineChart(c: LineChart): string {
  const W = W0;
  const all = c.series.flatMap((s) => s.points);
  if (all.length === 0) return frame(c.id, c.title, c.yLabel, `<text x="${W / 2}" y="${H / 2}">no data</text>`, "");
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]).concat(c.ref !== undefined ? [c.ref] : []);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const px = (x: number) => M.left + ((x - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - ((y - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  let body = "";
  for (const t of ticks(y0, y1))
    body +=
      `<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}"/>` +
      `<text class="tick" x="${M.left - 4}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${num(t)}</text>`;
  for (const t of ticks(x0, x1))
    body += `<text class="tick" x="${px(t).toFixed(1)}" y="${H - M.bottom + 14}" text-anchor="middle">${num(t)}</text>`;
  body += `<text class="axis-label" x="${(M.left + W - M.right) / 2}" y="${H - M.bottom + 30}" text-anchor="middle">${esc(c.xLabel)}</text>`;
  if (c.ref !== undefined)
    body += `<line class="ref" x1="${M.left}" x2="${W - M.right}" y1="${py(c.ref).toFixed(1)}" y2="${py(c.ref).toFixed(1)}"/>`;
  for (const s of c.series) {
    if (s.points.length === 0) continue;
    const d = s.points.map((p, i) => `${i ? "L" : "M"}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join("");
    body += `<path class="mark" data-series="${esc(s.name)}" d="${d}" stroke="${esc(s.color)}"><title>${esc(s.name)}</title></path>`;
    if (s.points.length === 1)
      body += `<circle class="mark" data-series="${esc(s.name)}" cx="${px(s.points[0]![0]).toFixed(1)}" cy="${py(s.points[0]![1]).toFixed(1)}" r="3" fill="${esc(s.color)}"/>`;
  }
  return frame(c.id, c.title, c.yLabel, body, legendOf(c.series, W), W);
}

export function barChart(c: BarChart): string {
  // Wide enough for ~11 px per bar and a readable category label.
  const W = Math.max(W0, M.left + M.right + c.categories.length * Math.max(64, c.series.length * 12 + 12));
  const vals = c.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const y1 = c.yMax ?? Math.max(1e-9, ...vals);
  const py = (y: number) => H - M.bottom - (y / y1) * (H - M.top - M.bottom);
  const band = (W - M.left - M.right) / Math.max(1, c.categories.length);
  const bw = (band * 0.8) / Math.max(1, c.series.length);
  let body = "";
  for (const t of ticks(0, y1))
    body +=
      `<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}"/>` +
      `<text class="tick" x="${M.left - 4}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${num(t)}</text>`;
  c.categories.forEach((cat, i) => {
    const cx = M.left + band * (i + 0.5);
    const max = Math.max(6, Math.floor(band / 6.2));
    const label = cat.length > max ? `${cat.slice(0, max - 1)}…` : cat;
    body += `<text class="tick cat" x="${cx.toFixed(1)}" y="${H - M.bottom + 14}" text-anchor="middle"><title>${esc(cat)}</title>${esc(label)}</text>`;
    if (c.notes?.[i])
      body += `<text class="tick" x="${cx.toFixed(1)}" y="${H - M.bottom + 26}" text-anchor="middle">${esc(c.notes[i])}</text>`;
    c.series.forEach((s, j) => {
      const v = s.values[i];
      if (v === null || v === undefined) return;
      const x = M.left + band * i + band * 0.1 + bw * j;
      const h = Math.max(v > 0 ? 1 : 0.5, H - M.bottom - py(v));
      body +=
        `<rect class="mark" data-series="${esc(s.name)}" x="${x.toFixed(1)}" y="${(H - M.bottom - h).toFixed(1)}" ` +
        `width="${Math.max(1, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${esc(s.color)}">` +
        `<title>${esc(`${s.name} · ${cat}: ${num(v)}`)}</title></rect>`;
    });
  });
  body += `<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}"/>`;
  return frame(c.id, c.title, c.yLabel, body, legendOf(c.series, W), W);
}
