/**
 * Look-alikes through the served pipeline with the shipped duplicate champion (issue 14 item 7):
 * vendor identity weighed consistently (an O/0-swapped number at an unrelated vendor never
 * scores above the same number at that vendor), vendor names that differ by one generic word
 * ("Bank of the West" / "Bank of the East") are two vendors, same-day deliveries with sequential
 * numbers are two bills, and a vendor's billing rhythm
 * (monthly invoices printing one contract reference, consecutive service periods) is two bills.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedModelsDir, wire, type Wired } from '../bin/bootstrap.js';
import type { Invoice } from '../core/invoice.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { pairSideOfInvoice } from '../features/pair.js';
import { assessDuplicates } from '../inference/duplicate-detector.js';
import type { DuplicatePairScorer, PairScore } from '../inference/scorers.js';
import type { ModelCard } from '../models/card.js';
import { ambulanceInvoice, candidateOf, engines } from './fixtures.js';

const dir = join(shippedModelsDir(), 'duplicate');
const version = (JSON.parse(readFileSync(join(dir, 'aliases.json'), 'utf8')) as { champion: string })
  .champion;
const card = JSON.parse(readFileSync(join(dir, version, 'card.json'), 'utf8')) as ModelCard;

/** An unrelated vendor's invoice (other id, tax id, name, amount and lines) under a given number. */
const unrelated = (id: string, invoiceNumber: string): Invoice => ({
  invoice_id: id,
  vendor: { id: 'V-771203', name: 'Northgate Oxygen & Respiratory', tax_id: '41-8830172' },
  invoice_number: invoiceNumber,
  invoice_date: '2024-07-03',
  due_date: '2024-08-02',
  currency: 'USD',
  total_cents: 18_640,
  document_type: 'invoice',
  lines: [
    {
      line_number: 1,
      description: 'Oxygen concentrator, single delivery port, monthly rental',
      code: { system: 'HCPCS', value: 'E1390' },
      quantity: 1,
      unit_price_cents: 18_640,
      amount_cents: 18_640,
      service_date: '2024-07-01',
    },
  ],
});

