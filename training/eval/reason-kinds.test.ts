/**
 * The evaluation's attribution of reason codes to the benchmark's coding kinds
 * (`REASON_TO_KIND`): every coding-queue reason code is either mapped or deliberately unmapped,
 * a line caught with a mapped reason is credited to its kind by the harness, and a price below
 * the fee names no kind because no `price_outlier` line is priced below the fee the service knows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASON_CODES, type DecisionResponse, type ReasonCode } from '../../core/decision.js';
import type { Invoice } from '../../core/invoice.js';
import { generateBenchmark } from '../../datasets/benchmark/generator.js';
import { readSplitRecords } from '../../datasets/benchmark/read.js';
import { CODING_KINDS, type BenchmarkRecord, type CodingKind } from '../../datasets/benchmark/types.js';
import { loadReferenceData } from '../../datasets/reference.js';
import { referenceFee } from '../../features/reference-index.js';
import { evaluate } from './harness.js';
import {
  REASON_TO_KIND,
  UNMAPPED_CODING_REASONS,
  createServiceDetector,
  kindOfReason,
  type ScoringServiceLike,
} from './service-detector.js';

const PRICE_OUTLIER_K = 3;

describe('REASON_TO_KIND covers the coding reason codes', () => {
  it('maps or deliberately leaves out every coding-queue code, never both', () => {
    const coding = Object.entries(REASON_CODES)
      .filter(([, r]) => r.queue === 'coding')
      .map(([code]) => code)
      .sort();
    const mapped = Object.keys(REASON_TO_KIND);
    const unmapped = Object.keys(UNMAPPED_CODING_REASONS);
    expect([...mapped, ...unmapped].sort()).toEqual(coding);
    expect(mapped.filter((c) => unmapped.includes(c))).toEqual([]);
    expect(coding.length).toBeGreaterThan(10);
  });

  it('maps to benchmark kinds only; a code outside the vendor profile names outside_vendor_categories', () => {
    for (const kind of Object.values(REASON_TO_KIND)) expect(CODING_KINDS).toContain(kind);
    expect(kindOfReason('CODE_OUTSIDE_VENDOR_PROFILE')).toBe('outside_vendor_categories');
    expect(kindOfReason('PRICE_ABOVE_FEE_SCHEDULE')).toBe('price_outlier');
    expect(kindOfReason('PRICE_BELOW_FEE_SCHEDULE')).toBeNull();
    expect(kindOfReason('QUANTITY_IMPLAUSIBLE')).toBeNull();
    expect(kindOfReason('LINE_AMOUNT_MISMATCH')).toBeNull();
  });
});

let dir: string;
let test: BenchmarkRecord[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'eval-kinds-'));
  await generateBenchmark({
    invoices: 400,
    seed: 17,
    out: dir,
    reference: loadReferenceData(),
    priceOutlierK: PRICE_OUTLIER_K,
    rates: { price_outlier: 0.2, outside_vendor_categories: 0.2 },
  });
  test = await readSplitRecords(dir, 'test');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Lines of `kind` in the test split, as `invoice_id#line_number`. */
function linesOf(kind: CodingKind): Set<string> {
  return new Set(
    test.flatMap((r) =>
      r.label.coding.filter((c) => c.kind === kind).map((c) => `${r.invoice.invoice_id}#${c.line_number}`),
    ),
  );
}

/**
 * A stand-in for the scoring service: every line in `flagged` is scored 0.9 with `code` as its
 * one reason, every other line 0.01 without reasons.
 */
function stubService(code: ReasonCode, flagged: ReadonlySet<string>): ScoringServiceLike {
  return {
    versions: { models: {}, policy: 'stub' } as unknown as ScoringServiceLike['versions'],
    score(inv: Invoice) {
      const lines = inv.lines.map((l) => {
        const hit = flagged.has(`${inv.invoice_id}#${l.line_number}`);
        return {
          line_number: l.line_number,
          coding_mismatch: hit ? 0.9 : 0.01,
          reasons: hit
            ? [
                {
                  code,
                  message: REASON_CODES[code].summary,
                  weight: 0.9,
                  evidence: { line_number: l.line_number },
                },
              ]
            : [],
        };
      });
      const reasons = lines.flatMap((l) => l.reasons);
      const decision = {
        decision: reasons.length > 0 ? 'REVIEW' : 'AUTO_APPROVE',
        queue: reasons.length > 0 ? 'coding' : undefined,
        reasons,
        scores: { duplicate: 0 },
        duplicates: [],
        lines,
      } as unknown as DecisionResponse;
      return Promise.resolve({ decision, created: true });
    },
  };
}

/** The coding part of the harness's report of the stub flagging `flagged` with `code`. */
async function codingReport(code: ReasonCode, flagged: ReadonlySet<string>) {
  const detector = createServiceDetector(stubService(code, flagged), {
    duplicateThreshold: 0.6,
    codingThreshold: 0.5,
  });
  const report = await evaluate(dir, [detector], { split: 'test' });
  return report.detectors[0]!.coding!;
}

describe('the harness credits a line caught with a mapped reason to its kind', () => {
  it.each([
    ['CODE_OUTSIDE_VENDOR_PROFILE', 'outside_vendor_categories'],
    ['PRICE_ABOVE_FEE_SCHEDULE', 'price_outlier'],
  ] as const)('%s on %s lines', async (code, kind) => {
    const positives = linesOf(kind);
    expect(positives.size).toBeGreaterThan(5);
    // One clean line flagged with the same reason: named the kind too, against its precision.
    const clean = test.find((r) => r.label.coding.length === 0 && r.invoice.lines.length > 0)!;
    const coding = await codingReport(code, new Set([...positives, `${clean.invoice.invoice_id}#1`]));
    expect(coding.byKind[kind].at.recall).toBe(1);
    expect(coding.confusion[kind]).toEqual({ [kind]: positives.size });
    expect(coding.confusion['clean']?.[kind]).toBe(1);
    expect(coding.byKind[kind].kindPrecision).toBeCloseTo(positives.size / (positives.size + 1), 12);
    for (const k of CODING_KINDS.filter((x) => x !== kind)) expect(coding.byKind[k].kindPrecision).toBeNaN();
  });
});

describe('a price below the fee names no kind', () => {
  it('no price_outlier line is priced below the fee the service knows for its code and modifiers', async () => {
    const ref = loadReferenceData();
    const ratios = (await readSplitRecords(dir)).flatMap((r) =>
      r.label.coding
        .filter((c) => c.kind === 'price_outlier')
        .map((c) => {
          const line = r.invoice.lines.find((l) => l.line_number === c.line_number)!;
          const fee = referenceFee(ref.fees.get(line.code!.value) ?? [], line.modifiers ?? []);
          return line.unit_price_cents / fee!.amountCents;
        }),
    );
    expect(ratios.length).toBeGreaterThan(50);
    expect(Math.min(...ratios)).toBeGreaterThanOrEqual(PRICE_OUTLIER_K);
  });

  it('a price_outlier line flagged with PRICE_BELOW_FEE_SCHEDULE is caught but named no kind', async () => {
    const positives = linesOf('price_outlier');
    const coding = await codingReport('PRICE_BELOW_FEE_SCHEDULE', positives);
    expect(coding.byKind.price_outlier.at.recall).toBe(1);
    expect(coding.confusion['price_outlier']).toEqual({ flagged: positives.size });
    expect(coding.byKind.price_outlier.kindPrecision).toBeNaN();
  });
});
