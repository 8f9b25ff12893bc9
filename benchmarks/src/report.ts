/**
 * Writes a run's report: metrics.json (schema in metrics.ts / README), index.html (summary table,
 * per-case timings, warnings and every plot), and the one-screen text summary for the terminal.
 */
import { join } from 'node:path';
import { atomicWrite } from '@sdekit/cli';
import { formatTarget, type Metric, type RunReport } from './metrics.js';

/** Formats a metric value with 4 significant digits (scientific for very small or large numbers). */
export function formatValue(v: number | null): string {
  if (v === null) return 'n/a';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a < 1e-3 || a >= 1e5 ? v.toExponential(3) : Number(v.toPrecision(4)).toString();
}

const passText = (m: Metric) => (m.pass === null ? 'info' : m.pass ? 'PASS' : 'FAIL');

/** The terminal summary: one line per metric, then one line per case. */
export function summaryTable(report: RunReport): string {
  const rows: string[][] = [['case', 'metric', 'value', 'target', 'pass']];
  for (const c of report.cases) {
    if (c.status === 'error') rows.push([c.id, `ERROR: ${(c.error ?? '').slice(0, 70)}`, '', '', 'FAIL']);
    for (const m of c.metrics)
      rows.push([c.id, m.name, formatValue(m.value), formatTarget(m.target), passText(m)]);
  }
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  const line = (r: string[]) =>
    r.map((s, j) => (j === 2 ? s.padStart(widths[j]) : s.padEnd(widths[j]))).join('  ');
  const out = [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  out.push('');
  for (const c of report.cases)
    out.push(`${c.id.padEnd(4)} ${c.status.toUpperCase().padEnd(6)} ${c.seconds.toFixed(1)} s  ${c.title}`);
  out.push(
    `${report.passed ? 'ALL PASSED' : 'NOT ALL PASSED'}: profile ${report.profile}, seed ${report.seed}, backend ${report.backend.name}, ${report.seconds.toFixed(1)} s`,
  );
  return out.join('\n');
}

/** A Markdown table of every metric (for READMEs), with the run's date, machine and backend. */
export function markdownTable(report: RunReport): string {
  const m = report.machine;
  const lines = [
    `Profile **${report.profile}**, seed ${report.seed}, ${report.date.slice(0, 16).replace('T', ' ')} UTC, backend ${report.backend.name}, node ${m.node}, ${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB; ${report.seconds.toFixed(0)} s in all.`,
    '',
    '| case | metric | value | target | pass |',
    '| --- | --- | ---: | --- | --- |',
  ];
  for (const c of report.cases) {
    if (c.status === 'error')
      lines.push(`| ${c.id} | error: ${(c.error ?? '').replace(/\|/g, '/')} | | | FAIL |`);
    for (const x of c.metrics)
      lines.push(
        `| ${c.id} | ${x.name} | ${formatValue(x.value)} | ${formatTarget(x.target)} | ${passText(x)} |`,
      );
  }
  lines.push('', '| case | status | seconds | stages |', '| --- | --- | ---: | --- |');
  for (const c of report.cases)
    lines.push(
      `| ${c.id} | ${c.status} | ${c.seconds.toFixed(0)} | ${c.stages.map((st) => `${st.name} ${st.seconds.toFixed(0)} s`).join(', ')} |`,
    );
  return lines.join('\n');
}

/** 'd=1 N=10 n=100: drift MSE (flow)' -> its configuration tag and metric name (null: untagged). */
function splitConfiguration(name: string): { tag: string; metric: string } | null {
  const m = /^((?:[A-Za-z]\w*=[\w.]+ )*[A-Za-z]\w*=[\w.]+): (.+)$/.exec(name);
  return m ? { tag: m[1], metric: m[2] } : null;
}

/**
 * For every case that ran several configurations (metric names 'k=v ...: metric', as M1 and M2 in
 * the full profile), a Markdown table with one row per configuration and one column per metric
 * (failed values marked FAIL): the layout of [SG] Table 1 for M2's drift MSEs. Empty when no case has
 * configurations.
 */
export function configurationTables(report: RunReport): string {
  const out: string[] = [];
  for (const c of report.cases) {
    const tags: string[] = [];
    const metrics: string[] = [];
    const cells = new Map<string, string>();
    for (const m of c.metrics) {
      const split = splitConfiguration(m.name);
      if (!split) continue;
      if (!tags.includes(split.tag)) tags.push(split.tag);
      if (!metrics.includes(split.metric)) metrics.push(split.metric);
      cells.set(
        `${split.tag}\u0000${split.metric}`,
        `${formatValue(m.value)}${m.pass === false ? ' FAIL' : ''}`,
      );
    }
    if (tags.length < 2) continue;
    out.push(
      `${c.id} by configuration:`,
      '',
      `| configuration | ${metrics.join(' | ')} |`,
      `| --- |${metrics.map(() => ' ---: |').join('')}`,
      ...tags.map((t) => `| ${t} | ${metrics.map((m) => cells.get(`${t}\u0000${m}`) ?? '').join(' | ')} |`),
      '',
    );
  }
  return out.join('\n');
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The HTML page showing the summary table and every plot of the run. */
export function indexHtml(report: RunReport): string {
  const rows = report.cases
    .flatMap((c) => [
      ...(c.status === 'error'
        ? [
            `<tr class="fail"><td>${esc(c.id)}</td><td colspan="3">error: ${esc(c.error ?? '')}</td><td>FAIL</td></tr>`,
          ]
        : []),
      ...c.metrics.map(
        (m) =>
          `<tr class="${m.pass === null ? 'info' : m.pass ? 'pass' : 'fail'}"><td>${esc(c.id)}</td><td>${esc(m.name)}${m.note ? `<div class="note">${esc(m.note)}</div>` : ''}</td><td class="num">${esc(formatValue(m.value))}</td><td>${esc(formatTarget(m.target))}</td><td>${passText(m)}</td></tr>`,
      ),
    ])
    .join('\n');
  const sections = report.cases
    .map((c) => {
      const stages = c.stages.map((s) => `${esc(s.name)} ${s.seconds.toFixed(1)} s`).join(' &middot; ');
      const sizes = Object.entries(c.sizes)
        .map(([k, v]) => `${esc(k)} = ${esc(String(v))}`)
        .join(', ');
      const warns = c.warnings.length
        ? `<ul class="warn">${c.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`
        : '';
      const figs = c.plots
        .map(
          (p) =>
            `<figure><img src="${esc(p.file)}" alt="${esc(p.title)}"><figcaption><b>${esc(p.title)}.</b> ${esc(p.caption)}</figcaption></figure>`,
        )
        .join('\n');
      const files = [
        ...c.series.map((s) => `${s.file} [${s.shape.join(' x ')}] ${s.description}`),
        ...c.models.map((m) => `${m.file} (${m.format}) ${m.description}`),
      ]
        .map((f) => `<li><code>${esc(f)}</code></li>`)
        .join('');
      return `<section id="${esc(c.id)}"><h2>${esc(c.id)}: ${esc(c.title)} <span class="${c.status === 'passed' ? 'pass' : 'fail'}">${c.status}</span></h2>
<p class="meta">${c.seconds.toFixed(1)} s: ${stages}</p><p class="meta">${sizes}</p>${c.error ? `<p class="fail">${esc(c.error)}</p>` : ''}${warns}
<div class="figs">${figs}</div>${files ? `<details><summary>files</summary><ul>${files}</ul></details>` : ''}</section>`;
    })
    .join('\n');
  const versions = Object.entries(report.versions)
    .map(([k, v]) => `${esc(k)} ${esc(v)}`)
    .join(', ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sdekit benchmarks (${esc(report.profile)})</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1400px;color:#222}
table{border-collapse:collapse;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}.pass{color:#176b1f}.fail{color:#b00020}.info{color:#555}
tr.fail td{background:#fdecee}.note{font-size:11px;color:#666}.meta{color:#555;font-size:13px}
.figs{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;border:1px solid #eee;padding:6px;max-width:100%}
figure img{max-width:100%;display:block}figcaption{font-size:12px;max-width:520px}.warn{color:#8a5a00;font-size:13px}
</style></head><body>
<h1>sdekit benchmark report</h1>
<p class="meta">${esc(report.date)} &middot; profile <b>${esc(report.profile)}</b> &middot; seed ${report.seed} &middot; backend ${esc(report.backend.name)} (asked: ${esc(report.backend.requested)}) &middot; ${report.seconds.toFixed(1)} s &middot;
node ${esc(report.machine.node)}, ${esc(report.machine.platform)}, ${report.machine.cpus} x ${esc(report.machine.cpuModel)}, ${report.machine.memoryGiB} GiB</p>
<p class="meta">${versions}</p>
<p><b class="${report.passed ? 'pass' : 'fail'}">${report.passed ? 'Every case passed.' : 'Not every case passed.'}</b> Raw numbers: <a href="metrics.json">metrics.json</a>.</p>
<table><thead><tr><th>case</th><th>metric</th><th>value</th><th>target</th><th>pass</th></tr></thead><tbody>
${rows}
</tbody></table>
${sections}
</body></html>
`;
}

/** Writes metrics.json and index.html into `dir` (atomically). */
export async function writeReport(dir: string, report: RunReport): Promise<void> {
  await atomicWrite(join(dir, 'metrics.json'), `${JSON.stringify(report, null, 2)}\n`);
  await atomicWrite(join(dir, 'index.html'), indexHtml(report));
}
