/**
 * Renders an evaluation: text tables for the terminal (cli-table3), a JSON report, and a
 * self-contained HTML report whose plots (PR curves, reliability diagrams, per-kind recall
 * and false-positive bars) are SVG rendered in Node with vega-lite + vega.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Table from 'cli-table3';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { CODING_KINDS, DUPLICATE_KINDS, HARD_NEGATIVE_KINDS } from '../../datasets/benchmark/types.js';
import type { DetectorReport, EvalReport, Example, KindReport } from './harness.js';
import type { PrPoint } from './metrics.js';

/** A metric to 3 decimals; `-` when undefined (NaN). */
export function fmt(x: number | undefined | null, digits = 3): string {
  return x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(digits);
}

function pct(x: number): string {
  return Number.isNaN(x) ? '-' : `${(100 * x).toFixed(1)}%`;
}

/** A table with uncoloured header and borders (readable in logs). */
function table(head: string[]): Table.Table {
  return new Table({ style: { head: [], border: [] }, head });
}

const METRIC_HEAD = ['n pos', 'P', 'R', 'F1', 'ROC-AUC', 'PR-AUC', 'ECE'];

function metricCells(r: KindReport): string[] {
  return [
    String(r.positives),
    fmt(r.at.precision),
    fmt(r.at.recall),
    fmt(r.at.f1),
    fmt(r.rocAuc),
    fmt(r.prAuc),
    fmt(r.ece),
  ];
}

/** The terminal tables of a report. */
export function renderTables(report: EvalReport): string {
  const out: string[] = [];
  const withDup = report.detectors.filter((d) => d.duplicate);
  const withCoding = report.detectors.filter((d) => d.coding);
  out.push(
    `Split ${report.split}: ${report.invoices} invoices, ${report.lines} lines` +
      (report.limit !== null ? ` (first ${report.limit} records only)` : '') +
      ` - ${report.dataset}`,
  );
  if (withDup.length > 0) {
    const t = table(['duplicates', 'version', 'thr', 'flagged', ...METRIC_HEAD.slice(1), 'matched', 'inv/s']);
    for (const d of withDup) {
      const o = d.duplicate?.overall as KindReport;
      t.push([
        d.name,
        d.version,
        fmt(d.thresholds.duplicate, 2),
        String(o.at.tp + o.at.fp),
        ...metricCells(o).slice(1),
        pct(o.matched ?? Number.NaN),
        d.invoicesPerSecond.toFixed(0),
      ]);
    }
    out.push(
      `Duplicate detection (invoice level): ${withDup[0]?.duplicate?.overall.positives ?? 0} duplicates`,
      t.toString(),
    );
    const r = table(['duplicate kind', 'n', ...withDup.map((d) => `${d.name} recall`)]);
    for (const k of DUPLICATE_KINDS) {
      r.push([
        k,
        String(report.positives.duplicates[k]),
        ...withDup.map((d) => {
          const kr = d.duplicate?.byKind[k] as KindReport;
          return `${fmt(kr.at.recall)}${kr.matched !== undefined && !Number.isNaN(kr.matched) ? ` (${pct(kr.matched)} matched)` : ''}`;
        }),
      ]);
    }
    out.push('Duplicate recall by kind (matched = flagged against the right earlier invoice)', r.toString());
    const h = table(['hard negative kind', 'n', ...withDup.map((d) => `${d.name} FPR`)]);
    for (const k of [...HARD_NEGATIVE_KINDS, 'plain'] as const) {
      h.push([
        k === 'plain' ? '(plain invoices)' : k,
        String(withDup[0]?.duplicate?.hardNegatives[k].n ?? 0),
        ...withDup.map((d) => {
          const x = d.duplicate?.hardNegatives[k];
          return x ? `${fmt(x.fpr)} (${x.flagged})` : '-';
        }),
      ]);
    }
    out.push('False-positive rate on hard negatives (flagged count)', h.toString());
    for (const d of withDup) {
      const k = table([`${d.name}: duplicates`, ...METRIC_HEAD, 'matched']);
      const dup = d.duplicate as NonNullable<DetectorReport['duplicate']>;
      k.push(['all kinds', ...metricCells(dup.overall), pct(dup.overall.matched ?? Number.NaN)]);
      for (const kind of DUPLICATE_KINDS)
        k.push([kind, ...metricCells(dup.byKind[kind]), pct(dup.byKind[kind].matched ?? Number.NaN)]);
      out.push(k.toString());
    }
  }
  for (const d of withCoding) {
    const c = d.coding as NonNullable<DetectorReport['coding']>;
    const t = table([`${d.name}: coding (lines)`, ...METRIC_HEAD, 'kind P']);
    t.push(['all kinds', ...metricCells(c.overall), '-']);
    for (const k of CODING_KINDS) t.push([k, ...metricCells(c.byKind[k]), fmt(c.byKind[k].kindPrecision)]);
    out.push(
      `Coding exceptions (line level, threshold ${fmt(d.thresholds.coding, 2)}; ${c.notScored} lines not scored, counted as 0; ` +
        'per kind: that kind vs clean lines)',
      t.toString(),
    );
  }
  for (const d of report.detectors) {
    if (Object.keys(d.decisions).length > 0)
      out.push(
        `${d.name} decisions: ${Object.entries(d.decisions)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}; ${d.invoicesPerSecond.toFixed(1)} invoices/s (${d.seconds.toFixed(1)} s)`,
      );
    const byDecision = Object.entries(d.exceptionsByDecision ?? {});
    if (byDecision.length > 0)
      out.push(
        `${d.name} true exceptions by decision: ${byDecision
          .map(([k, e]) => `${k} ${e.exceptions}/${e.invoices} (${(100 * e.exceptionRate).toFixed(2)}%)`)
          .join(', ')}`,
      );
  }
  return out.join('\n');
}

