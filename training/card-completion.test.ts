import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shippedModelsDir } from '../bin/models-dir.js';
import type { ModelCard } from '../models/card.js';
import type { TrainedModelSpec } from '../models/spec.js';
import type { AssembledData } from './assemble.js';
import {
  COMPLETION_NOTE_PREFIX,
  completeCard,
  UNSEEN_NOTE_PREFIX,
  unseenEvaluationNote,
  withUnseenNotes,
} from './card-completion.js';
import type { DetectorReport } from './eval/report-types.js';
import type { RowMeta } from './data.js';

const shipped = (): ModelCard =>
  JSON.parse(readFileSync(join(shippedModelsDir(), 'duplicate', '1', 'card.json'), 'utf8')) as ModelCard;

/** score = sigmoid(x): one feature, identity standardisation, no calibration. */
const spec: TrainedModelSpec = {
  task: 'duplicate',
  architecture: 'logistic',
  featureNames: ['x'],
  featureSchemaVersion: 'fs-test',
  standardise: { mean: [0], std: [1] },
  layers: [{ weights: [[1]], bias: [0], activation: 'linear' }],
  calibration: { kind: 'none' },
  seed: 1,
};
const logit = (p: number): number => Math.log(p / (1 - p));

function assembled(
  rows: { p: number; y: 0 | 1; split: RowMeta['split']; source?: RowMeta['source'] }[],
): AssembledData {
  const mix = {
    sources: ['reviewer', 'audit_sample', 'erp'],
    perSource: {
      reviewer: { labels: 1, rows: 1, positives: 1, weight: 3 },
      audit_sample: { labels: 0, rows: 0, positives: 0, weight: 3 },
      erp: { labels: 0, rows: 0, positives: 0, weight: 3 },
    },
  };
  return {
    task: 'duplicate',
    featureSchemaVersion: 'fs-test',
    data: {
      featureNames: ['x'],
      X: rows.map((r) => [logit(r.p)]),
      y: Float64Array.from(rows, (r) => r.y),
      w: Float64Array.from(rows, () => 1),
      meta: rows.map((r, i) => ({
        key: `b${i}>a${i}`,
        invoiceId: `b${i}`,
        kind: null,
        source: r.source ?? 'benchmark',
        split: r.split,
        labelId: `bench:b${i}>a${i}`,
      })),
    },
    invoices: [],
    labels: {
      hash: 'h',
      benchmark: { files: [], rows: rows.filter((r) => (r.source ?? 'benchmark') === 'benchmark').length },
      reviews: { ids: [], superseded: [], skipped: [], weight: 3 },
      mix,
    },
    rowsFrom: 'test rows',
    blocking: null,
  };
}

describe('completeCard', () => {
  const data = assembled([
    { p: 0.05, y: 0, split: 'test' },
    { p: 0.05, y: 1, split: 'test' },
    { p: 0.95, y: 1, split: 'test' },
    { p: 0.55, y: 1, split: 'train' },
    { p: 0.55, y: 1, split: 'valid' },
    { p: 0.35, y: 1, split: 'test', source: 'review' },
  ]);

  it('bins the benchmark test rows only, copies the label mix and adds one note, leaving the rest as it was', () => {
    const card = shipped();
    const before = JSON.stringify(card);
    const out = completeCard(card, data, spec, 'bench X');
    expect(JSON.stringify(card)).toBe(before);
    const bins = out.training!.calibration.reliabilityTest!;
    expect(bins).toHaveLength(10);
    expect(bins[0]).toMatchObject({ lo: 0, hi: 0.1, count: 2, positiveRate: 0.5 });
    expect(bins[0]!.meanScore).toBeCloseTo(0.05, 12);
    expect(bins[9]).toMatchObject({ count: 1, positiveRate: 1 });
    expect(bins[9]!.meanScore).toBeCloseTo(0.95, 12);
    expect(
      bins.slice(1, 9).every((b) => b.count === 0 && b.meanScore === null && b.positiveRate === null),
    ).toBe(true);
    expect(out.training!.labels.mix).toEqual(data.labels.mix);
    const notes = out.training!.notes.filter((n) => n.startsWith(COMPLETION_NOTE_PREFIX));
    expect(notes).toEqual([expect.stringContaining('the 3 test pairs (2 positive) of bench X')]);
    const { calibration, labels, notes: _n, ...rest } = out.training!;
    const { calibration: c0, labels: l0, notes: _n0, ...rest0 } = card.training!;
    expect(rest).toEqual(rest0);
    expect({ ...calibration, reliabilityTest: undefined }).toEqual({ ...c0, reliabilityTest: undefined });
    expect({ ...labels, mix: undefined }).toEqual({ ...l0, mix: undefined });
    expect({ ...out, training: null }).toEqual({ ...card, training: null });
  });

  it('is idempotent: completing a completed card gives the same card', () => {
    const once = completeCard(shipped(), data, spec, 'bench X');
    expect(completeCard(once, data, spec, 'bench X')).toEqual(once);
  });

  it('refuses a card of another task, a card without training draft, and data without test rows', () => {
    expect(() => completeCard(shipped(), { ...data, task: 'coding-mismatch' }, spec, 'x')).toThrow(
      RangeError,
    );
    expect(() => completeCard({ ...shipped(), training: null }, data, spec, 'x')).toThrow(
      /no training draft/,
    );
    expect(() => completeCard(shipped(), assembled([{ p: 0.5, y: 1, split: 'train' }]), spec, 'x')).toThrow(
      /no test rows/,
    );
  });
});

