/**
 * `npm run bench:models`: latency of the served ONNX session (single row and a 100k-row
 * batch) and of the explanations, on models of the served shape (6 line features). Prints
 * figures; asserts nothing. Run on an idle machine for numbers worth quoting.
 */
import { performance } from 'node:perf_hooks';
import { ModelExplainer } from '../inference/explain-model.js';
import { OnnxModelSession } from '../inference/onnx-session.js';
import { LINE_GROUP_RULES, groupFeatures } from '../inference/model-scorers.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import { ISOTONIC, lineRows, makeSpec, randomRows } from '../test/model-fixtures.js';
import { exportOnnx } from '../training/onnx-export.js';

const quantile = (xs: number[], q: number): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;
const fmt = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} us`);

const groups = [
  { name: 'description_fit', features: ['desc_ref_cosine', 'desc_ref_token_overlap'] },
  { name: 'code_status', features: ['code_known', 'code_terminated'] },
  { name: 'price', features: ['unit_price_fee_log_ratio'] },
  { name: 'amount', features: ['line_amount_gap_cents'] },
];

const served = servedFeatureSchemas()['coding-mismatch'].names;
for (const [label, spec, rowsOf] of [
  ['logistic + platt (6 features)', makeSpec({ seed: 1 }), lineRows],
  [
    'mlp 16-8 + isotonic (6 features)',
    makeSpec({ seed: 2, hidden: [16, 8], calibration: ISOTONIC }),
    lineRows,
  ],
  [
    `mlp 16-8 + isotonic (${served.length} served line features)`,
    makeSpec({ seed: 3, hidden: [16, 8], calibration: ISOTONIC, featureNames: [...served] }),
    null,
  ],
] as const) {
  const rowsFor = (n: number, seed: number): number[][] =>
    rowsOf ? rowsOf(n, seed) : randomRows(spec, n, seed, 1);
  for (const threads of [1, 0]) {
    const session = await OnnxModelSession.fromBuffer(exportOnnx(spec), {
      expected: { names: spec.featureNames },
      ...(threads ? { intraOpNumThreads: threads } : {}),
    });
    const rows = rowsFor(2000, 7);
    for (let i = 0; i < 200; i++) await session.runOne(rows[i]!);
    const single: number[] = [];
    for (const r of rows) {
      const t = performance.now();
      await session.runOne(r);
      single.push((performance.now() - t) * 1000);
    }
    const big = Float32Array.from(rowsFor(100_000, 8).flat());
    await session.run(big);
    const batch: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await session.run(big);
      batch.push(performance.now() - t);
    }
    const b = quantile(batch, 0.5);
    console.log(
      `${label} [threads ${threads || 'default'}]: single row p50 ${fmt(quantile(single, 0.5))}, p99 ${fmt(quantile(single, 0.99))}; ` +
        `100k-row batch median ${b.toFixed(1)} ms (${(((100_000 / b) * 1000) / 1e6).toFixed(2)} M rows/s)`,
    );
    await session.release();
  }
  const ex = new ModelExplainer(spec, rowsOf ? groups : groupFeatures(spec.featureNames, LINE_GROUP_RULES));
  const rows = rowsFor(2000, 9);
  for (const r of rows.slice(0, 500)) ex.explain(r); // warm-up
  const t = performance.now();
  for (const r of rows) ex.explain(r);
  console.log(`${label}: explanation ${fmt(((performance.now() - t) * 1000) / rows.length)} per row`);
}
