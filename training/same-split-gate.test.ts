/**
 * The promotion gate on one test split: a champion whose card was measured on other benchmark
 * files is re-measured on the challenger's split at its own thresholds, and the rule of
 * `perKindRefusal` applied to the two; the registry promotes on those figures.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTriageError } from '../core/errors.js';
import { perKindRefusal } from '../models/promotion-gate.js';
import { ModelRegistry } from '../models/registry.js';
import type { TrainedModelSpec } from '../models/spec.js';
import { makeCardDraft, makeEvaluation } from '../test/model-fixtures.js';
import type { AssembledData, InvoiceTruth } from './assemble.js';
import { exportOnnx } from './onnx-export.js';
import {
  equalCoverageHold,
  prAucDifferenceInterval,
  remeasuredCard,
  renderGate,
  sameSplitGate,
  type GateModel,
} from './same-split-gate.js';

const logit = (p: number): number => Math.log(p / (1 - p));

/** A logistic spec whose score is sigmoid of one named input: inputs `names`, weight 1 on `reads`. */
function spec(names: string[], reads: string, seed: number): TrainedModelSpec {
  return {
    task: 'duplicate',
    architecture: 'logistic',
    featureNames: names,
    featureSchemaVersion: 'fs-test',
    standardise: { mean: names.map(() => 0), std: names.map(() => 1) },
    layers: [{ weights: names.map((n) => [n === reads ? 1 : 0]), bias: [0], activation: 'linear' }],
    calibration: { kind: 'none' },
    seed,
  };
}

/**
 * Twelve test invoices, one candidate pair each, scored through three columns: `x` (the
 * champion's score), `z` (a challenger that flags a number reused years later) and `w` (one that
 * holds every duplicate and flags nothing more). Review threshold 0.1, hold 0.9 (the fixture cards').
 * The champion holds 3 invoices, `z` and `w` 4 at the card's threshold: compared at equal coverage,
 * they hold their top 3 (0.96, 0.97, 0.98).
 */
const INVOICES: {
  id: string;
  label: 0 | 1;
  kind: string | null;
  hard: string | null;
  x: number;
  z: number;
  w: number;
}[] = [
  ...[0.95, 0.95, 0.95, 0.5].map((x, i) => ({
    id: `dup${i}`,
    label: 1 as const,
    kind: 'exact_resubmission',
    hard: null,
    x,
    z: 0.95 + i / 100,
    w: 0.95 + i / 100,
  })),
  ...[0, 1].map((i) => ({
    id: `reused${i}`,
    label: 0 as const,
    kind: null,
    hard: 'number_reused_years_later',
    x: 0.05,
    z: i === 0 ? 0.5 : 0.05,
    w: 0.05,
  })),
  ...[0.02, 0.02, 0.02, 0.02, 0.02, 0.2].map((x, i) => ({
    id: `clean${i}`,
    label: 0 as const,
    kind: null,
    hard: null,
    x,
    z: x,
    w: x,
  })),
];

function assembled(): AssembledData {
  const invoices: InvoiceTruth[] = INVOICES.map((r) => ({
    invoiceId: r.id,
    split: 'test',
    label: r.label,
    kind: r.kind,
    hardNegative: r.hard,
  }));
  return {
    task: 'duplicate',
    featureSchemaVersion: 'fs-test',
    data: {
      featureNames: ['x', 'z', 'w'],
      X: INVOICES.map((r) => [logit(r.x), logit(r.z), logit(r.w)]),
      y: Float64Array.from(INVOICES, (r) => r.label),
      w: Float64Array.from(INVOICES, () => 1),
      meta: INVOICES.map((r) => ({
        key: `${r.id}>orig`,
        invoiceId: r.id,
        kind: r.kind ?? r.hard,
        source: 'benchmark' as const,
        split: 'test' as const,
        labelId: `bench:${r.id}>orig`,
      })),
    },
    invoices,
    labels: {
      hash: 'h',
      benchmark: { files: [{ path: 'test.jsonl', sha256: 'f'.repeat(64), records: 12 }], rows: 12 },
      reviews: { ids: [], superseded: [], skipped: [], weight: 3 },
    },
    rowsFrom: 'fixture pairs',
    blocking: null,
  };
}

let root: string;
let registry: ModelRegistry;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'same-split-gate-'));
  registry = new ModelRegistry({ root });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Registers a model reading `reads` of `names`, its card measured on benchmark files `sha`. */
