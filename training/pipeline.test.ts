import { describe, expect, it } from 'vitest';
import { assertModelCardDraft, assertModelSpec } from '../models/spec.js';
import { LOGISTIC, MLP_16_8 } from '../models/specs/index.js';
import { runPipeline } from './pipeline.js';
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
