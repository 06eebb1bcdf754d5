/**
 * Writes an evaluation: a JSON report and a
 * self-contained HTML report with the tables (`report-text.ts`) and plots (`report-charts.ts`:
 * PR curves, reliability diagrams, per-kind recall and false-positive bars, as SVG).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CODING_KINDS, DUPLICATE_KINDS, HARD_NEGATIVE_KINDS } from '../../datasets/benchmark/types.js';
import type { DetectorReport, EvalReport, Example, KindReport } from './harness.js';
import { renderPlots } from './report-charts.js';
import { COMBINATION_TITLE, METRIC_HEAD, combinationTable, fmt, metricCells, pct } from './report-text.js';

export { fmt, renderExamples, renderTables } from './report-text.js';
export { prSpec, renderPlots, renderSvg } from './report-charts.js';

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

/**
 * The coding confusion matrix: one row per true kind with lines (`clean` first), one column per
 * predicted kind that occurs (`not flagged`, `flagged`, then the coding kinds), line counts (a
 * line naming two kinds counts in both, so a row's sum can exceed its lines).
 */
export function confusionTable(confusion: Record<string, Record<string, number>>): string {
  const rows = ['clean', ...CODING_KINDS].filter((k) => confusion[k] !== undefined);
  const said = new Set(Object.values(confusion).flatMap((r) => Object.keys(r)));
  const cols = ['not flagged', 'flagged', ...CODING_KINDS].filter((k) => said.has(k));
  return htmlTable(
    ['true kind \\ predicted', ...cols, 'sum'],
    rows.map((t) => {
      const r = confusion[t] ?? {};
      const lines = Object.values(r).reduce((a, b) => a + b, 0);
      return [t, ...cols.map((c) => String(r[c] ?? 0)), String(lines)];
    }),
  );
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
      `<div>${esc(d.name)}<b>dup F1 ${o?.positives === 0 ? 'n/a (no duplicates in split)' : fmt(o?.at.f1)}</b>` +
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
    const combos = combinationTable(dup);
    if (combos)
      parts.push(
        `<h3>${COMBINATION_TITLE}</h3><p class="muted">Duplicates that carry two or more changes at once.</p>`,
        htmlTable(combos.head, combos.rows),
      );
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
      parts.push(
        `<h3>${esc(d.name)}: lines by true kind (rows) and predicted kind (columns)</h3>`,
        confusionTable(c.confusion),
      );
    }
  }
  const guaranteed = report.detectors.filter((d) => d.guarantee);
  if (guaranteed.length > 0) {
    parts.push(
      '<h2>Routing promise and review load</h2><p class="muted">Observed error rate of the decision as a whole, ' +
        'with its one-sided upper confidence bound on vendor clusters and as independent invoices; PASS when the observed rate is within the promise.</p>',
    );
    const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
    parts.push(
      htmlTable(
        [
          'detector',
          'side',
          'errors / invoices',
          'rate',
          'promised',
          'upper (vendors)',
          'upper (independent)',
          'deff',
          'result',
        ],
        guaranteed.flatMap((d) =>
          [
            [d.name, d.guarantee!] as const,
            ...Object.entries(d.guaranteeBySplit ?? {}).map(
              ([split, g]) => [`${d.name} (${split} split)`, g] as const,
            ),
          ].flatMap(([name, g]) =>
            (
              [
                ['exceptions among AUTO_APPROVE', g.autoApprove],
                ['clean among HOLD', g.hold],
              ] as const
            ).map(([side, c]) => [
              name,
              side,
              `${c.errors} / ${c.invoices}`,
              pct(c.rate),
              `<= ${pct(c.promised)}`,
              pct(c.upper),
              pct(c.upperIndependent),
              c.deff.toFixed(2),
              c.pass ? 'PASS' : 'FAIL',
            ]),
          ),
        ),
      ),
    );
    parts.push(
      htmlTable(
        ['detector', 'clean invoices', 'clean sent to people', 'per 1,000 clean', 'per 1,000 invoices'],
        guaranteed.map((d) => {
          const l = d.guarantee!.reviewLoad;
          return [
            d.name,
            String(l.clean),
            String(l.cleanToPeople),
            l.perThousandClean.toFixed(1),
            l.perThousandInvoices.toFixed(1),
          ];
        }),
      ),
    );
    const list = (counts: Record<string, number>): string =>
      Object.entries(counts)
        .slice(0, 12)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    parts.push(
      htmlTable(
        ['detector', 'clean sent to people by reason', 'by code of that line', 'by vendor'],
        guaranteed.map((d) => {
          const c = d.guarantee!.reviewLoad.causes;
          return [d.name, list(c.byReason), list(c.byCode), list(c.byVendor)];
        }),
      ),
    );
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
          [
            'invoice',
            'score',
            'true kind',
            'predicted kind',
            'other invoice / true code',
            'what differs / evidence',
          ],
          xs.map((e) => [
            `${e.invoice_id}${e.line_number !== undefined ? ` line ${e.line_number}` : ''}`,
            fmt(e.score),
            e.true_kind,
            e.predicted_kind,
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
