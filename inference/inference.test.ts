import { beforeAll, describe, expect, it } from 'vitest';
import { loadReferenceData } from '../datasets/reference.js';
import { extractInvoiceFeatures } from '../features/index.js';
import { comparePair, pairSideOfInvoice, type PairSide } from '../features/pair.js';
import {
  createHeuristicCodingScorer,
  createHeuristicDuplicateScorer,
  DEFAULT_POLICY,
  priorityDollars,
  route,
  type CodingMismatchScorer,
} from './index.js';
import { makeInvoice } from '../test/fixtures.js';
import {
  buildReferenceIndex,
  feeNotComparable,
  referenceFee,
  type ReferenceIndex,
} from '../features/reference-index.js';
import { lineFeatures } from '../features/line-features.js';
import type { Invoice } from '../core/invoice.js';
import type { ReasonCode } from '../core/decision.js';

let index: ReferenceIndex;
let coding: CodingMismatchScorer;

beforeAll(() => {
  index = buildReferenceIndex(loadReferenceData());
  coding = createHeuristicCodingScorer(index);
});

function scoreOne(line: Partial<Invoice['lines'][number]>, over: Partial<Invoice> = {}) {
  const inv = makeInvoice({
    ...over,
    lines: [
      { line_number: 1, description: 'x', quantity: 1, unit_price_cents: 100, amount_cents: 100, ...line },
    ],
  });
  return coding.scoreLines(inv, extractInvoiceFeatures(inv).lines)[0]!;
}

describe('heuristic coding-mismatch scorer (real HCPCS 2025 + CMS fee schedules)', () => {
  it('passes a description that fits its code', () => {
    const s = scoreOne({
      description: 'Oxygen concentrator, single delivery port',
      code: { system: 'HCPCS', value: 'E1390' },
      modifiers: ['RR'],
    });
    expect(s.score).toBeLessThan(0.2);
    expect(s.reasons).toEqual([]);
  });

  it('flags a wheelchair description billed as an oxygen concentrator and suggests wheelchair codes', () => {
    const s = scoreOne({
      description: 'Standard wheelchair, fixed full length arms',
      code: { system: 'HCPCS', value: 'E1390' },
    });
    expect(s.score).toBeGreaterThan(0.5);
    expect(s.reasons.map((r) => r.code)).toContain('DESCRIPTION_CODE_MISMATCH');
    expect(s.suggestedCodes.length).toBe(3);
    expect(s.suggestedCodes.every((c) => c.value.startsWith('E1'))).toBe(true);
    expect(s.suggestedCodes.map((c) => c.value)).not.toContain('E1390');
  });

  it('flags an unknown code', () => {
    const s = scoreOne({ description: 'Oxygen concentrator', code: { system: 'HCPCS', value: 'E9999' } });
    expect(s.reasons.map((r) => r.code)).toEqual(['CODE_UNKNOWN']);
    expect(s.score).toBeCloseTo(0.95, 3);
  });

  it('flags a code billed after its termination date', () => {
    const terminated = [...loadReferenceData().hcpcs.values()].find(
      (c) => c.terminationDate !== null && c.terminationDate < '2024-12-31',
    )!;
    const s = scoreOne(
      { description: terminated.longDescription, code: { system: 'HCPCS', value: terminated.code } },
      { invoice_date: '2025-03-01' },
    );
    expect(s.reasons.map((r) => r.code)).toContain('CODE_TERMINATED');
    expect(s.reasons.find((r) => r.code === 'CODE_TERMINATED')!.evidence.termination_date).toBe(
      terminated.terminationDate,
    );
  });

  it('flags a unit price five times the DMEPOS fee and cites the fee', () => {
    const fee = referenceFee(index.fees('E0570'), [])!;
    expect(fee.source).toBe('DMEPOS');
    const s = scoreOne({
      description: 'Nebulizer with compressor',
      code: { system: 'HCPCS', value: 'E0570' },
      unit_price_cents: fee.amountCents * 5,
      amount_cents: fee.amountCents * 5,
    });
    const r = s.reasons.find((x) => x.code === 'PRICE_ABOVE_FEE_SCHEDULE');
    expect(r).toBeDefined();
    expect(r!.evidence.fee_schedule_cents).toBe(fee.amountCents);
    expect(r!.evidence.ratio).toBeCloseTo(5, 2);
    const fair = scoreOne({
      description: 'Nebulizer with compressor',
      code: { system: 'HCPCS', value: 'E0570' },
      unit_price_cents: fee.amountCents,
      amount_cents: fee.amountCents,
    });
    expect(fair.reasons.map((x) => x.code)).not.toContain('PRICE_ABOVE_FEE_SCHEDULE');
  });

  it('does not compare a KWD or JPY invoice with the USD fee schedule (fee unknown, no price reason)', () => {
    const fee = referenceFee(index.fees('E0570'), [])!;
    const line = {
      description: 'Nebulizer with compressor',
      code: { system: 'HCPCS' as const, value: 'E0570' },
      unit_price_cents: fee.amountCents * 5,
      amount_cents: fee.amountCents * 5,
    };
    for (const currency of ['KWD', 'JPY']) {
      const s = scoreOne(line, { currency });
      expect(s.reasons.map((x) => x.code)).not.toContain('PRICE_ABOVE_FEE_SCHEDULE');
      const inv = makeInvoice({ currency, lines: [{ line_number: 1, quantity: 1, ...line }] });
      const f = lineFeatures(inv.lines[0]!, { reference: index, serviceDate: inv.invoice_date, currency });
      expect(f.values.fee_known ?? 0).toBe(0);
      expect(f.values.unit_price_fee_log_ratio ?? 0).toBe(0);
      expect(f.evidence.feeCents).toBeNull();
    }
    expect(feeNotComparable('KWD')).toBe('not comparable: invoice in KWD, fee schedule in USD');
    expect(feeNotComparable('USD')).toBeNull();
    const usd = makeInvoice({ lines: [{ line_number: 1, quantity: 1, ...line }] });
    const fu = lineFeatures(usd.lines[0]!, {
      reference: index,
      serviceDate: usd.invoice_date,
      currency: 'USD',
    });
    expect(fu.values.fee_known).toBe(1);
  });

  it('does not score lines without an HCPCS code', () => {
    expect(scoreOne({ description: 'Plastic bag' }).score).toBeNull();
    expect(
      scoreOne({ description: 'Office visit', code: { system: 'CPT', value: '99213' } }).reasons[0]!.code,
    ).toBe('CODE_SYSTEM_UNVERIFIED');
  });
});