/** Confusion examples as text. */
export function renderExamples(report: EvalReport, perCategory = 4): string {
  const out: string[] = [];
  const line = (e: Example) =>
    `  ${e.invoice_id}${e.line_number !== undefined ? `#${e.line_number}` : ''} score ${fmt(e.score)} ${e.kind}` +
    `${e.other ? ` vs ${e.other}` : ''}: ${e.detail.slice(0, 4).join('; ')}`;
  for (const d of report.detectors) {
    const cats: [string, Example[]][] = [
      ['missed duplicates', d.examples.duplicateFalseNegatives],
      ['false duplicate flags', d.examples.duplicateFalsePositives],
      ['missed coding exceptions', d.examples.codingFalseNegatives],
      ['false coding flags', d.examples.codingFalsePositives],
    ];
    for (const [title, xs] of cats) {
      if (xs.length === 0) continue;
      out.push(`${d.name} - ${title}:`);
      for (const e of xs.slice(0, perCategory)) out.push(line(e));
    }
  }
  return out.join('\n');
}

/** Renders a vega-lite spec to an SVG string in Node (no browser, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2'];

function colour(names: readonly string[]) {
  return {
    field: 'detector',
    type: 'nominal' as const,
    scale: { domain: [...names], range: PALETTE.slice(0, names.length) },
    legend: { labelLimit: 320 },
  };
}

/** The PR curve drawn from recall 0 (at the precision of its first point), as plots usually start. */
function withOrigin(curve: readonly PrPoint[]): PrPoint[] {
  const first = curve[0];
  return first ? [{ threshold: first.threshold, precision: first.precision, recall: 0 }, ...curve] : [];
}

/** A vega-lite spec of PR curves (one per detector) with the operating points as diamonds. */
export function prSpec(
  title: string,
  rows: object[],
  points: object[],
  names: readonly string[],
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 360,
    height: 260,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', interpolate: 'step-before', strokeWidth: 2 },
        encoding: {
          x: { field: 'recall', type: 'quantitative', scale: { domain: [0, 1] } },
          y: { field: 'precision', type: 'quantitative', scale: { domain: [0, 1] } },
          color: colour(names),
        },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 90, shape: 'diamond' },
        encoding: {
          x: { field: 'recall', type: 'quantitative' },
          y: { field: 'precision', type: 'quantitative' },
          color: colour(names),
        },
      },
    ],
  };
}

