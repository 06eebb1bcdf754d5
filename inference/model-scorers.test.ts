import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import type { PairComparison } from '../features/pair.js';
import { ModelRegistry } from '../models/registry.js';
import { predictProbability, type TrainedModelSpec } from '../models/spec.js';
import { makeInvoice } from '../test/fixtures.js';
import { LINE_NAMES, makeCardDraft, makeEvaluation, makeSpec } from '../test/model-fixtures.js';
import { exportOnnx } from '../training/onnx-export.js';
import type { FeatureGroup } from './explain-model.js';
import { loadReferenceData } from '../datasets/reference.js';
import { buildReferenceIndex } from '../features/reference-index.js';
import { lineServiceDate } from '../features/line-features.js';
import { comparePair, pairSideOfInvoice } from '../features/pair.js';
import { earlierVectorVersions, LINE_FEATURES, PAIR_FEATURES } from '../features/schema.js';
import {
  LINE_GROUP_RULES,
  createModelCodingScorer,
  createModelPairScorer,
  featureLineVectoriser,
  featurePairVectoriser,
  groupFeatures,
  loadChampionScorers,
  pairGroups,
  perLineVectoriser,
} from './model-scorers.js';
import { ChampionModel, type LoadedModel } from './onnx-champion.js';
import { OnnxModelSession } from './onnx-session.js';
import type { CodingMismatchScorer } from './scorers.js';

const GROUPS: FeatureGroup[] = [
  {
    name: 'description_fit',
    features: ['desc_ref_cosine', 'desc_ref_token_overlap'],
    reason: 'DESCRIPTION_CODE_MISMATCH',
  },
  { name: 'code_known', features: ['code_known'] },
  { name: 'code_terminated', features: ['code_terminated'], reason: 'CODE_TERMINATED' },
  { name: 'price', features: ['unit_price_fee_log_ratio'], reason: 'PRICE_ABOVE_FEE_SCHEDULE' },
  { name: 'amount', features: ['line_amount_gap_cents'], reason: 'LINE_AMOUNT_MISMATCH' },
];

let root: string;
let registry: ModelRegistry;
const specs = new Map<string, TrainedModelSpec>();

async function registerSpec(name: string, spec: TrainedModelSpec, prAuc: number): Promise<string> {
  const r = await registry.register(name, {
    onnx: exportOnnx(spec),
    spec,
    card: makeCardDraft(spec, { prAuc }),
    evaluation: makeEvaluation(prAuc),
  });
  specs.set(r.label, spec);
  return r.version;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'scorers-'));
  registry = new ModelRegistry({ root });
  specs.clear();
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Registers `spec` as version 1 of coding-mismatch, promotes it and loads it (no watching). */
async function codingChampion(spec: TrainedModelSpec): Promise<ChampionModel> {
  await registerSpec('coding-mismatch', spec, 0.8);
  await registry.promote('coding-mismatch', '1', { actor: 'ds' });
  return ChampionModel.load(registry, 'coding-mismatch', {
    expected: { names: LINE_NAMES },
    groups: GROUPS,
    watchIntervalMs: null,
  });
}

/** Feature rows keyed by line number: a stand-in for features/' lineFeatureVector. */
const ROWS: Record<number, number[]> = {
  1: [0.91, 0.8, 1, 0, 0.1, 0], // fits its code, fair price
  2: [-0.05, 0, 1, 0, 0.2, 0], // description does not fit the code
  3: [0.6, 0.5, 1, 1, 2.4, 15_000], // terminated code, 11x the fee, amount gap
};

function invoice(): Invoice {
  const base = makeInvoice({ invoice_id: 'inv-model-1' });
  const line = base.lines[0]!;
  return {
    ...base,
    lines: [1, 2, 3, 4].map((n) => ({ ...line, line_number: n, ...(n === 4 ? { code: undefined } : {}) })),
  };
}

const vectorise = perLineVectoriser((_inv: Invoice, line: Invoice['lines'][number]) =>
  line.code ? ROWS[line.line_number]! : null,
);