async function register(names: string[], reads: string, seed: number, sha: string): Promise<GateModel> {
  const s = spec(names, reads, seed);
  const r = await registry.register('duplicate', {
    onnx: exportOnnx(s),
    spec: s,
    card: makeCardDraft(s, { prAuc: 0.9, benchmarkSha: sha }),
    evaluation: makeEvaluation(0.9, { unit: 'pair', datasetHash: sha }),
  });
  return { card: r.card, spec: s };
}

async function refusal(version: string, o: Parameters<ModelRegistry['promote']>[2]): Promise<string> {
  try {
    await registry.promote('duplicate', version, o);
  } catch (e) {
    if (isTriageError(e, 'TRIAGE_MODEL_PROMOTION_REFUSED')) return e.message;
    throw e;
  }
  return 'promoted';
}

describe('same-split promotion gate', () => {
  it('re-measures the champion on the challenger split and refuses a challenger that flags a hard negative more', async () => {
    const champion = await register(['x'], 'x', 1, 'c'.repeat(64));
    await registry.promote('duplicate', '1', { actor: 'lead' });
    const worse = await register(['x', 'z', 'w'], 'z', 2, 'd'.repeat(64));
    // Stored cards on other benchmark files: the stored-card gate cannot compare them.
    expect(perKindRefusal(worse.card, champion.card)).toContain('not comparable');
    const g = sameSplitGate(worse, champion, assembled());
    expect(g.refusal).toContain('number_reused_years_later flaggedRateAtReview 50.0% vs champion 0.0%');
    expect(g.refusal).not.toContain('exact_resubmission');
    expect(g.refusal).not.toContain('not comparable');
    expect(g.perKind).toContain('number_reused_years_later');
    expect(g.headline).toBeNull();
    // The champion (edition of one input) was scored by name on the three-column vector, at its thresholds.
    const row = (k: string) => g.rows.find((r) => r.kind === k)!;
    expect(row('exact_resubmission')).toEqual({
      kind: 'exact_resubmission',
      measure: 'recall',
      n: 4,
      challenger: { review: 1, hold: 0.75 },
      champion: { review: 1, hold: 0.75 },
    });
    expect(row('number_reused_years_later')).toMatchObject({
      n: 2,
      challenger: { review: 0.5 },
      champion: { review: 0 },
    });
    expect(row('clean')).toEqual({
      kind: 'clean',
      measure: 'flagged',
      n: 8,
      challenger: { review: 2 / 8, hold: 0 },
      champion: { review: 1 / 8, hold: 0 },
    });
    expect(g.champion.training!.labels.benchmark).toEqual(assembled().labels.benchmark);
    expect(g.challenger.evaluation.baselines).toEqual([{ version: '1', value: g.champion.evaluation.value }]);
    expect(g.challengerReproduced).toBe(false);
    const text = renderGate(g).join('\n');
    expect(text).toContain('number_reused_years_later');
    expect(text).toContain('1/2');
    expect(text).toMatch(/REFUSED: per-kind gate/);
    // The registry refuses on the same-split figures, and promotes nothing.
    const sameSplit = { candidate: g.challenger, champion: g.champion };
    expect(await refusal('2', { actor: 'lead', sameSplit })).toContain('number_reused_years_later');
    expect((await registry.aliases('duplicate')).champion).toBe('1');
  });

  it('passes a challenger at least as good on every kind, and the registry promotes on it', async () => {
    const champion = await register(['x'], 'x', 1, 'c'.repeat(64));
    await registry.promote('duplicate', '1', { actor: 'lead' });
    const better = await register(['x', 'z', 'w'], 'w', 3, 'd'.repeat(64));
    // Without the re-measure the stored cards are refused as not comparable.
    expect(await refusal('2', { actor: 'lead' })).toContain('not comparable');
    const g = sameSplitGate(better, champion, assembled());
    expect(g.refusal).toBeNull();
    expect([g.perKind, g.headline]).toEqual([null, null]);
    expect(renderGate(g).at(-1)).toBe('PASS');
    // Re-measured on the split its card records, a challenger's figures reproduce.
    const recorded = { ...better, card: remeasuredCard(better, assembled()) };
    expect(sameSplitGate(recorded, champion, assembled()).challengerReproduced).toBe(true);
    // The gate's challenger figures are at the equal-coverage hold threshold, not the card's.
    expect(sameSplitGate({ ...better, card: g.challenger }, champion, assembled()).challengerReproduced).toBe(
      false,
    );
    // Figures for another pair of versions are refused; the right ones promote.
    const other = { candidate: { ...g.challenger, version: '7' }, champion: g.champion };
    expect(await refusal('2', { actor: 'lead', sameSplit: other })).toContain('compare duplicate@7');
    expect(
      await refusal('2', { actor: 'lead', sameSplit: { candidate: g.challenger, champion: g.champion } }),
    ).toBe('promoted');
    expect((await registry.aliases('duplicate')).champion).toBe('2');
  });
});