function reliabilitySpec(title: string, rows: object[], names: readonly string[]): TopLevelSpec {
  const x = {
    field: 'meanScore',
    type: 'quantitative' as const,
    title: 'mean predicted score (bins of 0.1)',
    scale: { domain: [0, 1] },
  };
  const y = {
    field: 'positiveRate',
    type: 'quantitative' as const,
    title: 'observed positive rate',
    scale: { domain: [0, 1] },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 300,
    height: 260,
    layer: [
      {
        data: {
          values: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
        },
        mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: rows },
        mark: { type: 'line', opacity: 0.6 },
        encoding: { x, y, color: colour(names) },
      },
      {
        data: { values: rows },
        mark: { type: 'circle', opacity: 0.85 },
        encoding: {
          x,
          y,
          color: colour(names),
          size: {
            field: 'count',
            type: 'quantitative',
            scale: { type: 'sqrt', range: [25, 500] },
            title: 'invoices / lines',
          },
          tooltip: [{ field: 'detector' }, { field: 'count' }, { field: 'positiveRate', format: '.3f' }],
        },
      },
    ],
  };
}

function barSpec(
  title: string,
  rows: { detector: string; kind: string; value: number | null | undefined }[],
  names: readonly string[],
  measure: string,
  kinds: readonly string[],
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: { step: Math.max(30, 14 * names.length) },
    height: 220,
    // Undefined values (no examples of a kind) leave a gap; every kind keeps its place on the axis.
    data: {
      values: rows.map((r) => ({
        ...r,
        value: r.value === undefined || Number.isNaN(r.value) ? null : r.value,
      })),
    },
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'kind',
        type: 'nominal',
        title: null,
        axis: { labelAngle: -35, labelLimit: 240 },
        scale: { domain: [...kinds] },
        sort: [...kinds],
      },
      xOffset: { field: 'detector' },
      y: { field: 'value', type: 'quantitative', title: measure, scale: { domain: [0, 1] } },
      color: colour(names),
      tooltip: [{ field: 'detector' }, { field: 'kind' }, { field: 'value', format: '.3f' }],
    },
  };
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function htmlTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return (
    `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows
      .map((r) => `<tr>${r.map((c, i) => `<td${i > 0 ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`)
      .join('') +
    '</tbody></table>'
  );
}