describe('model scorers', () => {
  it('coding: calibrated probabilities of the champion, reasons that add up to P, explanations, unscorable lines', async () => {
    // Logistic with known signs: poor description fit, terminated codes, high prices and amount gaps raise the risk.
    const spec = makeSpec({ seed: 41 });
    spec.layers[0]!.weights = [[-1.5], [-0.8], [-0.3], [1.2], [1.4], [0.6]];
    const model = await codingChampion(spec);
    const evidence: CodingMismatchScorer = {
      task: 'coding-mismatch',
      kind: 'heuristic',
      version: 'rules@test',
      scoreLines: (_inv, lines) =>
        lines.map((l) => ({
          lineNumber: l.lineNumber,
          score: l.lineNumber === 4 ? null : 0.5,
          reasons:
            l.lineNumber === 4
              ? [{ code: 'CODE_MISSING', message: 'no code', weight: 0, evidence: {} }]
              : [
                  {
                    code: 'PRICE_ABOVE_FEE_SCHEDULE',
                    message: 'm',
                    weight: 0.5,
                    evidence: { fee_schedule_cents: 1234 },
                  },
                ],
          suggestedCodes: [],
        })),
    };
    const scorer = createModelCodingScorer({ model, vectorise, evidence, reasonAt: 0 });
    expect(scorer.version).toBe('coding-mismatch@1');
    const inv = invoice();
    const out = await scorer.scoreLines(inv, extractInvoiceFeatures(inv).lines);
    expect(out.map((l) => l.lineNumber)).toEqual([1, 2, 3, 4]);
    for (const l of out.slice(0, 3)) {
      const x = Float32Array.from(ROWS[l.lineNumber]!);
      expect(l.score!).toBeCloseTo(predictProbability(spec, x), 6);
      expect(l.modelVersion).toBe('coding-mismatch@1');
      const e = l.explanation!;
      expect(Math.abs(e.completenessGap)).toBeLessThan(1e-9);
      expect(e.baseValue + e.contributions.reduce((s, c) => s + c.value, 0)).toBeCloseTo(e.logit, 9);
      if (l.reasons.length > 0) {
        // weights are rounded to 3 decimals each
        expect(l.reasons.reduce((s, r) => s + r.weight, 0)).toBeCloseTo(l.score!, 2);
        for (const r of l.reasons) expect(r.evidence.model).toBe('coding-mismatch@1');
      }
    }
    expect(out[1]!.reasons.map((r) => r.code)).toEqual(['DESCRIPTION_CODE_MISMATCH']);
    // Sorted by contribution: terminated (z = 2) > price (z = 0.56) > amount gap.
    expect(out[2]!.reasons.map((r) => r.code)).toEqual([
      'CODE_TERMINATED',
      'PRICE_ABOVE_FEE_SCHEDULE',
      'LINE_AMOUNT_MISMATCH',
    ]);
    expect(out[2]!.score!).toBeGreaterThan(out[0]!.score!);
    const price = out[2]!.reasons[1]!;
    expect(price.evidence.fee_schedule_cents).toBe(1234); // evidence merged from the rules
    expect(price.evidence).toMatchObject({ group: 'price', method: 'exact-linear' });
    expect(
      (price.evidence.features as Record<string, { value: number }>).unit_price_fee_log_ratio!.value,
    ).toBeCloseTo(2.4, 6);
    expect(out[3]).toMatchObject({
      score: null,
      reasons: [{ code: 'CODE_MISSING' }],
      modelVersion: 'coding-mismatch@1',
    });
    await model.close();
  });

  it('coding: no reasons at or below the auto-approve threshold of the card', async () => {
    const spec = makeSpec({ seed: 43 });
    spec.layers[0]!.bias = [-30]; // every line scores ~0
    const model = await codingChampion(spec);
    const inv = invoice();
    const out = await createModelCodingScorer({ model, vectorise }).scoreLines(
      inv,
      extractInvoiceFeatures(inv).lines,
    );
    expect(out.slice(0, 3).every((l) => l.score! < 0.1 && l.reasons.length === 0)).toBe(true);
    await model.close();
  });

  it("coding: reasons from the policy's coding review threshold when it is stricter than the card's, named in the evidence", async () => {
    const spec = makeSpec({ seed: 43 });
    spec.layers[0]!.bias = [-5]; // every line scores below the card's threshold (0.1)
    const model = await codingChampion(spec);
    const card = model.current.card.thresholds.autoApprove;
    expect(card).toBeGreaterThan(0);
    const scorer = createModelCodingScorer({ model, vectorise });
    // Reasons follow the policy: no fixed floor for routing to raise a policy to.
    expect(scorer.reasonFloor).toBeNull();
    expect(createModelCodingScorer({ model, vectorise, reasonAt: 0.3 }).reasonFloor).toEqual({
      model: 'coding-mismatch@1',
      value: 0.3,
    });
    const inv = invoice();
    const lines = extractInvoiceFeatures(inv).lines;
    const context = (codingReviewAt?: number) => ({
      vendorProfile: null,
      vendorCodeCounts: new Map<string, number>(),
      ...(codingReviewAt === undefined ? {} : { codingReviewAt }),
    });
    const strict = (await scorer.scoreLines(inv, lines, context(0))).slice(0, 3);
    expect(strict.every((l) => l.score! > 0 && l.score! < card && l.reasons.length > 0)).toBe(true);
    for (const r of strict.flatMap((l) => l.reasons)) {
      expect(r.evidence).toMatchObject({ reason_at: 0, reason_at_source: 'policy:coding.review_at' });
      expect(r.message).toContain("above the policy's coding review threshold 0, below the card's");
    }
    // A policy laxer than the card, or none: the card's threshold, and no reason below it.
    for (const lax of [context(0.99), context()]) {
      const out = (await scorer.scoreLines(inv, lines, lax)).slice(0, 3);
      expect(out.map((l) => l.score)).toEqual(strict.map((l) => l.score));
      expect(out.every((l) => l.reasons.length === 0)).toBe(true);
    }
    await model.close();
  });

  it('coding: calls started together share one ONNX run and get exactly the scores they get alone', async () => {
    const spec = makeSpec({ seed: 43 });
    const model = await codingChampion(spec);
    const scorer = createModelCodingScorer({ model, vectorise, reasonAt: 1 });
    const inv = invoice();
    const lines = extractInvoiceFeatures(inv).lines;
    const alone = [];
    for (const ls of [lines, lines.slice(1, 3), lines.slice(2)]) alone.push(await scorer.scoreLines(inv, ls));
    const session = await model.use(async (m) => m.session);
    const runs = vi.spyOn(session, 'run');
    const together = await Promise.all(
      [lines, lines.slice(1, 3), lines.slice(2)].map((ls) => scorer.scoreLines(inv, ls)),
    );
    expect(runs).toHaveBeenCalledTimes(1);
    expect(together.map((o) => o.map((l) => l.score))).toEqual(alone.map((o) => o.map((l) => l.score)));
    expect(together.flat().filter((l) => l.score !== null).length).toBe(3 + 2 + 1);
    // A bad vector fails its own call only.
    const bad = createModelCodingScorer({ model, vectorise: perLineVectoriser(() => [1, 2]), reasonAt: 1 });
    const [ok, refused] = await Promise.allSettled([
      scorer.scoreLines(inv, lines),
      bad.scoreLines(inv, lines),
    ]);
    expect(ok).toMatchObject({ status: 'fulfilled', value: alone[0] });
    expect(refused).toMatchObject({ status: 'rejected', reason: expect.any(RangeError) });
  });

  it('the shipped models score a row bit for bit the same alone and in batches of any size', async () => {
    const dir = join(import.meta.dirname, '..', 'models', 'artifacts');
    const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('model.onnx'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) {
      const session = await OnnxModelSession.fromBuffer(await readFile(join(dir, file)));
      const f = session.numFeatures;
      let seed = 12345;
      const rnd = () => {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        return seed / 4294967296;
      };
      const rows = Array.from({ length: 257 }, () =>
        Array.from({ length: f }, () => (rnd() < 0.4 ? 0 : (rnd() * 2 - 1) * 10 ** Math.floor(rnd() * 4))),
      );
      const all = await session.run(rows);
      for (const [a, b] of [
        [0, 1],
        [1, 11],
        [11, 14],
        [14, 114],
        [114, 257],
      ] as const) {
        const part = await session.run(rows.slice(a, b));
        expect(Array.from(part.logit), file).toEqual(Array.from(all.logit.subarray(a, b)));
        expect(Array.from(part.probability), file).toEqual(Array.from(all.probability.subarray(a, b)));
      }
      await session.release();
    }
  });

  it('duplicate: batch and single scoring agree; contributions by group, explained on demand, add up to the logit', async () => {
    const names = ['same_vendor', 'invoice_number_equal', 'amount_rel_diff', 'days_apart'];
    const spec = makeSpec({ seed: 44, task: 'duplicate', featureNames: names, hidden: [6] });
    await registerSpec('duplicate', spec, 0.9);
    await registry.promote('duplicate', '1', { actor: 'ds' });
    const model = await ChampionModel.load(registry, 'duplicate', {
      expected: { names },
      groups: [
        { name: 'vendor', features: ['same_vendor'] },
        { name: 'number', features: ['invoice_number_equal'] },
        { name: 'amount_date', features: ['amount_rel_diff', 'days_apart'] },
      ],
      watchIntervalMs: null,
    });
    const vec = (c: PairComparison) => [
      c.sameVendor ? 1 : 0,
      c.invoiceNumberEqual ? 1 : 0,
      c.amountRelDiff,
      c.daysApart / 30,
    ];
    const scorer = createModelPairScorer({ model, vectorise: vec });
    // Only the fields this test's vectoriser reads.
    const pair = (over: Partial<PairComparison>): PairComparison =>
      ({
        sameVendor: true,
        invoiceNumberEqual: true,
        amountRelDiff: 0,
        daysApart: 0,
        ...over,
      }) as PairComparison;
    const cs = [
      pair({}),
      pair({ invoiceNumberEqual: false, daysApart: 45 }),
      pair({ sameVendor: false, amountRelDiff: 0.4 }),
    ];
    const batch = await scorer.scorePairs(cs);
    for (const [i, c] of cs.entries()) {
      const one = await scorer.scorePair(c);
      expect(one.score).toBe(batch[i]!.score);
      expect(one.score).toBeCloseTo(predictProbability(spec, Float32Array.from(vec(c))), 6);
      // Explained on demand only: the score alone costs one ONNX run.
      expect(one.explanation).toBeUndefined();
      expect(one.contributions).toEqual({});
      const { explanation: e, contributions } = one.explain!();
      expect(Math.abs(e!.completenessGap)).toBeLessThan(1e-9);
      expect(e!.probability).toBeCloseTo(one.score, 6);
      expect(Object.keys(contributions)).toEqual(['vendor', 'number', 'amount_date']);
      expect(batch[i]!.explain!()).toEqual({ explanation: e, contributions });
      expect(one.modelVersion).toBe('duplicate@1');
      expect(one.rule).toBeNull();
    }
    await model.close();
  });

  it('hot reload: a promotion swaps the session without failing or mixing up a request', async () => {
    const v1 = makeSpec({ seed: 51 });
    const v2 = makeSpec({ seed: 52, hidden: [8], calibration: { kind: 'none' } });
    await registerSpec('coding-mismatch', v1, 0.8);
    await registry.promote('coding-mismatch', '1', { actor: 'ds' });
    await registerSpec('coding-mismatch', v2, 0.85);
    const swaps: string[] = [];
    const errors: unknown[] = [];
    const model = await ChampionModel.load(registry, 'coding-mismatch', {
      expected: { names: LINE_NAMES },
      groups: GROUPS,
      watchIntervalMs: 10,
      onSwap: (from, to) => swaps.push(`${from}->${to}`),
      onError: (e) => errors.push(e),
    });
    const scorer = createModelCodingScorer({ model, vectorise });
    const inv = invoice();
    const lines = extractInvoiceFeatures(inv).lines;
    // A request that is in flight across the swap keeps its version and its session.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const pinned = model.use(async (m) => {
      await gate;
      return { label: m.label, out: await m.session.runOne(ROWS[1]!) };
    });
    const results: { version: string; score: number; line: number }[] = [];
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const out = await scorer.scoreLines(inv, lines);
        for (const l of out.slice(0, 3))
          results.push({ version: l.modelVersion!, score: l.score!, line: l.lineNumber });
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    await registry.promote('coding-mismatch', '2', { actor: 'ds' });
    await expect.poll(() => scorer.version, { timeout: 5000, interval: 10 }).toBe('coding-mismatch@2');
    await new Promise((r) => setTimeout(r, 50));
    stop = true;
    await load;
    release();
    const p = await pinned;
    expect(p.label).toBe('coding-mismatch@1');
    expect(p.out.probability).toBeCloseTo(predictProbability(v1, Float32Array.from(ROWS[1]!)), 6);
    expect(swaps).toEqual(['coding-mismatch@1->coding-mismatch@2']);
    expect(errors).toEqual([]);
    const seen = new Set(results.map((r) => r.version));
    expect(seen).toEqual(new Set(['coding-mismatch@1', 'coding-mismatch@2']));
    for (const r of results) {
      const spec = specs.get(r.version)!;
      expect(r.score).toBeCloseTo(predictProbability(spec, Float32Array.from(ROWS[r.line]!)), 6);
    }
    // Once swapped, requests never go back to the old version.
    const firstV2 = results.findIndex((r) => r.version === 'coding-mismatch@2');
    expect(results.slice(firstV2).every((r) => r.version === 'coding-mismatch@2')).toBe(true);
    console.log(`hot reload: ${results.length} line scores during the swap, ${firstV2} on v1, none failed`);
    await model.close();
  });

  it('hot reload refuses a champion the service cannot serve and keeps the current one', async () => {
    await registerSpec('coding-mismatch', makeSpec({ seed: 61 }), 0.8);
    await registry.promote('coding-mismatch', '1', { actor: 'ds' });
    const other = makeSpec({ seed: 62, featureNames: ['a', 'b', 'c', 'd', 'e', 'f'] });
    await registerSpec('coding-mismatch', other, 0.9);
    const errors: unknown[] = [];
    const model = await ChampionModel.load(registry, 'coding-mismatch', {
      expected: { names: LINE_NAMES },
      watchIntervalMs: null,
      onError: (e) => errors.push(e),
    });
    await registry.promote('coding-mismatch', '2', { actor: 'ds' });
    expect(await model.reload()).toBe(false);
    expect(model.label).toBe('coding-mismatch@1');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'TRIAGE_MODEL_SIGNATURE_MISMATCH' });
    const inv = invoice();
    const out = await createModelCodingScorer({ model, vectorise }).scoreLines(
      inv,
      extractInvoiceFeatures(inv).lines,
    );
    expect(out[0]!.modelVersion).toBe('coding-mismatch@1');
    await model.close();
  });

  it('loadChampionScorers: a scorer per task with a champion, null otherwise; default groupings cover the schema', async () => {
    const spec = makeSpec({ seed: 71 });
    await registerSpec('coding-mismatch', spec, 0.8);
    await registry.promote('coding-mismatch', '1', { actor: 'ds' });
    const pairNames = PAIR_FEATURES.map((f) => f.name);
    const s = await loadChampionScorers({
      registry,
      schemas: { 'coding-mismatch': { names: LINE_NAMES }, duplicate: { names: pairNames } },
      coding: { vectorise },
      duplicate: { vectorise: () => pairNames.map(() => 0) },
      watchIntervalMs: null,
    });
    expect(s.coding?.version).toBe('coding-mismatch@1');
    expect(s.duplicate).toBeNull();
    const inv = invoice();
    const out = await s.coding!.scoreLines(inv, extractInvoiceFeatures(inv).lines);
    expect(out[0]!.explanation?.contributions.map((c) => [c.group, c.reason])).toEqual([
      ['code_unknown', 'CODE_UNKNOWN'],
      ['code_dates', 'CODE_TERMINATED'],
      ['description_fit', 'DESCRIPTION_CODE_MISMATCH'],
      ['price_vs_fee_schedule', 'PRICE_ABOVE_FEE_SCHEDULE'],
      ['line_amount', 'LINE_AMOUNT_MISMATCH'],
    ]);
    await s.close();
  });

  it('groupings cover the served line and pair features exactly once, with no feature left to "other"', () => {
    const lineNames = LINE_FEATURES.map((f) => f.name);
    const line = groupFeatures(lineNames, LINE_GROUP_RULES);
    expect(line.flatMap((g) => g.features).sort()).toEqual([...lineNames].sort());
    expect(line.map((g) => g.name)).not.toContain('other');
    expect(line.find((g) => g.name === 'description_fit')!.features).toContain('desc_ref_cosine_margin');
    expect(line.find((g) => g.name === 'printed_code')).toEqual({
      name: 'printed_code',
      features: ['printed_code_present', 'printed_code_differs'],
      reason: 'CODING_MODEL_RISK',
    });
    const pairNames = PAIR_FEATURES.map((f) => f.name);
    const pair = pairGroups(pairNames);
    expect(pair.flatMap((g) => g.features)).toEqual(pairNames);
    expect(pair.map((g) => g.name)).toEqual(
      expect.arrayContaining(['vendor_identity', 'invoice_number', 'amount', 'embedding']),
    );
    expect(groupFeatures(['desc_x', 'brand_new_feature'], LINE_GROUP_RULES).map((g) => g.name)).toEqual([
      'description_fit',
      'other',
    ]);
  });

  it('the features/ vectorisers give vectors of the served schema length', () => {
    const reference = buildReferenceIndex(loadReferenceData());
    const line = featureLineVectoriser((inv, l) => ({ reference, serviceDate: lineServiceDate(inv, l) }));
    const inv = invoice();
    const f = extractInvoiceFeatures(inv);
    // Each vectoriser reads only the model's input names.
    const lineNames = LINE_FEATURES.map((s) => s.name);
    const modelOf = (names: readonly string[]): LoadedModel =>
      ({ files: {}, session: { featureNames: names } }) as unknown as LoadedModel;
    const model = modelOf(lineNames);
    const items = inv.lines.map((l, i) => ({ line: l, features: f.lines[i]! }));
    const vectors = line(inv, items, model, undefined);
    // A model of an earlier line version (coding-mismatch@4) gets the same values, restricted to its inputs.
    const [rev3] = earlierVectorVersions('line');
    const earlier = line(inv, items, modelOf(rev3!.names), undefined);
    for (const [i, v] of vectors.entries())
      expect(earlier[i] && Array.from(earlier[i])).toEqual(
        v && rev3!.names.map((n) => v[lineNames.indexOf(n)]),
      );
    for (const [i, l] of inv.lines.entries()) {
      const v = vectors[i];
      // The coding model scores HCPCS lines only.
      if (l.code?.system === 'HCPCS') expect(v!.length).toBe(LINE_FEATURES.length);
      else expect(v).toBeNull();
    }
    expect(inv.lines.some((l) => l.code?.system === 'HCPCS')).toBe(true);
    const side = pairSideOfInvoice(inv, f);
    const pairNames = PAIR_FEATURES.map((s) => s.name);
    const v = featurePairVectoriser(comparePair(side, side, 1), modelOf(pairNames));
    expect(v.length).toBe(PAIR_FEATURES.length);
    // A model of an earlier pair edition (duplicate@2) gets the same values, restricted to its inputs.
    const [pair2] = earlierVectorVersions('pair');
    expect(pair2!.names.length).toBeLessThan(pairNames.length);
    const v2 = featurePairVectoriser(comparePair(side, side, 1), modelOf(pair2!.names));
    expect(Array.from(v2)).toEqual(pair2!.names.map((n) => v[pairNames.indexOf(n)]));
  });
});
