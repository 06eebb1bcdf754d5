import { describe, expect, it } from 'vitest';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { pairSideOfInvoice } from '../features/pair.js';
import type { Invoice } from '../core/invoice.js';
import type { CandidateInvoice } from '../store/repository.js';
import { candidateOf, makeInvoice } from '../test/fixtures.js';
import {
  assessDuplicates,
  differences,
  documentKindRule,
  RULE_SCORE_CAP,
  ruleScoreCap,
} from './duplicate-detector.js';
import { createHeuristicDuplicateScorer } from './heuristic-duplicate.js';
import { DEFAULT_POLICY } from './policy.js';
import { scoreDuplicates } from './stages/duplicates.js';
import { prepare } from './stages/prepare.js';

const candidate = candidateOf;

const scorer = createHeuristicDuplicateScorer();
const assess = (inv: Invoice, cands: CandidateInvoice[]) =>
  assessDuplicates(inv, pairSideOfInvoice(inv, extractInvoiceFeatures(inv)), cands, scorer);

describe('duplicate detector document-kind rules', () => {
  const orig = makeInvoice({ invoice_id: 'orig' });
  const memo = (id: string, cents: number): Invoice => ({
    ...orig,
    invoice_id: id,
    invoice_number: `CM-${id}`,
    document_type: 'credit_memo',
    total_cents: -cents,
    lines: [{ ...orig.lines[0]!, quantity: -1, unit_price_cents: cents, amount_cents: -cents }],
  });

  it('matches a credit memo to the invoice it reverses, partly then fully', async () => {
    const partial = await assess(memo('m1', 1_500), [candidate(orig)]);
    expect(partial.reversal).toMatchObject({ reversedCents: 1_500, full: false });
    expect(partial.reversal!.candidate.invoiceId).toBe('orig');
    expect(partial.scored[0]!.rule).toBe('credit_memo_reverses_invoice');
    expect(partial.reported).toEqual([]);
    // The rest of the invoice credited later completes the reversal...
    const rest = await assess(memo('m2', 20_000), [
      candidate(orig, { reversedCents: 1_500, reversedBy: ['m1'] }),
    ]);
    expect(rest.reversal).toMatchObject({ reversedCents: 20_000, full: true });
    // ...but a credit larger than what is left reverses nothing.
    expect(
      (await assess(memo('m3', 21_000), [candidate(orig, { reversedCents: 1_500 })])).reversal,
    ).toBeNull();
  });

  it('does not flag a rebill after a full credit, but still flags one after a partial credit', async () => {
    const rebill = { ...orig, invoice_id: 'rebill' };
    const full = await assess(rebill, [candidate(orig, { reversedCents: 21_500, reversedBy: ['m'] })]);
    expect(full.scored[0]).toMatchObject({ rule: 'rebill_after_credit' });
    expect(full.scored[0]!.modelScore).toBeGreaterThan(0.9);
    expect(full.reported).toEqual([]);
    const part = await assess(rebill, [candidate(orig, { reversedCents: 1_500 })]);
    expect(part.reported[0]).toMatchObject({ rule: null });
    expect(part.reported[0]!.score).toBeGreaterThan(0.9);
    expect(documentKindRule({ ...orig, document_type: 'debit_memo' }, candidate(orig))).toBeNull();
  });

  it('lists differing fields and lines by code and amount only', () => {
    const other = structuredClone(orig);
    other.invoice_number = 'INV-1OO8';
    other.lines[1]!.amount_cents = 1_600;
    const diff = differences(
      other,
      candidate(orig),
      extractInvoiceFeatures(other).lines.map((l) => l.matchKey),
    );
    expect(diff.map((d) => d.field)).toEqual(['invoice_number', 'lines']);
    expect(diff[0]!.note).toBe("substitute '0'->'O' at 5; substitute '0'->'O' at 6");
    expect(diff[1]).toMatchObject({ this_value: ['E0570|1600'], earlier_value: ['E0570|1500'] });
  });
});

describe('explanations on demand', () => {
  it('explains the best reported pair only, with the explanation the scorer gives for it', async () => {
    const inv = makeInvoice({ invoice_id: 'q' });
    const cands = ['a', 'b', 'c'].map((id, i) =>
      candidate(makeInvoice({ invoice_id: id, invoice_number: `N-${id}` }), { embeddingDistance: 0.1 * i }),
    );
    const explained: number[] = [];
    let calls = 0;
    const lazy = {
      ...scorer,
      scorePair: (c: Parameters<typeof scorer.scorePair>[0]) => {
        const s = scorer.scorePair(c);
        const at = calls++; // a distinct mark per pair
        return {
          ...s,
          contributions: {},
          explain: () => {
            explained.push(at);
            return { contributions: { marked: at } };
          },
        };
      },
    };
    const out = await assessDuplicates(
      inv,
      pairSideOfInvoice(inv, extractInvoiceFeatures(inv)),
      cands,
      lazy,
      0,
    );
    expect(out.reported.length).toBeGreaterThan(1);
    expect(explained).toHaveLength(1);
    expect(out.reported[0]!.contributions).toEqual({ marked: explained[0] });
    expect(out.scored[0]).toBe(out.reported[0]);
    // The mark is that of the pair reported first (candidates are scored in their order).
    expect(explained[0]).toBe(cands.findIndex((c) => c.invoiceId === out.reported[0]!.candidate.invoiceId));
    expect(out.reported.slice(1).every((s) => Object.keys(s.contributions).length === 0)).toBe(true);
  });
});

