/**
 * ONNX vs tfjs on the shipped champions: the same trained spec scored by ONNX Runtime (the
 * served graph from the registry) and by tfjs wasm (the training runtime), on the same rows.
 */
import { OnnxModelSession } from '../inference/onnx-session.js';
import { ModelRegistry, type ResolvedModel } from '../models/registry.js';
import { mulberry32 } from '../datasets/synth.js';
import { toTfjsModel } from '../training/tfjs-model.js';
import { msSince, percentiles } from './stats.js';

/** The champions of both tasks that carry a spec (bring-your-own models have none). */
export async function listChampionSpecs(root = 'models/artifacts'): Promise<ResolvedModel[]> {
  const reg = new ModelRegistry({ root });
  const out: ResolvedModel[] = [];
  for (const name of await reg.names()) {
    try {
      const m = await reg.resolve(name, 'champion');
      if (m.spec) out.push(m);
    } catch {
      /* no champion */
    }
  }
  return out;
}

/** Rows near the spec's training distribution: mean + N(0,1) x std per feature (seeded). */
function rowsFor(m: ResolvedModel, n: number): Float32Array {
  const spec = m.spec!;
  const f = spec.featureNames.length;
  const rng = mulberry32(7);
  const out = new Float32Array(n * f);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < f; j++) {
      const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
      out[i * f + j] = spec.standardise.mean[j]! + z * spec.standardise.std[j]!;
    }
  return out;
}

/** One champion scored by ONNX Runtime and by tfjs on the same rows (times in ms, single-row latency in us). */
export interface OnnxTfjsComparison {
  task: string;
  version: string;
  features: number;
  onnxMs: number;
  tfjsMs: number;
  /** tfjs ms / ONNX ms. */
  ratio: number;
  /** Largest |probability difference| over the rows. */
  maxAbsDiff: number;
  onnxSingleRowUs: { p50: number; p99: number };
}

/** Times one `n`-row batch in each runtime (after a warm-up) and compares the probabilities. */
export async function compareOnnxTfjs(m: ResolvedModel, n: number): Promise<OnnxTfjsComparison> {
  const spec = m.spec!;
  const f = spec.featureNames.length;
  const data = rowsFor(m, n);
  const session = await OnnxModelSession.fromBuffer(m.onnx);
  const tfm = await toTfjsModel(spec);
  const rows = Array.from({ length: n }, (_, i) => data.subarray(i * f, (i + 1) * f));
  await session.run(data.subarray(0, 1000 * f));
  await tfm.predict(rows.slice(0, 1000));
  let t = process.hrtime.bigint();
  const a = await session.run(data);
  const onnxMs = msSince(t);
  t = process.hrtime.bigint();
  const b = await tfm.predict(rows);
  const tfjsMs = msSince(t);
  let maxAbsDiff = 0;
  for (let i = 0; i < n; i++)
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a.probability[i]! - b.probability[i]!));
  const single: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const s = process.hrtime.bigint();
    await session.runOne(rows[i]!);
    single.push(msSince(s) * 1000);
  }
  const p = percentiles(single);
  tfm.dispose();
  await session.release();
  return {
    task: m.name,
    version: m.version,
    features: f,
    onnxMs,
    tfjsMs,
    ratio: tfjsMs / onnxMs,
    maxAbsDiff,
    onnxSingleRowUs: { p50: p.p50, p99: p.p99 },
  };
}