describe('hold side at equal coverage', () => {
  it('keeps the card threshold when it holds no more than the champion, else moves just above the next score', () => {
    const scores = [0.99, 0.9, 0.9, 0.5, 0.2, 0.1];
    expect(equalCoverageHold(scores, 0.95, 3)).toBe(0.95);
    // Card 0.3 holds 4 (0.99, 0.9, 0.9, 0.5); the champion holds 3: above 0.5, so 0.99 and both 0.9.
    const t3 = equalCoverageHold(scores, 0.3, 3);
    expect(t3).toBeGreaterThan(0.5);
    expect(scores.filter((s) => s >= t3)).toEqual([0.99, 0.9, 0.9]);
    // The champion holds 2 but two invoices tie at 0.9: the tie is not split, one is held.
    const t2 = equalCoverageHold(scores, 0.3, 2);
    expect(scores.filter((s) => s >= t2)).toEqual([0.99]);
    // The champion holds none: the challenger holds none.
    expect(scores.filter((s) => s >= equalCoverageHold(scores, 0.3, 0))).toEqual([]);
    expect(() => equalCoverageHold(scores, 0.3, -1)).toThrow(RangeError);
    expect(() => equalCoverageHold(scores, 0.3, 1.5)).toThrow(RangeError);
  });

  it('compares a challenger whose card holds more at the champion coverage: passes when its extra holds are the only difference', async () => {
    const champion = await register(['x'], 'x', 1, 'c'.repeat(64));
    await registry.promote('duplicate', '1', { actor: 'lead' });
    const low = await register(['x', 'z', 'w'], 'w', 4, 'd'.repeat(64));
    // The card's hold threshold 0.15 also holds clean5 (0.2): at the card's threshold a clean
    // invoice is held that the champion does not hold.
    const lowHold: GateModel = {
      ...low,
      card: { ...low.card, thresholds: { autoApprove: 0.1, hold: 0.15 } },
    };
    const g = sameSplitGate(lowHold, champion, assembled());
    // The champion holds 3 (three duplicates at 0.95); the challenger at 0.15 holds 5 (four duplicates and clean5).
    expect(g.hold.championHeld).toBe(3);
    expect(g.hold.challengerHeldAtCard).toBe(5);
    expect(g.hold.challengerThreshold).toBeGreaterThan(0.2);
    const clean = g.rows.find((r) => r.kind === 'clean')!;
    expect(clean.challenger.hold).toBe(0);
    expect(g.perKind).toBeNull();
    expect(renderGate(g).join('\n')).toContain('holds 3 test invoices');
  });
});

describe('prAucDifferenceInterval', () => {
  it('is zero for identical scores, brackets the observed difference, and is seeded', () => {
    const units = Array.from({ length: 60 }, (_, i) => ({
      invoice: `inv${Math.floor(i / 2)}`,
      label: (i % 5 === 0 ? 1 : 0) as 0 | 1,
      challenger: i % 5 === 0 ? 0.9 : (i % 7) / 10,
      champion: i % 5 === 0 ? 0.6 : (i % 7) / 10,
    }));
    const same = prAucDifferenceInterval(
      units.map((u) => ({ ...u, challenger: u.champion })),
      50,
      3,
    );
    expect([same.observed, same.lo, same.hi]).toEqual([0, 0, 0]);
    const d = prAucDifferenceInterval(units, 200, 3);
    expect(d.observed).toBeGreaterThan(0);
    expect(d.lo).toBeLessThanOrEqual(d.observed);
    expect(d.hi).toBeGreaterThanOrEqual(d.observed);
    expect(d.lo).toBeLessThan(d.hi);
    expect(prAucDifferenceInterval(units, 200, 3)).toEqual(d);
    expect(() => prAucDifferenceInterval(units, 0)).toThrow(RangeError);
    expect(() => prAucDifferenceInterval([], 10)).toThrow(RangeError);
  });
});
