import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBenchmark } from '../datasets/benchmark/generator.js';
import { PAIR_VECTOR_NAMES } from '../features/comparisons.js';
import { LINE_VECTOR_NAMES } from '../features/line-features.js';
import { earlierVectorVersions, vectorSchemaVersion } from '../features/schema.js';
import { assembleTask } from './assemble.js';
import { loadBenchmark, type LoadedBenchmark } from './benchmark.js';
import { benchmarkFeatureProvider, type BenchmarkFeatures } from './benchmark-features.js';

const dir = mkdtempSync(join(tmpdir(), 'bench-features-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let bench: LoadedBenchmark;
let features: BenchmarkFeatures;

beforeAll(async () => {
  await generateBenchmark({ invoices: 1000, seed: 3, out: dir });
  bench = loadBenchmark(dir);
  features = benchmarkFeatureProvider(bench, dir, { seed: 42 });
}, 120_000);

describe('benchmarkFeatureProvider (feature-engineering vectors over the benchmark)', () => {
  const col = (name: string): number => LINE_VECTOR_NAMES.indexOf(name);

  it('gives one fixed-order line vector per HCPCS line, with the current schema version', async () => {
    const a = await assembleTask('coding-mismatch', bench, features.provider);
    expect(a.featureSchemaVersion).toBe(vectorSchemaVersion('line'));
    expect(a.data.featureNames).toEqual(LINE_VECTOR_NAMES);
    const hcpcsLines = bench.records.reduce(
      (n, r) => n + r.invoice.lines.filter((l) => l.code?.system === 'HCPCS').length,
      0,
    );
    expect(a.data.X).toHaveLength(hcpcsLines);
    expect(a.data.X.every((x) => x.length === LINE_VECTOR_NAMES.length)).toBe(true);
    expect(features.context.typicalQuantities.source).toMatch(/train split/);
    expect(Object.keys(features.context.typicalQuantities.byCode).length).toBeGreaterThan(10);

    // context dropout: about 25% of train lines have no vendor profile; valid/test lines always have one
    const present = (split: string): number[] =>
      a.data.meta.flatMap((m, i) =>
        m.split === split ? [a.data.X[i]![col('vendor_profile_present')]!] : [],
      );
    const train = present('train');
    const share = train.filter((v) => v === 0).length / train.length;
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.35);
    expect(present('valid').every((v) => v === 1)).toBe(true);
    expect(present('test').every((v) => v === 1)).toBe(true);
    // approved categories come from vendors.json: most clean lines fall inside them
    const approvedOnTest = a.data.meta.flatMap((m, i) =>
      m.split === 'test' && a.data.y[i] === 0 ? [a.data.X[i]![col('vendor_category_approved')]!] : [],
    );
    expect(approvedOnTest.filter((v) => v === 1).length / approvedOnTest.length).toBeGreaterThan(0.9);
  });

  it("counts each vendor's earlier lines by code in submission order, as the store's vendor_code_counts", async () => {
    const a = await assembleTask('coding-mismatch', bench, features.provider);
    const row = new Map(a.data.meta.map((m, i) => [`${m.invoiceId}#${m.lineNumber}`, a.data.X[i]!]));
    const seen = new Map<string, Map<string, number>>();
    let checked = 0;
    for (const r of bench.records) {
      const v = r.invoice.vendor.id;
      const past = seen.get(v) ?? new Map<string, number>();
      const total = [...past.values()].reduce((x, y) => x + y, 0);
      for (const l of r.invoice.lines) {
        if (l.code?.system !== 'HCPCS') continue;
        const x = row.get(`${r.invoice.invoice_id}#${l.line_number}`)!;
        if (x[col('vendor_profile_present')] !== 1 || total === 0) continue;
        expect(x[col('vendor_lines_log')]).toBeCloseTo(Math.log1p(total), 5);
        expect(x[col('vendor_code_lines_log')]).toBeCloseTo(
          Math.log1p(past.get(l.code.value.toUpperCase()) ?? 0),
          5,
        );
        checked++;
      }
      for (const l of r.invoice.lines)
        if (l.code?.system === 'HCPCS')
          past.set(l.code.value.toUpperCase(), (past.get(l.code.value.toUpperCase()) ?? 0) + 1);
      seen.set(v, past);
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('keeps the code/category table for every code the train split bills; estimates only codes it never bills', () => {
    const t = features.context.typicalQuantities;
    const clean = bench.records
      .filter((r) => r.label.split === 'train')
      .flatMap((r) => {
        const bad = new Set(r.label.coding.map((c) => c.line_number));
        return r.invoice.lines.filter((l) => l.code?.system === 'HCPCS' && !bad.has(l.line_number));
      });
    const billed = new Set(
      bench.records
        .filter((r) => r.label.split === 'train')
        .flatMap((r) => r.invoice.lines.flatMap((l) => (l.code?.system === 'HCPCS' ? [l.code.value] : []))),
    );
    const count = new Map<string, number>();
    for (const l of clean) count.set(l.code!.value, (count.get(l.code!.value) ?? 0) + 1);
    // a billed code with 5 clean lines of its own has its own median; one billed less often has at
    // most an estimate (its price band's median), listed as estimated
    for (const code of billed) {
      const own = (count.get(code) ?? 0) >= 5;
      if (own) expect(code in t.byCode && !t.estimated.includes(code), code).toBe(true);
      else expect(!(code in t.byCode) || t.estimated.includes(code), code).toBe(true);
    }
    const estimated = Object.keys(t.byCode).filter((c) => !billed.has(c));
    expect(estimated.length).toBeGreaterThan(1000);
    expect(t.source).toMatch(/^benchmark train split, \d+ clean HCPCS lines/);
  });

  it('compares pairs as serving does: the stored side carries no description stems', async () => {
    const a = await assembleTask('duplicate', bench, features.provider);
    expect(a.data.featureNames).toEqual(PAIR_VECTOR_NAMES);
    const missing = PAIR_VECTOR_NAMES.indexOf('lines.description_jaccard_missing');
    expect(a.data.X.every((x) => x[missing] === 1)).toBe(true);
    const cos = PAIR_VECTOR_NAMES.indexOf('embedding.cosine');
    const mean = (y: number): number => {
      const xs = a.data.X.filter((_, i) => a.data.y[i] === y).map((x) => x[cos]!);
      return xs.reduce((s, v) => s + v, 0) / xs.length;
    };
    expect(mean(1)).toBeGreaterThan(mean(0));
    expect(a.blocking!.originalInCandidates / a.blocking!.duplicates).toBeGreaterThan(0.9);
  });

  it('builds an earlier pair-vector edition on request (duplicate@2 reproduces), the same rows cut to its prefix', async () => {
    const current = await assembleTask('duplicate', bench, features.provider);
    const e2 = benchmarkFeatureProvider(bench, dir, { seed: 42, editions: { pair: 2 } });
    const a = await assembleTask('duplicate', bench, e2.provider);
    const [edition2] = earlierVectorVersions('pair');
    expect(a.data.featureNames).toEqual(edition2!.names);
    expect(a.featureSchemaVersion).toBe('fs-7b1f5698ee81');
    expect(current.featureSchemaVersion).toBe(vectorSchemaVersion('pair'));
    expect(a.data.X.length).toBe(current.data.X.length);
    const n = edition2!.names.length;
    a.data.X.forEach((x, i) => expect(Array.from(x)).toEqual(Array.from(current.data.X[i]!).slice(0, n)));
    // the current edition reads the billing rhythm on some pairs
    const cycles = PAIR_VECTOR_NAMES.indexOf('billing_rhythm.cycles');
    expect(current.data.X.filter((x) => x[cycles]! > 0).length).toBeGreaterThan(10);
    expect(() => benchmarkFeatureProvider(bench, dir, { seed: 42, editions: { pair: 1 } })).toThrow(
      RangeError,
    );
  });
});
