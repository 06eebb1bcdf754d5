/**
 * The per-kind promotion gate through the registry and `npm run models -- promote`: a challenger
 * with the same headline PR-AUC but a lower recall on one exception kind, a higher flag rate on a
 * hard-negative kind or on clean invoices is refused naming it; equal or better passes; cards
 * measured on another test split are refused as not comparable; `--force --reason` records the
 * reason and the overridden refusal.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shippedModelsDir } from '../bin/bootstrap.js';
import { modelsCommand } from '../bin/models.js';
import { isTriageError } from '../core/errors.js';
import { exportOnnx } from '../training/onnx-export.js';
import { makeCardDraft, makeEvaluation, makeSpec } from '../test/model-fixtures.js';
import { PROMOTION_GATE } from './promotion-gate.js';
import { ModelRegistry, type RegistryEvent } from './registry.js';
import { servedFeatureSchemas } from './served-schemas.js';
import type { KindMetrics, ModelCardDraft } from './spec.js';

let root: string;
let events: RegistryEvent[];
let registry: ModelRegistry;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'promotion-gate-'));
  events = [];
  registry = new ModelRegistry({ root, onEvent: (e) => void events.push(e) });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const kind = (k: string, recallAtReview: number, recallAtHold: number): KindMetrics => ({
  kind: k,
  isHardNegative: false,
  n: 18,
  rocAuc: 0.99,
  prAuc: 0.95,
  precisionAtReview: 0.6,
  recallAtReview,
  precisionAtHold: 0.95,
  recallAtHold,
  flaggedRateAtReview: recallAtReview,
  flaggedRateAtHold: recallAtHold,
});

const hardNegative = (k: string, flaggedRateAtReview: number, flaggedRateAtHold: number): KindMetrics => ({
  kind: k,
  isHardNegative: true,
  n: 36,
  rocAuc: null,
  prAuc: null,
  precisionAtReview: null,
  recallAtReview: null,
  precisionAtHold: null,
  recallAtHold: null,
  flaggedRateAtReview,
  flaggedRateAtHold,
});

interface Figures {
  rekeyedHold?: number;
  recurringReview?: number;
  /** Clean invoices flagged at review, of 900 (invoice unit). */
  cleanFlaggedReview?: number;
  benchmarkSha?: string;
}

/** A duplicate-model training run (PR-AUC 0.9 on one evaluation set) with the given per-kind figures. */
function run(seed: number, f: Figures = {}) {
  const served = servedFeatureSchemas().duplicate;
  const spec = makeSpec({
    seed,
    task: 'duplicate',
    featureNames: [...served.names],
    featureSchemaVersion: served.version!,
  });
  const card: ModelCardDraft = makeCardDraft(spec, {
    prAuc: 0.9,
    ...(f.benchmarkSha ? { benchmarkSha: f.benchmarkSha } : {}),
  });
  card.metrics.perKind = [
    kind('exact_resubmission', 1, 0.958),
    kind('rekeyed_number', 1, f.rekeyedHold ?? 1),
    hardNegative('recurring_monthly', f.recurringReview ?? 0, 0),
  ];
  const invoice = card.metrics.test.find((m) => m.unit === 'invoice')!;
  const fp = f.cleanFlaggedReview ?? 20;
  invoice.atReview = { ...invoice.atReview, fp, tn: 900 - fp };
  return { onnx: exportOnnx(spec), spec, card, evaluation: makeEvaluation(0.9, { unit: 'pair' }) };
}

async function refusal(version: string): Promise<string> {
  try {
    await registry.promote('duplicate', version, { actor: 'lead' });
  } catch (e) {
    if (isTriageError(e, 'TRIAGE_MODEL_PROMOTION_REFUSED')) return e.message;
    throw e;
  }
  return 'promoted';
}

