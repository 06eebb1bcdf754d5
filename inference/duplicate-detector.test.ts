import { describe, expect, it } from 'vitest';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { pairSideOfInvoice } from '../features/pair.js';
import type { Invoice } from '../core/invoice.js';
import type { CandidateInvoice } from '../store/repository.js';
import { candidateOf, makeInvoice } from '../test/fixtures.js';
import { assessDuplicates, differences, documentKindRule } from './duplicate-detector.js';
import { createHeuristicDuplicateScorer } from './heuristic-duplicate.js';

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
