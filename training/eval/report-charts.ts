/**
 * Plots of an evaluation as SVG rendered in Node with vega-lite + vega: PR curves, reliability
 * diagrams, per-kind recall and false-positive bars with 95% intervals and their example counts.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { CODING_KINDS, DUPLICATE_KINDS, HARD_NEGATIVE_KINDS } from '../../datasets/benchmark/types.js';
import { clopperPearson } from '../../monitoring/stats.js';
import type { EvalReport } from './harness.js';
import type { DetectorReport } from './report-types.js';
import type { BinaryReport, PrPoint, ReliabilityBin } from './metrics.js';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2'];

/**
 * Colour by detector: the legend lists `names` (the detectors with data in this chart), each in
 * the colour of its place among `all` (every detector of the report), the same in every chart.
 */
function colour(names: readonly string[], all: readonly string[] = names) {
  return {
    field: 'detector',
    type: 'nominal' as const,
    scale: {
      domain: [...names],
      range: names.map((n) => PALETTE[Math.max(0, all.indexOf(n)) % PALETTE.length]!),
    },
    legend: { labelLimit: 320 },
  };
}

/** The PR curve drawn from recall 0 (at the precision of its first point), as plots usually start. */
function withOrigin(curve: readonly PrPoint[]): PrPoint[] {
  const first = curve[0];
  return first ? [{ ...first, recall: 0 }, ...curve] : [];
}

/** 95% Clopper-Pearson interval of `k` of `n` as `{ lower, upper }` (nulls when n = 0). */
function interval(k: number, n: number): { lower: number | null; upper: number | null } {
  if (n <= 0) return { lower: null, upper: null };
  const ci = clopperPearson(k, n, 0.95);
  return { lower: ci.lower, upper: ci.upper };
}

/**
 * A chart with nothing to plot says so in words, at the chart's size, instead of empty axes
 * that look like data failed to load.
 */
function emptySpec(title: string, message: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 360,
    height: 120,
    data: { values: [{ message }] },
    mark: { type: 'text', fontSize: 13, color: '#555', lineBreak: '\n' },
    encoding: { text: { field: 'message', type: 'nominal' } },
  };
}

/**
 * A vega-lite spec of PR curves (one per detector) with the operating points as diamonds and a
 * shaded 95% Clopper-Pearson band of precision (`tp` of `tp + fp` at each threshold), so that
 * a curve on a handful of positives shows how little it rests on. No curve: {@link emptySpec}.
 */
export function prSpec(
  title: string,
  curves: readonly (PrPoint & { detector: string })[],
  points: object[],
  names: readonly string[],
  all: readonly string[] = names,
): TopLevelSpec {
  if (curves.length === 0)
    return emptySpec(title, 'No positives in this split (n = 0):\nno precision-recall curve to draw.');
  const rows = curves.map((p) => ({ ...p, ...interval(p.tp, p.tp + p.fp) }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: title, subtitle: 'band: 95% Clopper-Pearson interval of precision' },
    width: 360,
    height: 260,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'area', interpolate: 'step-before', opacity: 0.18 },
        encoding: {
          x: { field: 'recall', type: 'quantitative', scale: { domain: [0, 1] } },
          y: { field: 'lower', type: 'quantitative', scale: { domain: [0, 1] }, title: 'precision' },
          y2: { field: 'upper' },
          color: colour(names, all),
        },
      },
      {
        data: { values: rows },
        mark: { type: 'line', interpolate: 'step-before', strokeWidth: 2 },
        encoding: {
          x: { field: 'recall', type: 'quantitative', scale: { domain: [0, 1] } },
          y: { field: 'precision', type: 'quantitative', scale: { domain: [0, 1] } },
          color: colour(names, all),
        },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 90, shape: 'diamond' },
        encoding: {
          x: { field: 'recall', type: 'quantitative' },
          y: { field: 'precision', type: 'quantitative' },
          color: colour(names, all),
        },
      },
    ],
  };
}