/** The plots of a report, as SVG strings keyed by name. */
export async function renderPlots(report: EvalReport): Promise<Record<string, string>> {
  const dup = report.detectors.filter((d) => d.duplicate);
  const cod = report.detectors.filter((d) => d.coding);
  const names = report.detectors.map((d) => d.name);
  const plots: Record<string, string> = {};
  if (dup.length > 0) {
    plots.duplicatePr = await renderSvg(
      prSpec(
        'Duplicates: precision-recall (diamond = operating threshold)',
        dup.flatMap((d) => withOrigin(d.duplicate?.prCurve ?? []).map((p) => ({ detector: d.name, ...p }))),
        dup.map((d) => ({
          detector: d.name,
          recall: d.duplicate?.overall.at.recall ?? 0,
          precision: d.duplicate?.overall.at.precision ?? 0,
        })),
        names,
      ),
    );
    plots.duplicateReliability = await renderSvg(
      reliabilitySpec(
        'Duplicates: reliability diagram',
        dup.flatMap((d) =>
          (d.duplicate?.reliability ?? [])
            .filter((b) => b.count > 0)
            .map((b) => ({ detector: d.name, ...b })),
        ),
        names,
      ),
    );
    plots.duplicateRecall = await renderSvg(
      barSpec(
        'Duplicate recall by kind',
        dup.flatMap((d) =>
          DUPLICATE_KINDS.map((k) => ({
            detector: d.name,
            kind: k,
            value: d.duplicate?.byKind[k].at.recall,
          })),
        ),
        names,
        'recall',
        DUPLICATE_KINDS,
      ),
    );
    plots.hardNegativeFpr = await renderSvg(
      barSpec(
        'False-positive rate on hard negatives (lower is better)',
        dup.flatMap((d) =>
          [...HARD_NEGATIVE_KINDS, 'plain' as const].map((k) => ({
            detector: d.name,
            kind: k === 'plain' ? '(plain invoices)' : k,
            value: d.duplicate?.hardNegatives[k].fpr,
          })),
        ),
        names,
        'false-positive rate',
        [...HARD_NEGATIVE_KINDS, '(plain invoices)'],
      ),
    );
  }
  if (cod.length > 0) {
    plots.codingPr = await renderSvg(
      prSpec(
        'Coding exceptions (lines): precision-recall',
        cod.flatMap((d) => withOrigin(d.coding?.prCurve ?? []).map((p) => ({ detector: d.name, ...p }))),
        cod.map((d) => ({
          detector: d.name,
          recall: d.coding?.overall.at.recall ?? 0,
          precision: d.coding?.overall.at.precision ?? 0,
        })),
        names,
      ),
    );
    plots.codingReliability = await renderSvg(
      reliabilitySpec(
        'Coding exceptions: reliability diagram',
        cod.flatMap((d) =>
          (d.coding?.reliability ?? []).filter((b) => b.count > 0).map((b) => ({ detector: d.name, ...b })),
        ),
        names,
      ),
    );
    plots.codingRecall = await renderSvg(
      barSpec(
        'Coding exception recall by kind',
        cod.flatMap((d) =>
          CODING_KINDS.map((k) => ({ detector: d.name, kind: k, value: d.coding?.byKind[k].at.recall })),
        ),
        names,
        'recall',
        CODING_KINDS,
      ),
    );
  }
  return plots;
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:13px}th,td{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f6f6f6}
.plots{display:flex;flex-wrap:wrap;gap:1.5rem}.plots>div{flex:0 0 auto}.kpi{display:flex;gap:1rem;flex-wrap:wrap}
.kpi div{background:#f4f7fb;border-radius:8px;padding:.6rem 1rem}.kpi b{display:block;font-size:1.3rem}
.muted{color:#666}code{background:#f3f3f3;padding:0 .2rem}`;

/** The self-contained HTML report (inline CSS and SVG; no scripts, no network). */
export async function renderHtml(report: EvalReport, title = 'invoice-triage evaluation'): Promise<string> {
  const plots = await renderPlots(report);
  const parts: string[] = [];
  parts.push(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head><body>`,
  );
  parts.push(`<h1>${esc(title)}</h1>`);
  parts.push(
    `<p class="muted">Dataset <code>${esc(report.dataset)}</code>, split <b>${report.split}</b>: ${report.invoices} invoices, ${report.lines} lines` +
      `${report.limit !== null ? ` (first ${report.limit} records only)` : ''}.</p>`,
  );
  parts.push('<div class="kpi">');
  for (const d of report.detectors) {
    const o = d.duplicate?.overall;
    const c = d.coding?.overall;
    parts.push(
      `<div>${esc(d.name)}<b>dup F1 ${fmt(o?.at.f1)}</b>` +
        `${c ? `coding F1 ${fmt(c.at.f1)} · ` : ''}${d.invoicesPerSecond.toFixed(0)} inv/s</div>`,
    );
  }
  parts.push('</div>');
  const plot = (name: string) => (plots[name] ? `<div>${plots[name]}</div>` : '');
  if (plots.duplicatePr) {
    parts.push('<h2>Duplicate invoices</h2><div class="plots">');
    parts.push(
      plot('duplicatePr'),
      plot('duplicateReliability'),
      plot('duplicateRecall'),
      plot('hardNegativeFpr'),
      '</div>',
    );
    const dup = report.detectors.filter((d) => d.duplicate);
    parts.push(
      htmlTable(
        ['detector', 'version', 'threshold', ...METRIC_HEAD.slice(1), 'matched', 'invoices/s'],
        dup.map((d) => {
          const o = d.duplicate?.overall as KindReport;
          return [
            d.name,
            d.version,
            fmt(d.thresholds.duplicate, 2),
            ...metricCells(o).slice(1),
            pct(o.matched ?? Number.NaN),
            d.invoicesPerSecond.toFixed(1),
          ];
        }),
      ),
    );
    for (const d of dup) {
      const x = d.duplicate as NonNullable<DetectorReport['duplicate']>;
      parts.push(`<h3>${esc(d.name)}: by duplicate kind</h3>`);
      parts.push(
        htmlTable(
          ['kind', ...METRIC_HEAD, 'matched'],
          [
            ['all kinds', ...metricCells(x.overall), pct(x.overall.matched ?? Number.NaN)],
            ...DUPLICATE_KINDS.map((k) => [
              k,
              ...metricCells(x.byKind[k]),
              pct(x.byKind[k].matched ?? Number.NaN),
            ]),
          ],
        ),
      );
    }
    parts.push('<h3>Hard negatives</h3>');
    parts.push(
      htmlTable(
        ['kind', 'n', ...dup.map((d) => `${d.name} FPR (flagged)`)],
        [...HARD_NEGATIVE_KINDS, 'plain' as const].map((k) => [
          k === 'plain' ? '(plain invoices)' : k,
          String(dup[0]?.duplicate?.hardNegatives[k].n ?? 0),
          ...dup.map(
            (d) =>
              `${fmt(d.duplicate?.hardNegatives[k].fpr)} (${d.duplicate?.hardNegatives[k].flagged ?? 0})`,
          ),
        ]),
      ),
    );
  }
  if (plots.codingPr) {
    parts.push('<h2>Coding exceptions (lines)</h2><div class="plots">');
    parts.push(plot('codingPr'), plot('codingReliability'), plot('codingRecall'), '</div>');
    for (const d of report.detectors.filter((x) => x.coding)) {
      const c = d.coding as NonNullable<DetectorReport['coding']>;
      parts.push(
        `<h3>${esc(d.name)}: by coding kind <span class="muted">(${c.notScored} lines not scored, counted as 0)</span></h3>`,
      );
      parts.push(
        htmlTable(
          ['kind', ...METRIC_HEAD, 'kind precision'],
          [
            ['all kinds', ...metricCells(c.overall), '-'],
            ...CODING_KINDS.map((k) => [k, ...metricCells(c.byKind[k]), fmt(c.byKind[k].kindPrecision)]),
          ],
        ),
      );
    }
  }
  parts.push('<h2>Confusion examples</h2>');
  for (const d of report.detectors) {
    const cats: [string, Example[]][] = [
      ['Missed duplicates', d.examples.duplicateFalseNegatives],
      ['False duplicate flags', d.examples.duplicateFalsePositives],
      ['Missed coding exceptions', d.examples.codingFalseNegatives],
      ['False coding flags', d.examples.codingFalsePositives],
    ];
    for (const [title, xs] of cats) {
      if (xs.length === 0) continue;
      parts.push(`<h3>${esc(d.name)}: ${title}</h3>`);
      parts.push(
        htmlTable(
          ['invoice', 'score', 'kind', 'other invoice / true code', 'what differs / evidence'],
          xs.map((e) => [
            `${e.invoice_id}${e.line_number !== undefined ? ` line ${e.line_number}` : ''}`,
            fmt(e.score),
            e.kind,
            e.other ?? '',
            e.detail.join('; '),
          ]),
        ),
      );
    }
  }
  parts.push('</body></html>');
  return parts.join('\n');
}

/** Writes `report.json` and `report.html` into `dir` (created). @returns the two paths. */
export async function writeReport(
  report: EvalReport,
  dir: string,
  title?: string,
): Promise<{ json: string; html: string }> {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const html = join(dir, 'report.html');
  writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(html, await renderHtml(report, title));
  return { json, html };
}
