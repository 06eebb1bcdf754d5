/**
 * Duplicate detector and explanations through app.inject(), on both store engines:
 * document-kind rules (a credit memo reverses its invoice; a rebill after a full credit is not
 * a duplicate), field-by-field differences with the exact invoice-number edit, and the
 * explanation of GET /v1/decisions/:id: contributions that add up to the scores, CMS
 * descriptions of billed and suggested codes, versions, and no invoice text (no PHI).
 */
import { describe, expect, it } from 'vitest';
import type { DecisionResponse, DecisionWithExplanation } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { engines, makeInvoice } from './fixtures.js';
import { useHarness } from './harness.js';

const credit = (inv: Invoice, over: Partial<Invoice>): Invoice => ({
  ...inv,
  document_type: 'credit_memo',
  total_cents: -inv.total_cents,
  lines: inv.lines.map((l) => ({ ...l, quantity: -l.quantity, amount_cents: -l.amount_cents })),
  ...over,
});

describe.each(engines('dups'))('duplicates and explanations on $name', ({ config }) => {
  const ref = useHarness(config());
  const score = (i: Invoice): Promise<DecisionResponse> => ref.h.scoreOk(i);
  const read = async (id: string) => {
    const r = await ref.h.call('auditor', { method: 'GET', url: `/v1/decisions/${id}` });
    expect(r.statusCode).toBe(200);
    return { body: r.body, d: r.json<DecisionWithExplanation>() };
  };

  it('a KWD or JPY invoice is not held on the USD fee schedule; its explanation says why', async () => {
    for (const currency of ['KWD', 'JPY']) {
      const inv = makeInvoice({
        invoice_id: `fx-${currency}`,
        invoice_number: `FX-${currency}`,
        currency,
        lines: [
          {
            line_number: 1,
            description: 'Nebulizer with compressor',
            code: { system: 'HCPCS', value: 'E0570' },
            quantity: 1,
            unit_price_cents: 123450,
            amount_cents: 123450,
          },
        ],
        total_cents: 123450,
      } as Partial<Invoice>);
      const d = await score(inv);
      expect(d.reasons.map((r) => r.code)).not.toContain('PRICE_ABOVE_FEE_SCHEDULE');
      const ex = (await read(d.decision_id)).d.explanation!;
      expect(ex.evidence.lines[0]!.fee_schedule).toBe(
        `not comparable: invoice in ${currency}, fee schedule in USD`,
      );
    }
    const usd = await score(makeInvoice({ invoice_id: 'fx-USD', invoice_number: 'FX-USD' }));
    expect((await read(usd.decision_id)).d.explanation!.evidence.lines[0]!.fee_schedule).toBeUndefined();
  });

  it('pairs a credit memo with the invoice it reverses, and does not flag the rebill after it', async () => {
    const orig = makeInvoice({
      invoice_id: 'cm-orig',
      invoice_number: 'SR-100',
      vendor: { id: 'V-500', name: 'Summit Respiratory' },
      invoice_date: '2025-04-01',
      due_date: '2025-05-01',
    });
    expect((await score(orig)).decision).toBe('AUTO_APPROVE');
    const memo = await score(
      credit(orig, { invoice_id: 'cm-memo', invoice_number: 'CM-100', invoice_date: '2025-04-10' }),
    );
    expect(memo.reverses).toEqual({
      invoice_id: 'cm-orig',
      decision_id: expect.any(String),
      reversed_cents: 21_500,
      full: true,
    });
    expect(memo.reasons.map((r) => r.code)).not.toContain('DUPLICATE_SAME_NUMBER');
    expect(memo.decision).toBe('AUTO_APPROVE');

    // The vendor rebills under the same number after crediting the original: not a duplicate.
    const rebill = await score({
      ...orig,
      invoice_id: 'cm-rebill',
      invoice_date: '2025-04-12',
      due_date: '2025-05-12',
    });
    expect(rebill.decision).toBe('AUTO_APPROVE');
    const ex = (await read(rebill.decision_id)).d.explanation!;
    const pair = ex.evidence.duplicates.find((x) => x.invoice_id === 'cm-orig')!;
    expect(pair.rule).toBe('rebill_after_credit');
    expect(pair.model_score).toBeGreaterThan(0.9);
    expect(pair.score).toBeLessThanOrEqual(0.05);

    // Control: the same resubmission without a credit memo is held.
    const other = { ...orig, vendor: { id: 'V-501', name: 'Peak Oxygen Works' }, invoice_id: 'cm-ctl-1' };
    await score(other);
    const resub = await score({
      ...other,
      invoice_id: 'cm-ctl-2',
      invoice_date: '2025-04-12',
      due_date: '2025-05-12',
    });
    expect(resub.decision).toBe('HOLD');
    expect(resub.reasons[0]!.code).toBe('DUPLICATE_SAME_NUMBER');
  });

  it('names the earlier invoice, each differing field with the exact number edit, and its approval', async () => {
    const orig = makeInvoice({
      invoice_id: 'df-orig',
      invoice_number: 'KD-7701',
      vendor: { id: 'V-600', name: 'Keystone DME Co.' },
      invoice_date: '2025-05-05',
      due_date: '2025-06-04',
    });
    await score(orig);
    const changed = structuredClone(orig);
    changed.invoice_id = 'df-dup';
    changed.invoice_number = 'KD-77O1';
    changed.vendor = { id: 'V-600', name: 'KEYSTONE DME COMPANY' };
    changed.po_number = 'PO-78';
    changed.lines[1] = { ...changed.lines[1]!, unit_price_cents: 1_600, amount_cents: 1_600 };
    changed.total_cents = 21_600;
    const d = await score(changed);
    expect(d.decision).toBe('HOLD');
    const m = d.duplicates[0]!;
    expect(m).toMatchObject({
      invoice_id: 'df-orig',
      earlier_decision: 'AUTO_APPROVE',
      earlier_document_type: 'invoice',
      earlier_approved: true,
      earlier_approval: 'auto_approved',
      rule: null,
    });
    expect(m.match_sources).toEqual(expect.arrayContaining(['knn', 'vendor_knn', 'exact_key']));
    const byField = Object.fromEntries(m.differences.map((x) => [x.field, x]));
    expect(byField.invoice_number).toMatchObject({
      this_value: 'KD-77O1',
      earlier_value: 'KD-7701',
      note: "substitute '0'->'O' at 5",
    });
    expect(byField['vendor.name']).toMatchObject({
      this_value: 'KEYSTONE DME COMPANY',
      earlier_value: 'Keystone DME Co.',
    });
    expect(byField.total_cents).toMatchObject({ note: 'difference 100 cents' });
    expect(byField.po_number).toMatchObject({ this_value: 'PO-78', earlier_value: 'PO-77' });
    expect(byField.lines).toMatchObject({ this_value: ['E0570|1600'], earlier_value: ['E0570|1500'] });
    expect(byField).not.toHaveProperty('invoice_date');
    expect(d.reasons[0]!.evidence).toMatchObject({ duplicate_of: 'df-orig', earlier_approved: true });
  });

  it('explains a duplicate: log-odds contributions that add up to the score, distances, search', async () => {
    const first = makeInvoice({
      invoice_id: 'ex-dup-a',
      invoice_number: 'EX-1',
      vendor: { id: 'V-700', name: 'Explain Medical' },
      invoice_date: '2025-06-01',
      due_date: '2025-06-30',
    });
    await score(first);
    const held = await score({ ...first, invoice_id: 'ex-dup-b' });
    expect(held.decision).toBe('HOLD');
    const ex = (await read(held.decision_id)).d.explanation!;
    const dup = ex.duplicate!;
    expect(dup.invoice_id).toBe('ex-dup-a');
    expect(dup.intercept).toBe(-6);
    const sum = Object.values(dup.contributions).reduce((a, b) => a + b, 0);
    expect(dup.sum_of_contributions).toBeCloseTo(sum, 6);
    expect(dup.logit_score).toBeCloseTo(-6 + sum, 6);
    expect(1 / (1 + Math.exp(-dup.logit_score!))).toBeCloseTo(dup.model_score, 3);
    expect(dup.completeness_gap!).toBeLessThan(0.001);
    const ev = ex.evidence.duplicates[0]!;
    expect(ev).toMatchObject({
      invoice_id: 'ex-dup-a',
      earlier_approved: true,
      score: held.scores.duplicate,
    });
    expect(ev.embedding_distance).toBeLessThan(0.01);
    expect(ev.comparison).toMatchObject({ invoiceNumberEqual: true, amountEqual: true, daysApart: 0 });
    expect(ex.evidence.candidate_search).toMatchObject({ method: 'exact', k: 10 });
    expect(ex.reasons[0]).toMatchObject({
      code: 'DUPLICATE_SAME_NUMBER',
      score: 'duplicate',
      fired: true,
      queue: 'ap',
    });
    expect(ex.routing.thresholds['ap.hold_at']).toBe(0.9);
  });

  it('explains a coding exception with exact shares, CMS descriptions and versions, and no invoice text', async () => {
    const inv = makeInvoice({
      invoice_id: 'ex-code',
      invoice_number: 'EX-2',
      vendor: { id: 'V-701', name: 'Coding Explained Inc' },
      invoice_date: '2025-06-10',
      due_date: '2025-07-10',
    });
    inv.lines[0] = {
      ...inv.lines[0]!,
      description: 'Oxygen concentrator for patient Jane Q. Doe, DOB 1950-01-02',
    };
    inv.lines[1] = { ...inv.lines[1]!, description: 'Standard wheelchair, fixed full length arms' };
    const d = await score(inv);
    expect(d.decision).toBe('REVIEW');
    const { body, d: full } = await read(d.decision_id);
    expect(full).toMatchObject(d);
    for (const phi of ['Jane', 'Doe', '1950-01-02']) expect(body).not.toContain(phi);
    const ex = full.explanation!;
    expect(ex.versions).toEqual(d.versions);
    const line2 = ex.coding_mismatch.lines.find((l) => l.line_number === 2)!;
    expect(line2.score).toBe(d.lines[1]!.coding_mismatch);
    expect(line2.checks.map((c) => c.code)).toContain('DESCRIPTION_CODE_MISMATCH');
    const shares = line2.checks.reduce((a, c) => a + c.share_of_score, 0);
    expect(shares).toBeCloseTo(line2.score!, 3);
    const ls = line2.checks.reduce((a, c) => a + c.log_survival, 0);
    expect(ls).toBeCloseTo(-Math.log(1 - line2.score!), 3);
    expect(line2.completeness_gap).toBeLessThan(0.001);
    const billed = ex.evidence.lines[1]!.billed!;
    expect(billed).toMatchObject({
      system: 'HCPCS',
      code: 'E0570',
      description: 'Nebulizer with compression',
      betos: 'D1E',
    });
    expect(billed.long_description).toMatch(/nebulizer/i);
    const suggested = ex.evidence.lines[1]!.suggested;
    expect(suggested.map((s) => s.code)).toEqual(d.lines[1]!.suggested_codes.map((s) => s.value));
    expect(suggested.every((s) => typeof s.description === 'string' && s.description.length > 0)).toBe(true);
    expect(ex.reasons.find((r) => r.code === 'DESCRIPTION_CODE_MISMATCH')).toMatchObject({
      score: 'coding_mismatch',
      line_number: 2,
      fired: true,
      queue: 'coding',
    });
    expect(ex.priority.dollars).toBe(d.priority);
    expect(ex.priority.formula).toContain('expected_loss');
    expect(ex.duplicate).toBeNull();
    // The audit entry carries no invoice text either.
    const audit = await ref.h.call('auditor', {
      method: 'GET',
      url: `/v1/audit?subject_id=${d.decision_id}`,
    });
    for (const phi of ['Jane', 'Doe', '1950-01-02']) expect(audit.body).not.toContain(phi);
  });
});
