import { describe, expect, it } from 'vitest';
import { assertModelCardDraft, assertModelSpec } from '../models/spec.js';
import { LOGISTIC, MLP_16_8 } from '../models/specs/index.js';
import type { AssembledData } from './assemble.js';
import { RULE_CAUGHT_DUPLICATE_KINDS, runPipeline } from './pipeline.js';
import { syntheticAssembled } from './synthetic.js';

describe('runPipeline on a synthetic task', () => {
  // 12% positives, with an interaction only the MLP can fit
  const assembled = syntheticAssembled({
    n: 8000,
    seed: 5,
    coef: [1.5, -1, 1, 0],
    bias: -3,
    interaction: 1.5,
  });
  const opts = {
    seed: 42,
    architectures: [
      { ...LOGISTIC, epochs: 4 },
      { ...MLP_16_8, epochs: 4 },
    ],
    approveAlpha: 0.05,
    holdAlpha: 0.3,
    delta: 0.1,
    now: () => new Date('2026-01-01T00:00:00Z'),
  };

  it('is deterministic, records the comparison, calibrates, certifies thresholds and reports test metrics', async () => {
    const r1 = await runPipeline(assembled, opts);
    const r2 = await runPipeline(assembled, { ...opts, now: () => new Date('2026-02-02T00:00:00Z') });
    expect(JSON.stringify(r2.spec)).toBe(JSON.stringify(r1.spec));
    expect({ ...r2.card, trainedAt: '' }).toEqual({ ...r1.card, trainedAt: '' });

    const { spec, card } = r1;
    assertModelSpec(spec);
    assertModelCardDraft(JSON.parse(JSON.stringify(card)));
    expect(card.architectureComparison.map((c) => c.id)).toEqual(['logistic-l2', 'mlp-16-8']);
    expect(card.architectureComparison.filter((c) => c.chosen)).toHaveLength(1);
    const chosen = card.architectureComparison.find((c) => c.chosen)!;
    expect(chosen.validLogLoss).toBe(Math.min(...card.architectureComparison.map((c) => c.validLogLoss)));
    expect(spec.architecture).toBe(chosen.architecture);

    expect(card.calibration.candidates.map((c) => c.kind)).toEqual(['none', 'platt', 'isotonic']);
    expect(card.calibration.eceAfterTest!).toBeLessThan(0.05);

    const a = card.thresholds.autoApprove;
    expect(a.feasible).toBe(true);
    expect(a.coverageCalibration).toBeGreaterThan(0.2);
    expect(a.coverageTest!).toBeGreaterThan(0.2);
    expect(a.riskTest!).toBeLessThan(0.05 + 0.03);
    expect(card.thresholds.hold.threshold).toBeGreaterThan(a.threshold);

    const [unit, invoice] = card.metrics.test;
    expect(unit!.rocAuc!).toBeGreaterThan(0.8);
    expect(invoice!.n).toBe(card.data.invoices.test);
    expect(card.metrics.perKind.map((k) => k.kind)).toEqual(['kind_a', 'kind_b']);
    const rows = card.data.rows;
    expect(rows.train! + rows.calibration! + rows.thresholds! + rows.test!).toBe(8000);
    expect(r1.report.ltt.autoApprove.length).toBeGreaterThan(0);
  });
});

describe('runPipeline on a duplicate task with line-level duplicates the pair score cannot see', () => {
  // invoice-level duplicates follow the synthetic logit; line-level duplicates (2% of the valid
  // and test invoices) look like clean invoices to the pair model
  const base = syntheticAssembled({ n: 8000, seed: 7, coef: [2.5, -2, 2, 0], bias: -6 });
  const extra = Array.from({ length: 160 }, (_, i) => ({
    x: Float64Array.from([-2.5, 1.5, -2, 0]),
    meta: {
      key: `ll${i}`,
      invoiceId: `ll${i}`,
      kind: 'line_level_duplicate',
      source: 'benchmark' as const,
      split: i % 4 === 0 ? ('test' as const) : ('valid' as const),
      labelId: `bench:ll${i}`,
    },
  }));
  const withLineLevel = (task: 'duplicate' | 'coding-mismatch'): AssembledData => ({
    ...base,
    task,
    data: {
      ...base.data,
      X: [...base.data.X, ...extra.map((e) => e.x)],
      y: Float64Array.from([...Array.from(base.data.y), ...extra.map(() => 1)]),
      w: Float64Array.from([...Array.from(base.data.w), ...extra.map(() => 1)]),
      meta: [...base.data.meta, ...extra.map((e) => e.meta)],
    },
    invoices: [
      ...base.invoices,
      ...extra.map((e) => ({
        invoiceId: e.meta.invoiceId,
        split: e.meta.split,
        label: 1 as const,
        kind: e.meta.kind,
        hardNegative: null,
      })),
    ],
  });
  const opts = {
    seed: 42,
    architectures: [{ ...LOGISTIC, epochs: 4 }],
    approveAlpha: 0.01,
    holdAlpha: 0.3,
    delta: 0.1,
    now: () => new Date('2026-01-01T00:00:00Z'),
  };

  it('certifies auto-approval on invoice-level duplicates only, and says so in the card', async () => {
    const dup = await runPipeline(withLineLevel('duplicate'), opts);
    // the same rows where every exception counts (as for the coding model)
    const all = await runPipeline(withLineLevel('coding-mismatch'), opts);
    expect(JSON.stringify(dup.spec.layers)).toBe(JSON.stringify(all.spec.layers));
    const a = dup.card.thresholds.autoApprove;
    const b = all.card.thresholds.autoApprove;
    expect(a.feasible).toBe(true);
    // counting line-level duplicates, 2% of the invoices sit at the lowest scores and exceed
    // the 1% target wherever the threshold is: nothing (or next to nothing) is auto-approved
    expect(b.coverageCalibration).toBeLessThan(0.2);
    expect(a.coverageCalibration).toBeGreaterThan(0.5);
    expect(a.threshold).toBeGreaterThan(b.threshold);
    expect(a.riskTest!).toBeLessThan(0.01 + 0.02);
    expect(a.risk).toContain('other than line_level_duplicate');
    expect(b.risk).not.toContain('line_level_duplicate');
    expect(dup.card.notes.some((n) => n.includes('covers invoice-level duplicates only'))).toBe(true);
    // the hold side still counts a line-level duplicate as an exception: same hold threshold
    expect(dup.card.thresholds.hold.threshold).toBe(all.card.thresholds.hold.threshold);
    expect(RULE_CAUGHT_DUPLICATE_KINDS).toEqual(['line_level_duplicate']);
  });
});
