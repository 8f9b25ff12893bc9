/**
 * SVG plots of the report, drawn with Vega-Lite specs compiled to Vega and rendered headlessly in
 * Node (vega's SVG string renderer needs no canvas or browser). Each helper builds a spec from
 * plain arrays; `renderSvg` turns any spec into an SVG document.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

const WIDTH = 380;
const HEIGHT = 240;

/** One curve: y against x, drawn as a line (optionally dashed or as points). */
export interface Curve {
  readonly name: string;
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  readonly dashed?: boolean;
  readonly points?: boolean;
}

/** A shaded band lo..hi over x (credible band, forecast band). */
export interface Band {
  readonly name: string;
  readonly x: ArrayLike<number>;
  readonly lo: ArrayLike<number>;
  readonly hi: ArrayLike<number>;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly curves: readonly Curve[];
  readonly bands?: readonly Band[];
  readonly yLog?: boolean;
  readonly width?: number;
  readonly height?: number;
}

const finite = (v: number) => Number.isFinite(v);

/**
 * Layered line chart with optional shaded bands; the legend names every curve and band.
 *
 * @example
 * const spec = lineChart({ title: 'ACF', xLabel: 'lag', yLabel: 'acf', curves: [{ name: 'data', x: lags, y: acfData }] });
 * const svg = await renderSvg(spec);
 */