const side = (inv: Invoice): PairSide => pairSideOfInvoice(inv, extractInvoiceFeatures(inv));

describe('heuristic duplicate pair scorer', () => {
  const dup = createHeuristicDuplicateScorer();
  const original = makeInvoice();

  it('scores an exact resubmission near 1 with contributions that add up', () => {
    const s = dup.scorePair(comparePair(side(makeInvoice({ invoice_id: 'b' })), side(original), 1));
    expect(s.score).toBeGreaterThan(0.99);
    const z = -6 + Object.values(s.contributions).reduce((a, b) => a + b, 0);
    expect(1 / (1 + Math.exp(-z))).toBeCloseTo(s.score, 3);
  });

  it('scores a re-keyed number with a vendor-name variant as a duplicate', () => {
    const rekeyed = makeInvoice({
      invoice_id: 'c',
      invoice_number: 'INV-10O8',
      vendor: { id: 'V-100', name: 'ACME MEDICAL SUPPLY INC' },
    });
    expect(dup.scorePair(comparePair(side(rekeyed), side(original), 0.97)).score).toBeGreaterThan(0.9);
  });

  it('does not flag the next month of a recurring rental (hard negative)', () => {
    const march = makeInvoice({ service_period: { start: '2025-03-01', end: '2025-03-31' } });
    const april = makeInvoice({
      invoice_id: 'd',
      invoice_number: 'INV-1102',
      invoice_date: '2025-04-01',
      due_date: '2025-04-30',
      service_period: { start: '2025-04-01', end: '2025-04-30' },
    });
    expect(dup.scorePair(comparePair(side(april), side(march), 0.9)).score).toBeLessThan(0.3);
  });

  it('does not flag a repeat purchase: same vendor and amount, another number a week later', () => {
    const again = makeInvoice({
      invoice_id: 'g',
      invoice_number: 'INV-1187',
      invoice_date: '2025-03-08',
      due_date: '2025-04-07',
    });
    expect(dup.scorePair(comparePair(side(again), side(original), 0.95)).score).toBeLessThan(0.5);
    // ...but the same re-numbered invoice on the same date stays suspicious.
    const renumbered = makeInvoice({ invoice_id: 'h', invoice_number: 'INV-1187' });
    expect(dup.scorePair(comparePair(side(renumbered), side(original), 0.95)).score).toBeGreaterThan(0.6);
  });

  it('treats a credit memo against its invoice as a reversal', () => {
    const credit = makeInvoice({ invoice_id: 'e', document_type: 'credit_memo' });
    const s = dup.scorePair(comparePair(side(credit), side(original), 1));
    expect(s.rule).toBe('credit_memo_reverses_invoice');
    expect(s.score).toBeLessThanOrEqual(0.05);
  });

  it('does not flag a different vendor with the same amount and date', () => {
    const other = makeInvoice({
      invoice_id: 'f',
      vendor: { id: 'V-2', name: 'Northside Clinical Lab' },
      invoice_number: '55-201',
    });
    expect(dup.scorePair(comparePair(side(other), side(original), 0.7)).score).toBeLessThan(0.3);
  });
});

describe('routing policy and priority', () => {
  const r = (code: ReasonCode, weight: number) => ({ code, message: '', weight, evidence: {} });
  it('holds likely duplicates, reviews exceptions in the heaviest reason queue, approves the rest', () => {
    expect(
      route(DEFAULT_POLICY, { coding_mismatch: 0.1, duplicate: 0.95 }, [r('DUPLICATE_SUSPECTED', 0.95)]),
    ).toEqual({ decision: 'HOLD', queue: 'ap' });
    expect(
      route(DEFAULT_POLICY, { coding_mismatch: 0.8, duplicate: 0 }, [r('DESCRIPTION_CODE_MISMATCH', 0.8)]),
    ).toEqual({ decision: 'REVIEW', queue: 'coding' });
    expect(
      route(DEFAULT_POLICY, { coding_mismatch: 0, duplicate: 0 }, [
        r('NPI_INVALID', 0.8),
        r('TOTAL_MISMATCH', 0.6),
      ]),
    ).toEqual({ decision: 'REVIEW', queue: 'compliance' });
    expect(route(DEFAULT_POLICY, { coding_mismatch: 0.2, duplicate: 0.1 }, [r('CODE_MISSING', 0)])).toEqual({
      decision: 'AUTO_APPROVE',
      queue: undefined,
    });
  });

  it('computes priority as expected dollars at risk', () => {
    expect(priorityDollars(100_000, 0.5, [{ amountCents: 100_000, codingScore: 0.1 }])).toBe(500);
    expect(
      priorityDollars(100_000, 0, [
        { amountCents: 60_000, codingScore: 0.5 },
        { amountCents: 40_000, codingScore: null },
      ]),
    ).toBe(300);
  });
});
