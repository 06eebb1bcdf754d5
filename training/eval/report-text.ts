/**
 * Text rendering of an evaluation for the terminal (cli-table3): metric tables per detector and
 * kind, and example decisions per category.
 */
import { renderGuarantee } from './guarantee.js';
import Table from 'cli-table3';
import { CODING_KINDS, DUPLICATE_KINDS, HARD_NEGATIVE_KINDS } from '../../datasets/benchmark/types.js';
import type { DetectorReport, EvalReport, Example, KindReport } from './harness.js';

/** A metric to 3 decimals; `-` when undefined (NaN). */
export function fmt(x: number | undefined | null, digits = 3): string {
  return x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(digits);
}

/** A share (0-1) as a percentage with one decimal. */
export function pct(x: number): string {
  return Number.isNaN(x) ? '-' : `${(100 * x).toFixed(1)}%`;
}

/** A table with uncoloured header and borders (readable in logs). */
function table(head: string[]): Table.Table {
  return new Table({ style: { head: [], border: [] }, head });
}

/** Header of the metric columns of a kind's row. */
export const METRIC_HEAD = ['n pos', 'P', 'R', 'F1', 'ROC-AUC', 'PR-AUC', 'ECE'];

/** The metric cells of a kind's row, in {@link METRIC_HEAD} order. */
export function metricCells(r: KindReport): string[] {
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

/** Title of the per-combination duplicate table (console and HTML reports). */
export const COMBINATION_TITLE = 'Duplicate recall by combination of changes';

/**
 * Recall of the duplicates that carry two or more changes at once, one row per combination
 * (`combinationOf`, e.g. `date_shifted+rekeyed_number`) with its count and each detector's
 * recall (flagged); null when no evaluated duplicate combines changes.
 */
export function combinationTable(
  detectors: readonly DetectorReport[],
): { head: string[]; rows: string[][] } | null {
  const combos = [...new Set(detectors.flatMap((d) => Object.keys(d.duplicate?.byCombination ?? {})))].sort();
  if (combos.length === 0) return null;
  return {
    head: ['changes combined', 'n', ...detectors.map((d) => `${d.name} recall (flagged)`)],
    rows: combos.map((k) => [
      k,
      String(detectors.map((d) => d.duplicate?.byCombination[k]).find((x) => x)?.n ?? 0),
      ...detectors.map((d) => {
        const x = d.duplicate?.byCombination[k];
        return x ? `${fmt(x.recall)} (${x.flagged})` : '-';
      }),
    ]),
  };
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
    const combos = combinationTable(withDup);
    if (combos) {
      const c = table(combos.head);
      for (const row of combos.rows) c.push(row);
      out.push(`${COMBINATION_TITLE} (two or more changes at once)`, c.toString());
    }
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
    if (d.guarantee) out.push(...renderGuarantee(d.name, d.guarantee));
    for (const [split, g] of Object.entries(d.guaranteeBySplit ?? {}))
      out.push(...renderGuarantee(`${d.name} (${split} split)`, g));
  }
  return out.join('\n');
}

/** Confusion examples as text. */
export function renderExamples(report: EvalReport, perCategory = 4): string {
  const out: string[] = [];
  const line = (e: Example) =>
    `  ${e.invoice_id}${e.line_number !== undefined ? `#${e.line_number}` : ''} score ${fmt(e.score)} true ${e.true_kind}, predicted ${e.predicted_kind}` +
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
