/**
 * The evaluation report's plots on a small split: every chart draws something (a curve, bars,
 * or words saying why there is nothing to draw, never empty axes), and the precision-recall
 * and reliability charts carry their 95% intervals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBenchmark } from '../../datasets/benchmark/generator.js';
import { readSplitRecords } from '../../datasets/benchmark/read.js';
import { loadReferenceData } from '../../datasets/reference.js';
import { detectorFromScorer, type Detector } from './detector.js';
import { evaluate, type EvalReport } from './harness.js';
import { renderPlots } from './report-charts.js';
import { renderHtml } from './report.js';

let dir: string;
let report: EvalReport;

/** Data marks of a vega SVG (`role-mark` groups) that hold at least one drawn element. */
function drawnMarks(svg: string): string[] {
  return [...svg.matchAll(/<g class="mark-(\w+) role-mark[^"]*"[^>]*>(<(?:path|line|text|rect)\b[^>]*>)?/g)]
    .filter((m) => m[2] !== undefined && !/ d=""/.test(m[2]))
    .map((m) => m[1]!);
}

/** The path of the first area mark (the PR band), or '' when none is drawn. */
const bandPath = (svg: string): string =>
  /<g class="mark-area role-mark[^"]*"[^>]*><path[^>]* d="([^"]*)"/.exec(svg)?.[1] ?? '';

/** Drawn whiskers of the reliability diagram: lines of its rule mark. */
const whiskers = (svg: string): number =>
  (/<g class="mark-rule role-mark[^"]*"[^>]*>((?:<line[^>]*\/>)*)/.exec(svg)?.[1] ?? '').split('<line')
    .length - 1;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'eval-charts-'));
  await generateBenchmark({ invoices: 100, seed: 11, out: dir, reference: loadReferenceData() });
  const labels = new Map((await readSplitRecords(dir, 'test')).map((r) => [r.invoice.invoice_id, r.label]));
  // Right on most, wrong on every fifth invoice: curves that are neither perfect nor empty.
  let k = 0;
  const noisy: Detector = detectorFromScorer({
    name: 'noisy',
    version: '1',
    tasks: { duplicate: true, coding: true },
    thresholds: { duplicate: 0.5, coding: 0.5 },
    score(inv) {
      const label = labels.get(inv.invoice_id)!;
      const flip = ++k % 5 === 0;
      const coded = new Set(label.coding.map((c) => c.line_number));
      return {
        invoiceId: inv.invoice_id,
        duplicateScore: (label.duplicate !== null) !== flip ? 0.9 : 0.1,
        duplicateOf: label.duplicate?.of ?? null,
        lines: inv.lines.map((l, i) => ({
          lineNumber: l.line_number,
          score: coded.has(l.line_number) !== (flip && i === 0) ? 0.8 : 0.05 + 0.01 * i,
        })),
      };
    },
  });
  report = await evaluate(dir, [noisy], { split: 'test' });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('evaluation plots on a small split', () => {
  it('is a small split: a few duplicates and coding exceptions', () => {
    const dupes = Object.values(report.positives.duplicates).reduce((a, b) => a + b, 0);
    const coding = Object.values(report.positives.coding).reduce((a, b) => a + b, 0);
    expect(report.invoices).toBeLessThan(30);
    expect(dupes + coding).toBeGreaterThan(0);
    expect(dupes + coding).toBeLessThan(40);
  });

  it('every chart draws something, and PR / reliability charts carry their 95% intervals', async () => {
    const plots = await renderPlots(report);
    expect(Object.keys(plots).sort()).toEqual(
      [
        'codingPr',
        'codingRecall',
        'codingReliability',
        'duplicatePr',
        'duplicateRecall',
        'duplicateReliability',
        'hardNegativeFpr',
      ].sort(),
    );
    for (const [name, svg] of Object.entries(plots)) expect(drawnMarks(svg), name).not.toEqual([]);
    const d = report.detectors[0]!;
    for (const [name, curve] of [
      ['duplicatePr', d.duplicate!.prCurve],
      ['codingPr', d.coding!.prCurve],
    ] as const)
      if (curve.length > 0) expect(bandPath(plots[name]!), `${name} band`).toMatch(/^M[\d.]+,[\d.]+/);
      else expect(plots[name], name).toContain('No positives in this split');
    for (const name of ['duplicateReliability', 'codingReliability'] as const)
      expect(whiskers(plots[name]!), `${name} whiskers`).toBeGreaterThan(0);
  });

  it('a task without positives says so instead of drawing empty axes', async () => {
    const empty = structuredClone(report);
    const d = empty.detectors[0]!;
    d.duplicate!.prCurve = [];
    d.duplicate!.reliability = [];
    const plots = await renderPlots(empty);
    expect(plots.duplicatePr).toContain('No positives in this split (n = 0)');
    expect(plots.duplicateReliability).toContain('No scored examples in this split');
    for (const [name, svg] of Object.entries(plots)) expect(drawnMarks(svg), name).not.toEqual([]);
  });

  it('confusion tables put the true kind beside the predicted kind', async () => {
    const html = await renderHtml(report);
    expect(html).toContain('<th>true kind</th><th>predicted kind</th>');
    expect(html).toContain('lines by true kind (rows) and predicted kind (columns)');
    const d = report.detectors[0]!;
    // The noisy detector errs on both tasks, so the checks below run on real examples.
    expect(d.examples.duplicateFalsePositives.length).toBeGreaterThan(0);
    expect(d.examples.codingFalsePositives.length).toBeGreaterThan(0);
    for (const e of [...d.examples.duplicateFalsePositives, ...d.examples.codingFalsePositives])
      expect([e.true_kind, e.predicted_kind]).not.toContain(undefined);
    expect(d.examples.codingFalsePositives.every((e) => e.true_kind === 'clean')).toBe(true);
    expect(d.examples.duplicateFalseNegatives.every((e) => e.predicted_kind === 'not flagged')).toBe(true);
    const rows = Object.values(d.coding!.confusion).reduce(
      (n, r) => n + Object.values(r).reduce((a, b) => a + b, 0),
      0,
    );
    expect(rows).toBe(report.lines);
  });
});
