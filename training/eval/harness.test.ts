import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBenchmark } from '../../datasets/benchmark/generator.js';
import { combinationOf } from '../../datasets/benchmark/combine.js';
import { readSplitRecords } from '../../datasets/benchmark/read.js';
import type { BenchmarkRecord } from '../../datasets/benchmark/types.js';
import { loadReferenceData } from '../../datasets/reference.js';
import { wire } from '../../bin/bootstrap.js';
import { DEFAULT_POLICY } from '../../inference/policy.js';
import { createOracleDetector, createSapDetector } from './baselines.js';
import { detectorFromScorer, type Detector } from './detector.js';
import { evaluate } from './harness.js';
import { renderExamples, renderHtml, renderTables, writeReport } from './report.js';
import { createServiceDetector } from './service-detector.js';

let dir: string;
let out: string;
let test: BenchmarkRecord[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'eval-bm-'));
  out = mkdtempSync(join(tmpdir(), 'eval-out-'));
  // More unknown and terminated codes than by default, so that a short run of the current path sees some.
  await generateBenchmark({
    invoices: 2000,
    seed: 5,
    out: dir,
    reference: loadReferenceData(),
    rates: { unknown_code: 0.04, terminated_code: 0.04 },
  });
  test = await readSplitRecords(dir, 'test');
});

afterAll(() => {
  for (const d of [dir, out]) rmSync(d, { recursive: true, force: true });
});

/** A detector that reads the labels: what a perfect model would answer. */
function perfect(): Detector {
  const byId = new Map(test.map((r) => [r.invoice.invoice_id, r.label]));
  return detectorFromScorer({
    name: 'perfect',
    version: 'labels',
    tasks: { duplicate: true, coding: true },
    thresholds: { duplicate: 0.5, coding: 0.5 },
    score(inv) {
      const label = byId.get(inv.invoice_id);
      if (!label) throw new Error(inv.invoice_id);
      const coded = new Map(label.coding.map((c) => [c.line_number, c.kind]));
      return {
        invoiceId: inv.invoice_id,
        duplicateScore: label.duplicate ? 1 : 0,
        duplicateOf: label.duplicate?.of ?? null,
        lines: inv.lines.map((l) => {
          const kind = coded.get(l.line_number);
          return { lineNumber: l.line_number, score: kind ? 1 : 0, ...(kind ? { kinds: [kind] } : {}) };
        }),
      };
    },
  });
}

/** A detector that knows nothing: every score 0.5. */
function coinFlip(): Detector {
  return detectorFromScorer({
    name: 'constant',
    version: '0.5',
    tasks: { duplicate: true, coding: true },
    thresholds: { duplicate: 0.5, coding: 0.5 },
    score: (inv) => ({
      invoiceId: inv.invoice_id,
      duplicateScore: 0.5,
      duplicateOf: null,
      lines: inv.lines.map((l) => ({ lineNumber: l.line_number, score: 0.5 })),
    }),
  });
}