describe('rule caps stay below review', () => {
  const orig = makeInvoice({ invoice_id: 'orig' });

  it('a rebill after a full credit is not sent to review (cap below the review threshold)', async () => {
    expect(ruleScoreCap(0.027)).toBe(0.0135);
    expect(ruleScoreCap(0.5)).toBe(RULE_SCORE_CAP);
    const policy = { ...DEFAULT_POLICY, duplicateReview: 0.027 };
    const r = await scoreDuplicates(
      prepare({ ...orig, invoice_id: 'rebill' }),
      [candidate(orig, { reversedCents: 21_500, reversedBy: ['m'] })],
      scorer,
      policy,
      0.3,
    );
    expect(r.assessment.scored[0]).toMatchObject({ rule: 'rebill_after_credit' });
    expect(r.assessment.scored[0]!.modelScore).toBeGreaterThan(0.9);
    expect(r.assessment.scored[0]!.score).toBe(0.0135);
    expect(r.score).toBeLessThan(policy.duplicateReview);
    expect(r.flagged).toBeNull();
    expect(r.reasons).toEqual([]);
  });
});

describe('look-alikes: evidence of two bills', () => {
  it('same-day deliveries with sequential numbers (BSW-20411 then BSW-20412) are two bills', async () => {
    const first = makeInvoice({ invoice_id: 'd1', invoice_number: 'BSW-20411', po_number: undefined });
    const second = { ...first, invoice_id: 'd2', invoice_number: 'BSW-20412' };
    const r = await assess(second, [candidate(first)]);
    expect(r.scored[0]!.modelScore).toBeGreaterThan(0.5);
    expect(r.scored[0]).toMatchObject({ rule: 'sequential_numbers' });
    expect(r.reported).toEqual([]);
    // a re-key that is not the next number of the series stays a suspected duplicate
    const rekeyed = await assess({ ...first, invoice_id: 'd3', invoice_number: 'BSW-24011' }, [
      candidate(first),
    ]);
    expect(rekeyed.scored[0]!.rule).toBeNull();
    // an unrelated vendor's next number is no evidence either way
    const other = await assess({ ...second, vendor: { id: 'V-999', name: 'Borealis Surgical Wholesale' } }, [
      candidate(first),
    ]);
    expect(other.scored[0]!.rule).toBeNull();
  });

  it('monthly invoices printing one contract number with consecutive service periods are not held', async () => {
    const month = (id: string, start: string, end: string): Invoice =>
      makeInvoice({
        invoice_id: id,
        invoice_number: 'CONTRACT-4471',
        invoice_date: end,
        service_period: { start, end },
      });
    const m1 = month('m1', '2025-01-01', '2025-01-31');
    const m2 = month('m2', '2025-02-01', '2025-02-28');
    const m3 = month('m3', '2025-03-01', '2025-03-31');
    const r = await assess(m3, [candidate(m2), candidate(m1)]);
    expect(r.scored.find((x) => x.candidate.invoiceId === 'm2')).toMatchObject({
      rule: 'separate_service_periods',
    });
    expect(r.scored.find((x) => x.candidate.invoiceId === 'm2')!.modelScore).toBeGreaterThan(0.3);
    expect(r.scored.find((x) => x.candidate.invoiceId === 'm1')!.rule).toBe('separate_service_periods');
    expect(r.reported).toEqual([]);
    // the next month under a new number is two bills too
    const renumbered = await assess({ ...m3, invoice_number: 'INV-9313' }, [candidate(m2)]);
    expect(renumbered.scored[0]!.rule).toBe('separate_service_periods');
    // the same month billed again is still a duplicate
    const again = await assess({ ...m2, invoice_id: 'm2-again' }, [candidate(m2)]);
    expect(again.reported[0]).toMatchObject({ rule: null });
    expect(again.reported[0]!.score).toBeGreaterThan(0.9);
  });
});

describe('receipts that print no number', () => {
  it('are compared as if the numbers agreed with a same-vendor, same-day, same-total twin, so a made-up number cannot hide a duplicate', async () => {
    const receipt = makeInvoice({
      invoice_id: 'r1',
      invoice_number: 'NONUM-1A2B3C4D5E',
      po_number: undefined,
    });
    const copy = { ...receipt, invoice_id: 'r2', invoice_number: 'NONUM-9F8E7D6C5B' };
    const r = await assess(copy, [candidate(receipt, { sources: ['exact_key'] })]);
    expect(r.scored[0]!.invoiceNumberNeutralised).toBe(true);
    expect(r.reported[0]!.score).toBeGreaterThan(0.9);
    // control: another number-less receipt of the shop, another day and total, stays two sales
    const other = await assess({ ...copy, invoice_date: '2025-03-02', total_cents: copy.total_cents + 700 }, [
      candidate(receipt, { sources: ['knn'] }),
    ]);
    expect(other.scored[0]!.invoiceNumberNeutralised).toBeUndefined();
    // control: two printed numbers that differ keep their comparison
    const numbered = await assess({ ...copy, invoice_number: 'RCPT-77310' }, [
      candidate({ ...receipt, invoice_number: 'RCPT-10452' }),
    ]);
    expect(numbered.scored[0]!.invoiceNumberNeutralised).toBeUndefined();
    expect(numbered.scored[0]!.score).toBeLessThan(r.scored[0]!.score);
  });
});