describe('look-alikes through the served pipeline (duplicate champion)', () => {
  let w: Wired;
  beforeAll(async () => {
    // PostgreSQL when configured (CI), else PGlite
    w = await wire(engines('lookalikes').at(-1)!.config(), { models: { reloadMs: null } });
  }, 300_000);
  afterAll(async () => {
    await w?.repo.close();
    await w?.closeModels();
  });

  it('an O/0-swapped number at an unrelated vendor never scores above the same number there', async () => {
    const original = ambulanceInvoice({ invoice_id: 'orig' });
    // the same earlier invoice in two tenants; the later one prints the number exactly, or with
    // one 0 read as O
    await w.scoring.score(original, 'o0-exact');
    await w.scoring.score(original, 'o0-swap');
    const exact = await w.scoring.score(unrelated('u1', 'HAS-2024-00027'), 'o0-exact');
    const swapped = await w.scoring.score(unrelated('u1', 'HAS-2024-O0027'), 'o0-swap');
    expect(swapped.decision.scores.duplicate).toBeLessThanOrEqual(exact.decision.scores.duplicate);
    for (const d of [exact.decision, swapped.decision]) {
      expect(d.duplicates).toEqual([]);
      expect(d.reasons.filter((r) => r.code.startsWith('DUPLICATE'))).toEqual([]);
    }
    // the same swap at the same vendor is still a suspected duplicate of the original
    const rekeyed = await w.scoring.score(
      ambulanceInvoice({ invoice_id: 'again', invoice_number: 'HAS-2024-O0027' }),
      'o0-swap',
    );
    expect(['REVIEW', 'HOLD']).toContain(rekeyed.decision.decision);
    expect(rekeyed.decision.duplicates[0]).toMatchObject({ invoice_id: 'orig' });
  });

  it('"Bank of the West" and "Bank of the East" are two vendors, not a vendor variant', async () => {
    const west = ambulanceInvoice({
      invoice_id: 'bw',
      vendor: { id: 'V-BW', name: 'Bank of the West' },
      invoice_number: 'BW-88120',
    });
    const east = ambulanceInvoice({
      invoice_id: 'be',
      vendor: { id: 'V-BE', name: 'Bank of the East' },
      invoice_number: 'BE-40317',
      invoice_date: '2024-07-05',
      total_cents: 47_717,
      lines: [
        west.lines[0]!,
        { ...west.lines[1]!, quantity: 1, amount_cents: 1_306, unit_price_cents: 1_306 },
      ],
    });
    await w.scoring.score(west, 'banks');
    const d = (await w.scoring.score(east, 'banks')).decision;
    expect(d.duplicates).toEqual([]);
    expect(d.scores.duplicate).toBeLessThan(card.thresholds.autoApprove);
  });

  it('same-day deliveries with sequential numbers (BSW-20411 then BSW-20412) are two bills', async () => {
    const first = ambulanceInvoice({ invoice_id: 'seq-1', invoice_number: 'BSW-20411' });
    await w.scoring.score(first, 'sequential');
    const next = (
      await w.scoring.score({ ...first, invoice_id: 'seq-2', invoice_number: 'BSW-20412' }, 'sequential')
    ).decision;
    expect(next.duplicates).toEqual([]);
    expect(next.reasons.filter((r) => r.code.startsWith('DUPLICATE'))).toEqual([]);
    expect(next.scores.duplicate).toBeLessThan(card.thresholds.autoApprove);
    // the same delivery billed again under its own number is still a duplicate
    const again = await w.scoring.score({ ...first, invoice_id: 'seq-1-again' }, 'sequential');
    expect(again.decision.duplicates[0]).toMatchObject({ invoice_id: 'seq-1' });
  });

  it('monthly invoices printing one contract reference with consecutive service periods are four bills', async () => {
    const month = (m: number): Invoice =>
      ambulanceInvoice({
        invoice_id: `month-${m}`,
        invoice_number: 'CONTRACT-4471',
        invoice_date: `2024-0${m}-28`,
        service_period: { start: `2024-0${m}-01`, end: `2024-0${m}-28` },
        lines: ambulanceInvoice({}).lines.map((l) => ({ ...l, service_date: `2024-0${m}-15` })),
      });
    const decisions = [];
    for (const m of [1, 2, 3, 4]) decisions.push((await w.scoring.score(month(m), 'rhythm')).decision);
    for (const d of decisions.slice(1)) {
      expect(d.decision).not.toBe('HOLD');
      expect(d.duplicates).toEqual([]);
      expect(d.scores.duplicate).toBeLessThan(card.thresholds.autoApprove);
    }
    // the same month billed again is a duplicate
    const again = await w.scoring.score({ ...month(3), invoice_id: 'month-3-again' }, 'rhythm');
    expect(again.decision.duplicates[0]).toMatchObject({ invoice_id: 'month-3' });
  });
});

describe('vendor identity weighed consistently, whatever the pair scorer', () => {
  it('at an unrelated vendor a look-alike number keeps the score of the number agreeing', async () => {
    // a pair scorer that (wrongly) trusts a one-edit number more than an exact one
    const perverse: DuplicatePairScorer<PairScore> = {
      task: 'duplicate',
      kind: 'heuristic',
      version: 'perverse@1',
      scorePair: (c) => ({
        score: c.invoiceNumberEqual ? 0.01 : c.invoiceNumberCanonicalEqual ? 0.7 : 0.02,
        contributions: {},
        rule: null,
      }),
    };
    const earlier = ambulanceInvoice({ invoice_id: 'orig' });
    const assess = (inv: Invoice) =>
      assessDuplicates(
        inv,
        pairSideOfInvoice(inv, extractInvoiceFeatures(inv)),
        [candidateOf(earlier)],
        perverse,
      );
    const swapped = await assess(unrelated('u', 'HAS-2024-O0027'));
    const exact = await assess(unrelated('u', 'HAS-2024-00027'));
    expect(exact.scored[0]!.score).toBe(0.01);
    expect(swapped.scored[0]!.score).toBe(0.01);
    expect(swapped.scored[0]!.invoiceNumberNeutralised).toBe(true);
    // at the same vendor the number's agreement is evidence as scored
    const sameVendor = await assess(
      ambulanceInvoice({ invoice_id: 'again', invoice_number: 'HAS-2024-O0027' }),
    );
    expect(sameVendor.scored[0]!.score).toBe(0.7);
    expect(sameVendor.scored[0]!.invoiceNumberNeutralised).toBeUndefined();
  });
});