export function lineChart(o: LineChartOptions): TopLevelSpec {
  const rows: Array<{ x: number; y: number; series: string }> = [];
  for (const c of o.curves) {
    for (let i = 0; i < c.x.length; i++)
      if (finite(c.x[i]) && finite(c.y[i]) && (!o.yLog || c.y[i] > 0))
        rows.push({ x: c.x[i], y: c.y[i], series: c.name });
  }
  const bandRows: Array<{ x: number; lo: number; hi: number; series: string }> = [];
  for (const b of o.bands ?? []) {
    for (let i = 0; i < b.x.length; i++)
      if (finite(b.x[i]) && finite(b.lo[i]) && finite(b.hi[i]))
        bandRows.push({ x: b.x[i], lo: b.lo[i], hi: b.hi[i], series: b.name });
  }
  const names = [...(o.bands ?? []).map((b) => b.name), ...o.curves.map((c) => c.name)];
  const color = {
    field: 'series',
    type: 'nominal' as const,
    scale: { domain: names },
    legend: { title: null, orient: 'bottom' as const },
  };
  const yScale = o.yLog ? { type: 'log' as const } : { zero: false };
  const dashed = o.curves.filter((c) => c.dashed).map((c) => c.name);
  const pointNames = o.curves.filter((c) => c.points).map((c) => c.name);
  const layers: object[] = [];
  if (bandRows.length > 0) {
    layers.push({
      data: { values: bandRows },
      mark: { type: 'area', opacity: 0.25 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: o.xLabel },
        y: { field: 'lo', type: 'quantitative', scale: yScale, title: o.yLabel },
        y2: { field: 'hi' },
        color,
      },
    });
  }
  layers.push({
    data: { values: rows.filter((r) => !pointNames.includes(r.series)) },
    mark: { type: 'line', strokeWidth: 1.5, clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.xLabel },
      y: { field: 'y', type: 'quantitative', scale: yScale, title: o.yLabel },
      color,
      strokeDash: {
        condition: { test: `indexof(${JSON.stringify(dashed)}, datum.series) >= 0`, value: [5, 3] },
        value: [1, 0],
      },
    },
  });
  if (pointNames.length > 0) {
    layers.push({
      data: { values: rows.filter((r) => pointNames.includes(r.series)) },
      mark: { type: 'point', size: 12, filled: true, opacity: 0.6 },
      encoding: {
        x: { field: 'x', type: 'quantitative' },
        y: { field: 'y', type: 'quantitative', scale: yScale },
        color,
      },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    width: o.width ?? WIDTH,
    height: o.height ?? HEIGHT,
    layer: layers,
  } as TopLevelSpec;
}

/** A labelled matrix for heat maps. */
export interface LabelledMatrix {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  /** Row-major values. */
  readonly data: ArrayLike<number>;
}

/**
 * Side-by-side heat maps of matrices (Phi, Phi_S, Phi_A, V) on one symmetric diverging colour scale,
 * so signs and magnitudes compare across panels.
 */
export function heatmaps(title: string, mats: readonly LabelledMatrix[], cellSize?: number): TopLevelSpec {
  let maxAbs = 0;
  const values: Array<{ panel: string; i: number; j: number; v: number }> = [];
  for (const m of mats) {
    for (let i = 0; i < m.rows; i++)
      for (let j = 0; j < m.cols; j++) {
        const v = m.data[i * m.cols + j];
        values.push({ panel: m.name, i, j, v });
        if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
      }
  }
  const n = Math.max(...mats.map((m) => Math.max(m.rows, m.cols)));
  const size = cellSize ?? Math.max(4, Math.min(60, Math.floor(240 / n)));
  const showText = n <= 4;
  const panel = (m: LabelledMatrix) => ({
    title: m.name,
    width: m.cols * size,
    height: m.rows * size,
    data: { values: values.filter((v) => v.panel === m.name) },
    encoding: {
      x: { field: 'j', type: 'ordinal', title: 'column', axis: n > 8 ? { labels: false, ticks: false } : {} },
      y: { field: 'i', type: 'ordinal', title: 'row', axis: n > 8 ? { labels: false, ticks: false } : {} },
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: {
            field: 'v',
            type: 'quantitative',
            title: 'value',
            scale: { scheme: 'redblue', reverse: true, domain: [-maxAbs || -1, maxAbs || 1] },
          },
        },
      },
      ...(showText
        ? [
            {
              mark: { type: 'text', fontSize: 10 },
              encoding: { text: { field: 'v', type: 'quantitative', format: '.3f' } },
            },
          ]
        : []),
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    hconcat: mats.map(panel),
    resolve: { scale: { color: 'shared' } },
  } as TopLevelSpec;
}

/** Points of one panel of a bivariate density plot. */
export interface ScatterSet {
  readonly name: string;
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
}

/**
 * Side-by-side bivariate densities (e.g. data vs model for neighbouring KS coordinates): each panel
 * bins its points on the same square grid over `extent` (Vega-Lite's bin transform) and colours the
 * cells by the fraction of points, on a shared colour scale.
 */
export function densityPanels(
  title: string,
  xLabel: string,
  yLabel: string,
  panels: readonly ScatterSet[],
  extent: [number, number],
  bins = 40,
): TopLevelSpec {
  const step = (extent[1] - extent[0]) / bins;
  const panel = (p: ScatterSet) => {
    const values: Array<{ x: number; y: number }> = [];
    for (let i = 0; i < p.x.length; i++)
      if (finite(p.x[i]) && finite(p.y[i])) values.push({ x: p.x[i], y: p.y[i] });
    return {
      title: p.name,
      width: 220,
      height: 220,
      data: { values },
      transform: [
        {
          filter: `datum.x >= ${extent[0]} && datum.x < ${extent[1]} && datum.y >= ${extent[0]} && datum.y < ${extent[1]}`,
        },
        { bin: { extent, step }, field: 'x', as: ['x0', 'x1'] },
        { bin: { extent, step }, field: 'y', as: ['y0', 'y1'] },
        { aggregate: [{ op: 'count', as: 'count' }], groupby: ['x0', 'x1', 'y0', 'y1'] },
        { calculate: `datum.count / ${Math.max(1, values.length)}`, as: 'fraction' },
      ],
      mark: 'rect',
      encoding: {
        x: { field: 'x0', type: 'quantitative', title: xLabel, scale: { domain: extent, nice: false } },
        x2: { field: 'x1' },
        y: { field: 'y0', type: 'quantitative', title: yLabel, scale: { domain: extent, nice: false } },
        y2: { field: 'y1' },
        color: { field: 'fraction', type: 'quantitative', title: 'fraction', scale: { scheme: 'viridis' } },
      },
    };
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    hconcat: panels.map(panel),
    resolve: { scale: { color: 'shared' } },
  } as TopLevelSpec;
}

/**
 * Renders a Vega-Lite spec to a standalone SVG document (no browser, no canvas).
 *
 * @example
 * await writeFile('acf.svg', await renderSvg(lineChart({...})));
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
