/**
 * Shadow-scoring overhead: the champion's answer (in-process scoring, the `scoring` section's
 * path) with and without a challenger in shadow for the tenant. The challenger is the champion's
 * own network registered again as version 2 in a copy of the shipped registry, so both runs do
 * the same champion work and the difference is the shadow run (queued after the decision is
 * stored, off the answer's path, but on the same cores). The runs go without / with / without
 * again on one store, and the ratios compare the shadowed run with the mean of the two runs
 * around it, so the store's growth and the machine's load during the runs weigh on both sides.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Invoice } from '../core/invoice.js';
import { shippedModelsDir, wire } from '../bin/bootstrap.js';
import { ModelRegistry } from '../models/registry.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import type { ModelCardDraft, TrainedModelSpec } from '../models/spec.js';
import { exportOnnx } from '../training/onnx-export.js';
import type { StoreConfig } from '../store/index.js';
import { runScoringBenchmark, type ScoringResult } from './scoring.js';

/** One store's runs. */
export interface ShadowOverhead {
  without: ScoringResult;
  with: ScoringResult;
  /** The second run without shadow, after the shadowed one. */
  withoutAfter: ScoringResult;
  /** p50 and mean latency with shadow / the mean of the two runs without (1.2 = 20% slower). */
  p50Ratio: number;
  meanRatio: number;
  /** Shadow scores stored once the queue drained (should equal the timed + warm-up invoices). */
  shadowScores: number;
}

async function registryWithChallenger(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-shadow-'));
  cpSync(shippedModelsDir(), dir, { recursive: true });
  const v1 = join(dir, 'coding-mismatch', '1');
  const spec = JSON.parse(readFileSync(join(v1, 'spec.json'), 'utf8')) as TrainedModelSpec;
  const card = JSON.parse(readFileSync(join(v1, 'card.json'), 'utf8')) as { training: ModelCardDraft };
  await new ModelRegistry({ root: dir, featureSchemas: servedFeatureSchemas() }).register('coding-mismatch', {
    onnx: exportOnnx(spec),
    spec,
    card: card.training,
    files: { 'line-context.json': readFileSync(join(v1, 'line-context.json')) },
  });
  return dir;
}

/**
 * Scores `invoices(tag)` on a fresh store without shadow (tenant `plain`), then with
 * `coding-mismatch@2` in shadow (tenant `shadowed`), then without again (tenant `plain-after`).
 */
export async function runShadowBenchmark(
  store: () => StoreConfig,
  invoices: (tag: string) => Invoice[],
): Promise<ShadowOverhead> {
  const dir = await registryWithChallenger();
  const w = await wire(store(), { models: { dir, reloadMs: null }, monitoring: { flushMs: 0 } });
  try {
    const without = await runScoringBenchmark(w.scoring, 'plain', invoices('plain'));
    await w.monitoring.startShadow('shadowed', 'coding-mismatch', '2', null);
    const withShadow = await runScoringBenchmark(w.scoring, 'shadowed', invoices('shadowed'));
    await w.monitoring.idle();
    const withoutAfter = await runScoringBenchmark(w.scoring, 'plain-after', invoices('plain-after'));
    const rows = await w.db.query<{ n: string }>('SELECT count(*)::text AS n FROM shadow_scores');
    const base = (k: 'p50' | 'mean') => (without.latencyMs[k] + withoutAfter.latencyMs[k]) / 2;
    return {
      without,
      with: withShadow,
      withoutAfter,
      p50Ratio: withShadow.latencyMs.p50 / base('p50'),
      meanRatio: withShadow.latencyMs.mean / base('mean'),
      shadowScores: Number(rows[0]?.n ?? 0),
    };
  } finally {
    await w.repo.close();
    await w.closeModels();
    rmSync(dir, { recursive: true, force: true });
  }
}