describe('unseen-data notes', () => {
  const at = (tp: number, fp: number, fn: number) => ({
    threshold: 0.02,
    tp,
    fp,
    tn: 0,
    fn,
    precision: tp + fp ? tp / (tp + fp) : null,
    recall: tp + fn ? tp / (tp + fn) : null,
    f1: null,
  });
  const report = {
    name: 'current',
    version: 'duplicate@1 + coding-mismatch@1 (policy-default@1)',
    duplicate: {
      overall: { positives: 10, at: at(9, 3, 1) },
      byKind: {
        exact_resubmission: { positives: 6, at: at(6, 0, 0) },
        date_shifted: { positives: 0, at: at(0, 0, 0) },
      },
      byCombination: {
        'rekeyed_number+retotalled': { n: 2, flagged: 1, recall: 0.5 },
        'date_shifted+retotalled': { n: 1, flagged: 1, recall: 1 },
      },
      hardNegatives: { recurring_monthly: { n: 12, flagged: 1, fpr: 1 / 12, flaggedAgainstRelated: 0 } },
    },
    guarantee: {
      delta: 0.05,
      autoApprove: {
        promised: 0.005,
        invoices: 800,
        errors: 2,
        rate: 0.0025,
        upperIndependent: 0.008,
        upper: 0.0123,
        deff: 1.4,
        vendors: 40,
        pass: true,
      },
      reviewLoad: {
        invoices: 1000,
        clean: 900,
        cleanToPeople: 90,
        perThousandInvoices: 90,
        perThousandClean: 100,
      },
    },
  } as unknown as DetectorReport;

  it('states precision and recall, the recall of each kind with positives, each combination, hard negatives, the promise and the review load', () => {
    expect(unseenEvaluationNote('seed 101, test split (1000 invoices)', report)).toBe(
      `${UNSEEN_NOTE_PREFIX} seed 101, test split (1000 invoices), served as duplicate@1 + coding-mismatch@1 (policy-default@1): ` +
        'duplicates at review precision 0.750, recall 0.900 (9/10); per kind caught exact_resubmission 6/6; ' +
        'with two or more changes caught date_shifted+retotalled 1/1, rekeyed_number+retotalled 1/2; ' +
        'hard negatives flagged recurring_monthly 1/12; exceptions among AUTO_APPROVE 2/800 = 0.25% ' +
        '(promised <= 0.50%; 95% upper bound 1.23% over 40 vendors) PASS; clean invoices sent to people 90 of 900, 100 per 1,000 clean.',
    );
    expect(() => unseenEvaluationNote('x', { ...report, guarantee: null })).toThrow(RangeError);
  });

  it('replaces earlier unseen notes and keeps them after the completion note when the card is completed again', () => {
    const card = withUnseenNotes(shipped(), [`${UNSEEN_NOTE_PREFIX} old`]);
    const noted = withUnseenNotes(card, [`${UNSEEN_NOTE_PREFIX} a`, `${UNSEEN_NOTE_PREFIX} b`]);
    expect(noted.training!.notes.filter((n) => n.startsWith(UNSEEN_NOTE_PREFIX))).toEqual([
      `${UNSEEN_NOTE_PREFIX} a`,
      `${UNSEEN_NOTE_PREFIX} b`,
    ]);
    const data = assembled([{ p: 0.5, y: 1, split: 'test' }]);
    const completed = completeCard(noted, data, spec, 'bench X');
    expect(completed.training!.notes.slice(-3).map((n) => n.slice(0, 22))).toEqual([
      COMPLETION_NOTE_PREFIX.slice(0, 22),
      `${UNSEEN_NOTE_PREFIX} a`.slice(0, 22),
      `${UNSEEN_NOTE_PREFIX} b`.slice(0, 22),
    ]);
    expect(completeCard(completed, data, spec, 'bench X')).toEqual(completed);
  });
});