/**
 * Reliability diagram: observed positive rate against mean score per bin of 0.1, dot area by
 * examples, whiskers the 95% Clopper-Pearson interval of the observed rate. No examples:
 * {@link emptySpec}.
 */
function reliabilitySpec(
  title: string,
  bins: readonly (ReliabilityBin & { detector: string })[],
  names: readonly string[],
  all: readonly string[] = names,
): TopLevelSpec {
  if (bins.length === 0)
    return emptySpec(title, 'No scored examples in this split:\nno reliability to draw.');
  const rows = bins.map((b) => ({ ...b, ...interval(Math.round(b.positiveRate * b.count), b.count) }));
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
    title: { text: title, subtitle: 'whiskers: 95% Clopper-Pearson interval of the observed rate' },
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
        encoding: { x, y, color: colour(names, all) },
      },
      {
        data: { values: rows },
        mark: { type: 'rule', opacity: 0.7 },
        encoding: {
          x,
          y: { field: 'lower', type: 'quantitative' },
          y2: { field: 'upper' },
          color: colour(names, all),
        },
      },
      {
        data: { values: rows },
        mark: { type: 'circle', opacity: 0.85 },
        encoding: {
          x,
          y,
          color: colour(names, all),
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

/** One bar: a rate of `k` out of `n` (recall: caught of the kind's positives; FPR: flagged of the negatives). */
interface BarRow {
  detector: string;
  kind: string;
  k: number;
  n: number;
}

/**
 * Bars of rates with their 95% Clopper-Pearson interval as an error bar and `n` printed above,
 * so that a rate on 3 examples does not read like one on 300. A kind without examples gets no
 * bar but the text `n=0` on the axis, so an empty place does not look like missing data.
 */
function barSpec(
  title: string,
  rows: readonly BarRow[],
  names: readonly string[],
  measure: string,
  kinds: readonly string[],
  all: readonly string[] = names,
): TopLevelSpec {
  if (rows.every((r) => r.n === 0))
    return emptySpec(
      title,
      `No examples of any kind in this split (n = 0 for ${kinds.length} kinds):\nno ${measure} to draw.`,
    );
  const values = rows.map((r) => {
    const ci = r.n > 0 ? clopperPearson(r.k, r.n, 0.95) : null;
    return {
      detector: r.detector,
      kind: r.kind,
      n: r.n,
      label: `n=${r.n}`,
      value: r.n > 0 ? r.k / r.n : null,
      lower: ci?.lower ?? null,
      upper: ci?.upper ?? null,
      labelAt: r.n > 0 ? Math.min(1, (ci?.upper ?? 0) + 0.02) : 0.02,
    };
  });
  const x = {
    field: 'kind',
    type: 'nominal' as const,
    title: null,
    axis: { labelAngle: -35, labelLimit: 240 },
    scale: { domain: [...kinds] },
    sort: [...kinds],
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: title, subtitle: 'bars: rate; whiskers: 95% Clopper-Pearson interval; n: examples' },
    width: { step: Math.max(30, 14 * names.length) },
    height: 220,
    data: { values },
    encoding: { x, xOffset: { field: 'detector' } },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'value', type: 'quantitative', title: measure, scale: { domain: [0, 1] } },
          color: colour(names, all),
          tooltip: [
            { field: 'detector' },
            { field: 'kind' },
            { field: 'value', format: '.3f' },
            { field: 'lower', format: '.3f' },
            { field: 'upper', format: '.3f' },
            { field: 'n' },
          ],
        },
      },
      {
        mark: { type: 'rule', color: '#333' },
        encoding: { y: { field: 'lower', type: 'quantitative' }, y2: { field: 'upper' } },
      },
      {
        // A rate of 0 has no bar: the tick shows it was measured (n > 0) and is 0.
        mark: { type: 'tick', color: '#333', thickness: 2 },
        encoding: { y: { field: 'value', type: 'quantitative' } },
      },
      {
        mark: { type: 'text', fontSize: 8, baseline: 'bottom', color: '#555' },
        encoding: { y: { field: 'labelAt', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
  };
}

/** Caught of a kind's positives at the operating threshold. */
const recallRow = (detector: string, kind: string, r: BinaryReport | undefined): BarRow => ({
  detector,
  kind,
  k: r?.at.tp ?? 0,
  n: r?.positives ?? 0,
});

/** What both tasks of a detector report for their plots: operating point, PR curve, reliability bins, recall by kind. */
type TaskPlotInput<K extends string> = Pick<
  NonNullable<DetectorReport['coding']>,
  'overall' | 'prCurve' | 'reliability'
> & { byKind: Record<K, BinaryReport> };

/** The precision-recall, reliability and recall-by-kind plots (SVG) of one task over the detectors reporting it. */
async function taskPlots<K extends string>(
  titles: { pr: string; reliability: string; recall: string },
  tasks: readonly { detector: string; task: TaskPlotInput<K> }[],
  kinds: readonly K[],
  names: readonly string[],
): Promise<{ pr: string; reliability: string; recall: string }> {
  const shown = tasks.map((t) => t.detector);
  const pr = await renderSvg(
    prSpec(
      titles.pr,
      tasks.flatMap(({ detector, task }) => withOrigin(task.prCurve).map((p) => ({ detector, ...p }))),
      tasks.map(({ detector, task }) => ({
        detector,
        recall: task.overall.at.recall,
        precision: task.overall.at.precision,
      })),
      shown,
      names,
    ),
  );
  const reliability = await renderSvg(
    reliabilitySpec(
      titles.reliability,
      tasks.flatMap(({ detector, task }) =>
        task.reliability.filter((b) => b.count > 0).map((b) => ({ detector, ...b })),
      ),
      shown,
      names,
    ),
  );
  const recall = await renderSvg(
    barSpec(
      titles.recall,
      tasks.flatMap(({ detector, task }) => kinds.map((k) => recallRow(detector, k, task.byKind[k]))),
      shown,
      'recall',
      kinds,
      names,
    ),
  );
  return { pr, reliability, recall };
}

/** The plots of a report as SVG strings keyed by name (a task's only when a detector reports it). */
export async function renderPlots(report: EvalReport): Promise<Record<string, string>> {
  const dup = report.detectors.filter((d) => d.duplicate);
  const cod = report.detectors.filter((d) => d.coding);
  const names = report.detectors.map((d) => d.name);
  const plots: Record<string, string> = {};
  if (dup.length > 0) {
    const p = await taskPlots(
      {
        pr: 'Duplicates: precision-recall (diamond = operating threshold)',
        reliability: 'Duplicates: reliability diagram',
        recall: 'Duplicate recall by kind',
      },
      dup.flatMap((d) => (d.duplicate ? [{ detector: d.name, task: d.duplicate }] : [])),
      DUPLICATE_KINDS,
      names,
    );
    plots.duplicatePr = p.pr;
    plots.duplicateReliability = p.reliability;
    plots.duplicateRecall = p.recall;
    plots.hardNegativeFpr = await renderSvg(
      barSpec(
        'False-positive rate on hard negatives (lower is better)',
        dup.flatMap((d) =>
          [...HARD_NEGATIVE_KINDS, 'plain' as const].map((k) => ({
            detector: d.name,
            kind: k === 'plain' ? '(plain invoices)' : k,
            k: d.duplicate?.hardNegatives[k].flagged ?? 0,
            n: d.duplicate?.hardNegatives[k].n ?? 0,
          })),
        ),
        dup.map((d) => d.name),
        'false-positive rate',
        [...HARD_NEGATIVE_KINDS, '(plain invoices)'],
        names,
      ),
    );
  }
  if (cod.length > 0) {
    const p = await taskPlots(
      {
        pr: 'Coding exceptions (lines): precision-recall',
        reliability: 'Coding exceptions: reliability diagram',
        recall: 'Coding exception recall by kind',
      },
      cod.flatMap((d) => (d.coding ? [{ detector: d.name, task: d.coding }] : [])),
      CODING_KINDS,
      names,
    );
    plots.codingPr = p.pr;
    plots.codingReliability = p.reliability;
    plots.codingRecall = p.recall;
  }
  return plots;
}