describe('per-kind promotion gate', () => {
  it('declares its rule once: recall per exception kind, flag rates of hard negatives and clean invoices', () => {
    expect(PROMOTION_GATE).toEqual({
      recall: ['recallAtReview', 'recallAtHold'],
      hardNegativeFlagged: ['flaggedRateAtReview', 'flaggedRateAtHold'],
      cleanFlagged: ['atReview', 'atHold'],
      tolerance: 0,
      holdSide: 'equal-coverage',
    });
  });

  it('refuses a challenger worse on one kind, naming the kind; equal or better passes', async () => {
    await registry.register('duplicate', run(1));
    await registry.promote('duplicate', '1', { actor: 'lead' });
    // Same headline PR-AUC, one rekeyed number of 18 no longer held.
    await registry.register('duplicate', run(2, { rekeyedHold: 17 / 18 }));
    const r = await refusal('2');
    expect(r).toContain('per-kind gate');
    expect(r).toContain('rekeyed_number recallAtHold 94.4% vs champion 100.0%');
    expect(r).not.toContain('exact_resubmission');
    expect(r).not.toContain('pr_auc');
    expect(events.at(-1)).toMatchObject({ type: 'model.promotion_refused', version: '2' });
    // A hard negative flagged more often.
    await registry.register('duplicate', run(3, { recurringReview: 1 / 36 }));
    expect(await refusal('3')).toContain('recurring_monthly flaggedRateAtReview 2.8% vs champion 0.0%');
    // More clean invoices flagged.
    await registry.register('duplicate', run(4, { cleanFlaggedReview: 21 }));
    expect(await refusal('4')).toContain('clean invoices flagged atReview 2.3% vs champion 2.2%');
    // Equal on every figure: promoted; then better (fewer clean invoices flagged): promoted.
    await registry.register('duplicate', run(5));
    expect(await refusal('5')).toBe('promoted');
    await registry.register('duplicate', run(6, { cleanFlaggedReview: 12 }));
    expect(await refusal('6')).toBe('promoted');
    expect((await registry.aliases('duplicate')).champion).toBe('6');
  });

  it('refuses cards measured on another test split unless forced with a reason, which is recorded', async () => {
    await registry.register('duplicate', run(1));
    await registry.promote('duplicate', '1', { actor: 'lead' });
    // Better everywhere, but another benchmark (generator or seed): not comparable.
    await registry.register(
      'duplicate',
      run(2, { benchmarkSha: 'd'.repeat(64), cleanFlaggedReview: 5, rekeyedHold: 1 }),
    );
    expect(await refusal('2')).toContain(
      'per-kind figures were measured on different test splits or generators',
    );
    await registry.register('duplicate', run(3, { rekeyedHold: 0.5 }));
    await expect(registry.promote('duplicate', '3', { actor: 'lead', force: true })).rejects.toThrow(
      'needs a reason',
    );
    const res = await registry.promote('duplicate', '3', {
      actor: 'lead',
      force: true,
      reason: 'incident 7: @1 misses credit-memo pairs',
    });
    expect(res).toMatchObject({ forced: true, changed: true, previousChampion: '1' });
    const card = (await registry.resolve('duplicate', '3')).card;
    expect(card.history.at(-1)).toMatchObject({
      action: 'promoted',
      forced: true,
      reason: 'incident 7: @1 misses credit-memo pairs',
    });
    expect(card.history.at(-1)?.overriddenRefusal).toContain('rekeyed_number recallAtHold 50.0%');
    expect(events.at(-1)).toMatchObject({ type: 'model.promoted', forced: true });
  });
});

describe('the shipped coding challengers against coding-mismatch@4 (same seed-42 test split)', () => {
  it('refuses @5 on clean invoices at review and passes @7, the same network with a finer threshold grid', async () => {
    await cp(join(shippedModelsDir(), 'coding-mismatch'), join(root, 'coding-mismatch'), { recursive: true });
    const five = await registry.resolve('coding-mismatch', '5');
    const seven = await registry.resolve('coding-mismatch', '7');
    expect(seven.spec!.layers).toEqual(five.spec!.layers);
    expect(seven.spec!.calibration).toEqual(five.spec!.calibration);
    expect(seven.card.thresholds.autoApprove).toBeGreaterThan(five.card.thresholds.autoApprove);
    const r = await registry.promote('coding-mismatch', '5', { actor: 'lead' }).then(
      () => 'promoted',
      (e: unknown) => (isTriageError(e) ? e.message : String(e)),
    );
    expect(r).toContain('per-kind gate: worse than the champion on the same test split');
    expect(r).toContain('clean invoices flagged atReview 0.5% vs champion 0.4%');
    expect(r).not.toContain('recall');
    const res = await registry.promote('coding-mismatch', '7', { actor: 'lead' });
    expect(res).toMatchObject({ changed: true, forced: false, previousChampion: '4' });
  });
});

describe('npm run models -- promote (per-kind gate)', () => {
  it('refuses a challenger worse on one kind and records a forced promotion with its reason', async () => {
    const cli = async (...args: string[]): Promise<string[]> => {
      const out: string[] = [];
      // Registrations and promotions are audited in a store: an embedded one in the test's directory.
      const store = ['register', 'promote'].includes(args[0]!) ? ['--data-dir', join(root, 'store')] : [];
      await modelsCommand((l) => out.push(l)).parseAsync(
        ['--root', join(root, 'artifacts'), ...args, ...store],
        {
          from: 'user',
        },
      );
      return out;
    };
    for (const [name, r] of [
      ['champion', run(1)],
      ['challenger', run(2, { rekeyedHold: 16 / 18 })],
    ] as const) {
      const dir = join(root, name);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'spec.json'), JSON.stringify(r.spec));
      await writeFile(join(dir, 'card.json'), JSON.stringify(r.card));
      await writeFile(join(dir, 'evaluation.json'), JSON.stringify(r.evaluation));
      await cli('register', 'duplicate', '--from', dir, '--evaluation', join(dir, 'evaluation.json'));
    }
    await cli('promote', 'duplicate', '1', '--actor', 'lead', '--reason', 'first champion');
    const refused = await cli(
      'promote',
      'duplicate',
      '2',
      '--actor',
      'ds',
      '--reason',
      'better overall',
    ).catch((e: unknown) => e);
    expect(isTriageError(refused, 'TRIAGE_MODEL_PROMOTION_REFUSED')).toBe(true);
    expect((refused as Error).message).toContain('rekeyed_number recallAtHold 88.9% vs champion 100.0%');
    const forced = await cli('promote', 'duplicate', '2', '--actor', 'ds', '--force', '--reason', 'audit 9');
    expect(forced[0]).toBe('duplicate@2 is champion (was 1) - FORCED');
    const aliases = JSON.parse(await readFile(join(root, 'artifacts', 'duplicate', 'aliases.json'), 'utf8'));
    expect(aliases.history.at(-2)).toMatchObject({
      alias: 'champion',
      to: '2',
      reason: 'audit 9',
      forced: true,
    });
  });
});
