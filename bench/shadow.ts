/**
 * Shadow-scoring overhead: the champion's answer (in-process scoring, the `scoring` section's
 * path) with and without a challenger in shadow for the tenant. The challenger is the champion's
 * own network registered again as version 2 in a copy of the shipped registry, so both sides do
 * the same champion work and the difference is the shadow run (queued after the decision is
 * stored, off the answer's path, but on the same cores). The two sides alternate in blocks of
 * {@link BLOCK} invoices on one store (tenant `plain`, then tenant `shadowed`, ...), and the
 * shadow queue is drained, untimed, after each block: a change of the machine's load or the
 * store's size during the section weighs on both sides alike, and a shadowed block's queued runs
 * never spill into the next plain block.
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
import { validateInvoice } from '../core/validate.js';
import { scoringResult, type ScoringResult } from './scoring.js';
import { msSince } from './stats.js';

/** Invoices per alternating block. */
export const BLOCK = 20;

/** One store's runs. */
export interface ShadowOverhead {
  without: ScoringResult;
  with: ScoringResult;
  /** p50 and mean latency with shadow / without (1.2 = 20% slower). */
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
 * Scores `invoices(tag)` on a fresh store, tenant `plain` without shadow and tenant `shadowed`
 * with `coding-mismatch@2` in shadow, in alternating blocks (after 20 untimed warm-up invoices
 * per side).
 */
export async function runShadowBenchmark(
  store: () => StoreConfig,
  invoices: (tag: string) => Invoice[],
): Promise<ShadowOverhead> {
  const dir = await registryWithChallenger();
  const w = await wire(store(), { models: { dir, reloadMs: null }, monitoring: { flushMs: 0 } });
  try {
    await w.monitoring.startShadow('shadowed', 'coding-mismatch', '2', null);
    const sides = (['plain', 'shadowed'] as const).map((tenant) => ({
      tenant,
      list: invoices(tenant),
      lat: [] as number[],
      lines: 0,
      ms: 0,
    }));
    for (const side of sides)
      for (const inv of side.list.slice(0, 20)) await w.scoring.score(validateInvoice(inv), side.tenant);
    await w.monitoring.idle();
    const n = Math.min(...sides.map((x) => x.list.length));
    for (let from = 20; from < n; from += BLOCK)
      for (const side of sides) {
        for (const inv of side.list.slice(from, Math.min(n, from + BLOCK))) {
          const t = process.hrtime.bigint();
          await w.scoring.score(validateInvoice(inv), side.tenant);
          const ms = msSince(t);
          side.lat.push(ms);
          side.ms += ms;
          side.lines += inv.lines.length;
        }
        await w.monitoring.idle();
      }
    // Each side's seconds are its own latencies summed (the other side's blocks left out).
    const [plain, shadowed] = sides.map((x) => scoringResult(x.lat, x.lines, x.ms / 1000)) as [
      ScoringResult,
      ScoringResult,
    ];
    const rows = await w.db.query<{ n: string }>('SELECT count(*)::text AS n FROM shadow_scores');
    return {
      without: plain,
      with: shadowed,
      p50Ratio: shadowed.latencyMs.p50 / plain.latencyMs.p50,
      meanRatio: shadowed.latencyMs.mean / plain.latencyMs.mean,
      shadowScores: Number(rows[0]?.n ?? 0),
    };
  } finally {
    await w.repo.close();
    await w.closeModels();
    rmSync(dir, { recursive: true, force: true });
  }
}
