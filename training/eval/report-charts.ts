/**
 * Plots of an evaluation as SVG rendered in Node with vega-lite + vega: PR curves, reliability
 * diagrams, per-kind recall and false-positive bars.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { CODING_KINDS, DUPLICATE_KINDS, HARD_NEGATIVE_KINDS } from '../../datasets/benchmark/types.js';
import type { EvalReport } from './harness.js';
import type { PrPoint } from './metrics.js';

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