describe('evaluation harness on a small generated set', () => {
  it('gives a perfect detector perfect scores and a constant one chance-level AUC', async () => {
    const report = await evaluate(dir, [perfect(), coinFlip()], { split: 'test' });
    expect(report.invoices).toBe(test.length);
    const [p, c] = report.detectors;
    const dup = p?.duplicate;
    const positives = test.filter((r) => r.label.duplicate).length;
    expect(dup?.overall.positives).toBe(positives);
    expect(positives).toBeGreaterThan(5);
    expect([
      dup?.overall.at.precision,
      dup?.overall.at.recall,
      dup?.overall.rocAuc,
      dup?.overall.prAuc,
    ]).toEqual([1, 1, 1, 1]);
    expect(dup?.overall.ece).toBe(0);
    expect(dup?.overall.matched).toBe(1);
    for (const k of Object.values(dup?.hardNegatives ?? {})) expect(k.flagged).toBe(0);
    expect(p?.coding?.overall.at.f1).toBe(1);
    for (const k of Object.values(p?.coding?.byKind ?? {}))
      if (k.positives > 0) expect(k.kindPrecision).toBe(1);
    expect(p?.examples.duplicateFalseNegatives).toEqual([]);
    expect(c?.duplicate?.overall.rocAuc).toBe(0.5);
    expect(c?.coding?.overall.rocAuc).toBe(0.5);
    expect(c?.duplicate?.overall.at.recall).toBe(1);
    expect(c?.duplicate?.overall.ece).toBeCloseTo(0.5 - positives / test.length, 10);
  });

  it('measures the SAP and Oracle rules by kind: exact copies caught, re-keyed numbers missed', async () => {
    const report = await evaluate(dir, [createSapDetector(), createOracleDetector()], { split: 'test' });
    const [sap, oracle] = report.detectors;
    expect(sap?.coding).toBeNull();
    // Exact copies are caught unless a combined change touched a field the rule compares.
    const exact = test.filter((r) => r.label.duplicate?.kind === 'exact_resubmission');
    const untouched = exact.filter((r) =>
      (r.label.duplicate?.combined ?? []).every(
        (c) => c === 'vendor_variant' && !r.label.duplicate!.changes.some((x) => x.startsWith('vendor.id')),
      ),
    );
    expect(exact.length).toBeGreaterThan(0);
    expect(sap?.duplicate?.byKind.exact_resubmission.at.recall).toBeCloseTo(
      untouched.length / exact.length,
      10,
    );
    expect(sap?.duplicate?.byKind.rekeyed_number.at.recall).toBe(0);
    expect(sap?.duplicate?.byKind.date_shifted.at.recall).toBe(0);
    expect(sap?.duplicate?.overall.at.precision).toBe(1);
    expect(sap?.duplicate?.hardNegatives.credit_memo_reversal.flagged).toBe(0);
    // Oracle: same supplier + number catches date shifts and partial resubmissions...
    expect(oracle?.duplicate?.byKind.date_shifted.at.recall).toBe(1);
    expect(oracle?.duplicate?.byKind.rekeyed_number.at.recall).toBe(0);
    // ...and flags every number reused years later.
    const reused = oracle?.duplicate?.hardNegatives.number_reused_years_later;
    if (reused && reused.n > 0) expect(reused.fpr).toBe(1);
    const tables = renderTables(report);
    expect(tables).toContain('exact_resubmission');
    expect(tables).toContain('sap-exact');
    expect(renderExamples(report)).toContain('missed duplicates');
  });

  it('drives the current scoring service in submission order and writes JSON and HTML reports', async () => {
    const { scoring, repo } = await wire({ engine: 'pglite' }, { models: null });
    const current = createServiceDetector(scoring, {
      duplicateThreshold: DEFAULT_POLICY.duplicateReview,
      codingThreshold: DEFAULT_POLICY.codingReview,
      close: () => repo.close(),
    });
    const report = await evaluate(dir, [current, createSapDetector()], { split: 'test', limit: 25 });
    expect(report.limit).toBe(25);
    expect(report.invoices).toBe(25);
    const cur = report.detectors[0];
    expect(cur?.version).toContain('heuristic-duplicate@1');
    expect(Object.values(cur?.decisions ?? {}).reduce((a, b) => a + b, 0)).toBe(25);
    const first = test.slice(0, 25);
    expect(cur?.coding?.overall.positives).toBe(first.reduce((n, r) => n + r.label.coding.length, 0));
    expect(cur?.duplicate?.overall.positives).toBe(first.filter((r) => r.label.duplicate).length);
    // The heuristic flags every unknown and terminated code (fixed risks 0.95 and 0.9).
    const byKind = cur?.coding?.byKind;
    expect((byKind?.unknown_code.positives ?? 0) + (byKind?.terminated_code.positives ?? 0)).toBeGreaterThan(
      0,
    );
    for (const k of ['unknown_code', 'terminated_code'] as const)
      if ((byKind?.[k].positives ?? 0) > 0) expect(byKind?.[k].at.recall).toBe(1);
    expect(cur?.invoicesPerSecond).toBeGreaterThan(0);
    // The routing promise is tested on the decisions: the counts add up to the split.
    const g = cur?.guarantee;
    expect(g?.reviewLoad.invoices).toBe(25);
    expect(g?.autoApprove.invoices).toBe(cur?.decisions.AUTO_APPROVE ?? 0);
    expect(g?.hold.invoices).toBe(cur?.decisions.HOLD ?? 0);
    expect(g?.autoApprove.errors).toBe(cur?.exceptionsByDecision.AUTO_APPROVE?.exceptions ?? 0);
    expect(report.detectors[1]?.guarantee).toBeNull();
    const html = await renderHtml(report);
    expect(html).toContain('Routing promise and review load');
    expect(html).toContain('<svg');
    expect(html.match(/<svg/g)?.length).toBeGreaterThanOrEqual(7);
    expect(html).not.toContain('<script');
    const paths = await writeReport(report, out);
    const json = JSON.parse(readFileSync(paths.json, 'utf8')) as { detectors: { name: string }[] };
    expect(json.detectors.map((d) => d.name)).toEqual(['current', 'sap-exact']);
  });

  it('with --split all, tests the promise on each split as well as pooled', async () => {
    const all = [
      ...(await readSplitRecords(dir, 'train')),
      ...(await readSplitRecords(dir, 'valid')),
      ...test,
    ];
    const labels = new Map(all.map((r) => [r.invoice.invoice_id, r.label]));
    // Routes by the labels, except that on the valid split every invoice is auto-approved.
    const router = detectorFromScorer({
      name: 'router',
      version: 'labels',
      tasks: { duplicate: true, coding: false },
      thresholds: { duplicate: 0.5, coding: 0.5 },
      score(inv) {
        const label = labels.get(inv.invoice_id)!;
        const exception = label.duplicate !== null || label.coding.length > 0;
        return {
          invoiceId: inv.invoice_id,
          duplicateScore: label.duplicate ? 1 : 0,
          duplicateOf: label.duplicate?.of ?? null,
          lines: [],
          decision: exception && label.split !== 'valid' ? 'HOLD' : 'AUTO_APPROVE',
        };
      },
    });
    const report = await evaluate(dir, [router], { split: 'all' });
    const d = report.detectors[0]!;
    const count = (split: string, exception: boolean): number =>
      all.filter(
        (r) =>
          r.label.split === split && (r.label.duplicate !== null || r.label.coding.length > 0) === exception,
      ).length;
    const valid = d.guaranteeBySplit?.valid;
    expect(valid?.autoApprove).toMatchObject({
      invoices: count('valid', true) + count('valid', false),
      pass: false,
    });
    expect(valid?.autoApprove.errors).toBe(count('valid', true));
    for (const split of ['train', 'test'] as const)
      expect(d.guaranteeBySplit?.[split]?.autoApprove).toMatchObject({ errors: 0, pass: true });
    expect(d.guarantee!.autoApprove.invoices).toBe(
      Object.values(d.guaranteeBySplit!).reduce((n, g) => n + g.autoApprove.invoices, 0),
    );
    expect(renderTables(report)).toContain(
      'router (valid split) decision guarantee: exceptions among AUTO_APPROVE',
    );
    expect(await renderHtml(report)).toContain('router (valid split)');
    // One split evaluated: its pooled check is the split's own.
    const one = await evaluate(dir, [router], { split: 'test' });
    expect(one.detectors[0]!.guaranteeBySplit).toBeUndefined();
  }, 300_000);

  it('reports duplicates with combined changes per combination, in the console and HTML reports', async () => {
    const expected = new Map<string, number>();
    for (const r of test) {
      const combo = r.label.duplicate && combinationOf(r.label.duplicate.kind, r.label.duplicate.combined);
      if (combo) expected.set(combo, (expected.get(combo) ?? 0) + 1);
    }
    expect(expected.size).toBeGreaterThan(0);
    const report = await evaluate(dir, [perfect()], { split: 'test' });
    const byCombination = report.detectors[0]!.duplicate!.byCombination;
    expect(Object.fromEntries(Object.entries(byCombination).map(([k, v]) => [k, v.n]))).toEqual(
      Object.fromEntries(expected),
    );
    for (const v of Object.values(byCombination)) expect(v).toMatchObject({ flagged: v.n, recall: 1 });
    const text = renderTables(report);
    const html = await renderHtml(report);
    expect(text).toContain('Duplicate recall by combination of changes');
    expect(html).toContain('<h3>Duplicate recall by combination of changes</h3>');
    for (const [combo, n] of expected) {
      expect(text).toMatch(
        new RegExp(`${combo.replaceAll('+', '\\+')}\\s*│\\s*${n}\\s*│\\s*1\\.000 \\(${n}\\)`),
      );
      expect(html).toContain(`<td>${combo}</td><td class="n">${n}</td><td class="n">1.000 (${n})</td>`);
    }
  }, 300_000);

  it('rejects a detector that answers out of order', async () => {
    const broken = detectorFromScorer({
      name: 'broken',
      version: '0',
      tasks: { duplicate: true, coding: false },
      thresholds: { duplicate: 0.5, coding: 0.5 },
      score: () => ({ invoiceId: 'nope', duplicateScore: 0, duplicateOf: null, lines: [] }),
    });
    await expect(evaluate(dir, [broken], { split: 'valid' })).rejects.toThrow(/answered nope/);
  });
});
