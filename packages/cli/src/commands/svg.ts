/**
 * Minimal standalone SVG line charts for `sdekit compare` (axes with ticks, labelled lines, legend).
 * Scales and paths come from d3-scale and d3-shape; the markup is plain text, so no DOM is needed.
 */
import { scaleLinear } from 'd3-scale';
import { area, line } from 'd3-shape';

/** One line of a chart. */
export interface ChartSeries {
  readonly name: string;
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  readonly color: string;
  /** SVG stroke-dasharray, e.g. '6 3' for a dashed line. */
  readonly dash?: string;
  /** A shaded band from lo to hi at every x (a noise band around the line). */
  readonly band?: { readonly lo: ArrayLike<number>; readonly hi: ArrayLike<number> };
}

/** A line chart. */
export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
  readonly width?: number;
  readonly height?: number;
}

function escapeXml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );
}

function extent(series: readonly ChartSeries[], key: 'x' | 'y'): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of series) {
    const values = key === 'y' && s.band ? [s.y, s.band.lo, s.band.hi] : [s[key]];
    for (const a of values)
      for (let i = 0; i < a.length; i++) {
        const v = a[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
  }
  if (!(hi > lo)) return [lo - 1, hi + 1];
  return [lo, hi];
}

/** Renders a line chart as a standalone SVG document. */
export function renderLineChart(chart: LineChart): string {
  const width = chart.width ?? 560;
  const height = chart.height ?? 360;
  const margin = { top: 34, right: 18, bottom: 46, left: 62 };
  const x = scaleLinear()
    .domain(extent(chart.series, 'x'))
    .range([margin.left, width - margin.right]);
  const y = scaleLinear()
    .domain(extent(chart.series, 'y'))
    .nice()
    .range([height - margin.bottom, margin.top]);
  const f = (v: number) => (Math.round(v * 100) / 100).toString();
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="13">${escapeXml(chart.title)}</text>`,
  ];
  const [y0, y1] = y.range();
  const [x0, x1] = x.range();
  for (const t of x.ticks(6)) {
    const px = f(x(t));
    parts.push(
      `<line x1="${px}" x2="${px}" y1="${f(y1)}" y2="${f(y0)}" stroke="#eee"/>`,
      `<text x="${px}" y="${f(y0 + 16)}" text-anchor="middle">${escapeXml(x.tickFormat(6)(t))}</text>`,
    );
  }
  for (const t of y.ticks(6)) {
    const py = f(y(t));
    parts.push(
      `<line x1="${f(x0)}" x2="${f(x1)}" y1="${py}" y2="${py}" stroke="#eee"/>`,
      `<text x="${f(x0 - 6)}" y="${py}" dy="0.32em" text-anchor="end">${escapeXml(y.tickFormat(6)(t))}</text>`,
    );
  }
  parts.push(
    `<rect x="${f(x0)}" y="${f(y1)}" width="${f(x1 - x0)}" height="${f(y0 - y1)}" fill="none" stroke="#444"/>`,
    `<text x="${(x0 + x1) / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    `<text transform="translate(14 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`,
  );
  const dashAttr = (s: ChartSeries) => (s.dash ? ` stroke-dasharray="${s.dash}"` : '');
  // Bands first, under every line.
  for (const s of chart.series) {
    const band = s.band;
    if (!band) continue;
    const indices = Array.from({ length: s.x.length }, (_, i) => i);
    const d =
      area<number>()
        .digits(2)
        .x((i) => x(s.x[i]))
        .y0((i) => y(band.lo[i]))
        .y1((i) => y(band.hi[i]))(indices) ?? '';
    parts.push(`<path d="${d}" fill="${s.color}" fill-opacity="0.15" stroke="none"/>`);
  }
  for (const s of chart.series) {
    const indices = Array.from({ length: s.x.length }, (_, i) => i);
    const d =
      line<number>()
        .digits(2)
        .x((i) => x(s.x[i]))
        .y((i) => y(s.y[i]))(indices) ?? '';
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${dashAttr(s)}/>`);
  }
  // Legend (top right) on a white box over the lines.
  parts.push(
    `<rect x="${f(x1 - 128)}" y="${f(y1 + 4)}" width="122" height="${16 * chart.series.length + 4}" fill="white" fill-opacity="0.85" stroke="#ccc"/>`,
  );
  chart.series.forEach((s, k) => {
    const ly = f(y1 + 14 + 16 * k);
    parts.push(
      `<line x1="${f(x1 - 120)}" x2="${f(x1 - 96)}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="1.8"${dashAttr(s)}/>`,
      `<text x="${f(x1 - 90)}" y="${ly}" dy="0.32em">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
