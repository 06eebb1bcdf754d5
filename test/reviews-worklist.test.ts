/**
 * The reviewer's loop through app.inject(), on both store engines: the worklist ordered by the
 * documented priority (expected loss + expiring discount + SLA age), its pagination and tenant
 * scope; reviews as labels (idempotent, validated against the decision, closing the item,
 * audited) and the training labels they become.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionResponse } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import type { LabelRow } from '../store/reviews.js';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

const TODAY = '2025-03-20';

interface Item {
  decision_id: string;
  invoice_id: string;
  priority: number;
  priority_components: { expected_loss: number; discount: number; sla_age: number };
  days_open: number;
  discount_deadline: string | null;
  queue: string;
}

/** A coding exception: line 2 describes a wheelchair but bills E0570 (nebulizer). */
function mismatch(id: string, vendor: string, over: Partial<Invoice> = {}, scale = 1): Invoice {
  const inv = makeInvoice({
    invoice_id: id,
    invoice_number: `N-${id}`,
    vendor: { id: `V-${vendor}`, name: `${vendor} Medical Supply` },
    ...over,
  });
  inv.lines = inv.lines.map((l) => ({
    ...l,
    unit_price_cents: l.unit_price_cents * scale,
    amount_cents: l.amount_cents * scale,
  }));
  inv.lines[1] = { ...inv.lines[1]!, description: 'Standard wheelchair, fixed full length arms' };
  inv.total_cents = inv.lines.reduce((a, l) => a + l.amount_cents, 0);
  return inv;
}

/** Expected loss in cents recomputed from a decision's scores (the formula of inference/priority.ts). */
function expectedLossCents(inv: Invoice, d: DecisionResponse): number {
  const coding = d.lines.reduce(
    (a, l, i) => a + (l.coding_mismatch ?? 0) * Math.abs(inv.lines[i]!.amount_cents),
    0,
  );
  return Math.round(Math.max(d.scores.duplicate * Math.abs(inv.total_cents), coding));
}

describe.each(engines('review'))('worklist and reviews on $name', ({ config }) => {
  let h: Harness;
  const cfg = config();
  const inv: Record<string, Invoice> = {};
  const dec: Record<string, DecisionResponse> = {};

  const score = async (key: 'workflow' | 'other_workflow', i: Invoice): Promise<DecisionResponse> => {
    const r = await h.call(key, { method: 'POST', url: '/v1/invoices/score', payload: i });
    expect(r.statusCode, r.body).toBe(200);
    return r.json<DecisionResponse>();
  };
  const worklist = async (query: string, key: 'reviewer' | 'other_reviewer' = 'reviewer') => {
    const r = await h.call(key, { method: 'GET', url: `/v1/worklist?${query}` });
    expect(r.statusCode, r.body).toBe(200);
    return r.json<{ as_of: string; items: Item[]; next_cursor: string | null }>();
  };
  const review = (
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
    key = 'reviewer' as const,
  ) => h.call(key, { method: 'POST', url: '/v1/reviews', payload: body, headers });

  beforeAll(async () => {
    h = await startHarness(cfg, { clock: () => new Date(`${TODAY}T12:00:00Z`) });
    inv.w1 = mismatch('w1', 'Alpha', {
      invoice_date: '2025-03-05',
      due_date: '2025-04-04',
      received_date: TODAY,
    });
    inv.w2 = mismatch(
      'w2',
      'Bravo',
      { invoice_date: '2025-03-06', due_date: '2025-04-05', received_date: TODAY },
      10,
    );
    inv.w3 = mismatch('w3', 'Charlie', {
      invoice_date: '2025-03-10',
      due_date: '2025-04-09',
      received_date: TODAY,
      payment_terms: { discount_percent: 2, discount_days: 10, net_days: 30 },
    });
    inv.w4 = mismatch('w4', 'Delta', {
      invoice_date: '2025-02-27',
      due_date: '2025-03-29',
      received_date: '2025-03-01',
    });
    inv.ok = makeInvoice({
      invoice_id: 'ok-1',
      invoice_number: 'OK-1',
      vendor: { id: 'V-Echo', name: 'Echo Oxygen' },
    });
    for (const k of ['w1', 'w2', 'w3', 'w4', 'ok']) dec[k] = await score('workflow', inv[k]!);
    dec.other = await score(
      'other_workflow',
      mismatch('x1', 'Foxtrot', { invoice_date: '2025-01-01', received_date: '2025-01-01' }, 100),
    );
  });
  afterAll(async () => {
    await h.close();
  });

  it('lists open coding exceptions by priority = expected loss + discount value + SLA age', async () => {
    for (const k of ['w1', 'w2', 'w3', 'w4']) expect(dec[k]!.decision, k).toBe('REVIEW');
    expect(dec.ok!.decision).toBe('AUTO_APPROVE');
    const page = await worklist(`queue=coding&as_of=${TODAY}`);
    expect(page.as_of).toBe(TODAY);
    const loss = (k: string) => expectedLossCents(inv[k]!, dec[k]!);
    // Documented formula, by hand: discount 2% of 215.00 on its deadline day counts in full;
    // 19 days since received at the default $2.00/day.
    const expected: Record<string, number> = {
      w1: loss('w1'),
      w2: loss('w2'),
      w3: loss('w3') + 430,
      w4: loss('w4') + 19 * 200,
    };
    const order = Object.keys(expected).sort((a, b) => expected[b]! - expected[a]!);
    expect(order).toEqual(['w2', 'w4', 'w3', 'w1']);
    expect(page.items.map((i) => i.invoice_id)).toEqual(order);
    for (const it of page.items) expect(it.priority).toBeCloseTo(expected[it.invoice_id]! / 100, 2);
    const w3 = page.items.find((i) => i.invoice_id === 'w3')!;
    expect(w3.priority_components.discount).toBe(4.3);
    expect(w3.discount_deadline).toBe('2025-03-20');
    const w4 = page.items.find((i) => i.invoice_id === 'w4')!;
    expect(w4).toMatchObject({ days_open: 19, priority_components: { sla_age: 38 } });
    // The decision's own priority is its value on the day it was scored (today here).
    expect(dec.w4!.priority).toBeCloseTo(expected.w4! / 100, 2);
  });

  it('re-prices as of another day: the discount grows toward its deadline and is gone after it', async () => {
    const early = (await worklist('queue=coding&as_of=2025-03-15')).items.find((i) => i.invoice_id === 'w3')!;
    expect(early.priority_components.discount).toBeCloseTo(430 / 6 / 100, 2);
    const late = await worklist('queue=coding&as_of=2025-03-21');
    expect(late.items.find((i) => i.invoice_id === 'w3')!.priority_components.discount).toBe(0);
    expect(late.items.find((i) => i.invoice_id === 'w1')!.priority_components.sla_age).toBe(2);
  });

  it('paginates with a cursor that keeps the as-of date, and refuses a forged cursor', async () => {
    const p1 = await worklist(`queue=coding&limit=2&as_of=${TODAY}`);
    expect(p1.items.map((i) => i.invoice_id)).toEqual(['w2', 'w4']);
    expect(p1.next_cursor).toBeTruthy();
    const p2 = await worklist(`queue=coding&limit=2&cursor=${p1.next_cursor}&as_of=2030-01-01`);
    expect(p2.as_of).toBe(TODAY);
    expect(p2.items.map((i) => i.invoice_id)).toEqual(['w3', 'w1']);
    expect(p2.next_cursor).toBeNull();
    const bad = await h.call('reviewer', { method: 'GET', url: '/v1/worklist?cursor=bm90LWEtY3Vyc29y' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('/querystring/cursor');
    // A forged cursor of the right shape whose as-of date is not a calendar date or out of range
    // (was a 500: PostgreSQL 22008 on the date).
    const decoded = JSON.parse(Buffer.from(p1.next_cursor!, 'base64url').toString('utf8')) as object;
    for (const a of ['2026-02-30', '2026-13-01', '9999-12-31', '0000-01-01']) {
      const forged = Buffer.from(JSON.stringify({ ...decoded, a })).toString('base64url');
      const r = await h.call('reviewer', { method: 'GET', url: `/v1/worklist?cursor=${forged}` });
      expect(r.statusCode, `${a}: ${r.body}`).toBe(400);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.json().errors[0].path).toBe('/querystring/cursor');
    }
    const badQueue = await h.call('reviewer', { method: 'GET', url: '/v1/worklist?queue=billing' });
    expect(badQueue.statusCode).toBe(400);
  });

  it('refuses an as_of date outside 1900-01-01..2199-12-31 naming it', async () => {
    for (const asOf of ['9999-12-31', '1899-12-31']) {
      const r = await h.call('reviewer', { method: 'GET', url: `/v1/worklist?as_of=${asOf}` });
      expect(r.statusCode, r.body).toBe(400);
      expect(r.json().errors).toEqual([
        { path: '/querystring/as_of', message: 'must be between 1900-01-01 and 2199-12-31' },
      ]);
    }
    expect((await worklist('as_of=2199-12-31')).as_of).toBe('2199-12-31');
  });

  it('shows each tenant only its own exceptions; AP and compliance queues are separate', async () => {
    const other = await worklist(`as_of=${TODAY}`, 'other_reviewer');
    expect(other.items.map((i) => i.invoice_id)).toEqual(['x1']);
    expect((await worklist(`as_of=${TODAY}`)).items.map((i) => i.invoice_id)).not.toContain('x1');
    expect((await worklist('queue=ap')).items).toEqual([]);
  });

  it('records a corrected code as a label, closes the item, replays and refuses a reused key', async () => {
    const body = {
      decision_id: dec.w1!.decision_id,
      outcome: 'corrected_code',
      line_number: 2,
      corrected_code: { system: 'HCPCS', value: 'k0001' },
    };
    const first = await review(body, { 'idempotency-key': 'rev-w1' });
    expect(first.statusCode, first.body).toBe(201);
    const r = first.json();
    expect(r).toMatchObject({
      decision_id: dec.w1!.decision_id,
      invoice_id: 'w1',
      task: 'coding-mismatch',
      outcome: 'corrected_code',
      line_number: 2,
      corrected_code: { system: 'HCPCS', value: 'K0001' },
      reviewer_key_id: h.keyIds.reviewer,
      item_status: 'closed',
    });
    expect((await worklist(`queue=coding&as_of=${TODAY}`)).items.map((i) => i.invoice_id)).not.toContain(
      'w1',
    );

    const again = await review({ ...body, idempotency_key: 'rev-w1' });
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().review_id).toBe(r.review_id);
    const reused = await review(
      { ...body, outcome: 'confirmed', corrected_code: undefined },
      { 'idempotency-key': 'rev-w1' },
    );
    expect(reused.statusCode).toBe(409);
    expect(reused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(reused.json()).toMatchObject({
      code: 'TRIAGE_IDEMPOTENCY_CONFLICT',
      errors: [{ path: '/idempotency_key', message: expect.any(String) }],
    });

    const listed = await h.call('auditor', {
      method: 'GET',
      url: `/v1/reviews?decision_id=${dec.w1!.decision_id}`,
    });
    expect(listed.json().items.map((x: { review_id: string }) => x.review_id)).toEqual([r.review_id]);
    const audit = await h.call('auditor', { method: 'GET', url: `/v1/audit?subject_id=${r.review_id}` });
    expect(audit.json().items).toMatchObject([
      {
        kind: 'review.created',
        actor_key_id: h.keyIds.reviewer,
        payload: { outcome: 'corrected_code', line_number: 2 },
      },
    ]);
  });

  it('names what does not fit: missing key, unknown code, foreign line, misplaced fields, other tenant', async () => {
    const base = { decision_id: dec.w2!.decision_id, outcome: 'confirmed' };
    const noKey = await review(base);
    expect(noKey.statusCode).toBe(400);
    expect(noKey.json().errors).toEqual([{ path: '/idempotency_key', message: expect.any(String) }]);
    const differ = await review({ ...base, idempotency_key: 'a' }, { 'idempotency-key': 'b' });
    expect(differ.statusCode).toBe(400);
    const cases: [Record<string, unknown>, string][] = [
      [
        { outcome: 'corrected_code', line_number: 2, corrected_code: { system: 'HCPCS', value: 'E9999' } },
        '/corrected_code/value',
      ],
      [{ outcome: 'corrected_code', corrected_code: { system: 'HCPCS', value: 'K0001' } }, '/line_number'],
      [{ line_number: 7 }, '/line_number'],
      [{ duplicate_of: 'w1' }, '/duplicate_of'],
      [{ task: 'duplicate' }, '/duplicate_of'],
      [{ corrected_code: { system: 'HCPCS', value: 'K0001' } }, '/corrected_code'],
    ];
    for (const [extra, path] of cases) {
      const res = await review(
        { ...base, ...extra },
        { 'idempotency-key': `bad-${path}-${JSON.stringify(extra)}` },
      );
      expect(res, JSON.stringify(extra)).toBeProblem(422, 'TRIAGE_REVIEW_INVALID');
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    const bodyErr = await review({ ...base, outcome: 'maybe' }, { 'idempotency-key': 'bad-outcome' });
    expect(bodyErr.statusCode).toBe(400);
    expect(bodyErr.json().errors[0].path).toBe('/outcome');
    const foreign = await h.call('other_reviewer', {
      method: 'POST',
      url: '/v1/reviews',
      payload: { ...base, idempotency_key: 'foreign' },
    });
    expect(foreign).toBeProblem(404, 'TRIAGE_DECISION_NOT_FOUND', '/decision_id');
    const foreignRead = await h.call('other_reviewer', {
      method: 'GET',
      url: `/v1/reviews?decision_id=${base.decision_id}`,
    });
    expect(foreignRead).toBeProblem(404, 'TRIAGE_DECISION_NOT_FOUND', '/querystring/decision_id');
    // Nothing was stored by the refused reviews, and the item is still open.
    const reviews = await h.call('reviewer', {
      method: 'GET',
      url: `/v1/reviews?decision_id=${dec.w2!.decision_id}`,
    });
    expect(reviews.json().items).toEqual([]);
  });

  it('refuses a correction to the code the line already bills, storing nothing', async () => {
    const decisionId = dec.w3!.decision_id;
    const auditSeqs = async (): Promise<number[]> => {
      const r = await h.call('auditor', { method: 'GET', url: '/v1/audit?limit=1000' });
      expect(r.statusCode, r.body).toBe(200);
      return r.json<{ items: { seq: number }[] }>().items.map((e) => e.seq);
    };
    const auditBefore = await auditSeqs();
    // Line 2 bills E0570; the value is compared whatever its case.
    const same = await review(
      {
        decision_id: decisionId,
        outcome: 'corrected_code',
        line_number: 2,
        corrected_code: { system: 'HCPCS', value: 'e0570' },
      },
      { 'idempotency-key': 'rev-w3-same' },
    );
    expect(same).toBeProblem(422, 'TRIAGE_REVIEW_INVALID');
    expect(same.json().errors).toEqual([
      { path: '/corrected_code', message: expect.stringMatching(/already bills \(HCPCS E0570\)/) },
    ]);
    const listed = await h.call('reviewer', { method: 'GET', url: `/v1/reviews?decision_id=${decisionId}` });
    expect(listed.json().items).toEqual([]);
    expect(await auditSeqs()).toEqual(auditBefore);
    const labels = await h.wired.repo.reviews.listLabels({ tenant: 'default' });
    expect(labels.filter((l) => l.invoice_id === 'w3')).toEqual([]);
    expect((await worklist(`queue=coding&as_of=${TODAY}`)).items.map((i) => i.invoice_id)).toContain('w3');
  });

  it('keeps the item open when asked, and a false positive on a reviewed invoice marks it approved', async () => {
    const open = await review(
      { decision_id: dec.w2!.decision_id, outcome: 'false_positive', close_item: false },
      { 'idempotency-key': 'rev-w2' },
    );
    expect(open.statusCode).toBe(201);
    expect(open.json()).toMatchObject({ item_status: 'open', task: 'coding-mismatch', line_number: null });
    expect((await worklist(`queue=coding&as_of=${TODAY}`)).items.map((i) => i.invoice_id)).toContain('w2');

    const fp = await review(
      { decision_id: dec.w4!.decision_id, outcome: 'false_positive' },
      { 'idempotency-key': 'rev-w4' },
    );
    expect(fp.json().item_status).toBe('closed');
    // A resubmission of w4 under another id: held, naming w4 as already approved after review.
    const copy = await score('workflow', { ...inv.w4!, invoice_id: 'w4-again' });
    expect(copy.decision).toBe('HOLD');
    expect(copy.duplicates[0]).toMatchObject({
      invoice_id: 'w4',
      earlier_approved: true,
      earlier_approval: 'reviewed_not_exception',
    });
    // ...and the duplicate review labels the pair (named: the copy has w4's coding findings too).
    const dupReview = await review(
      { decision_id: copy.decision_id, task: 'duplicate', outcome: 'confirmed' },
      { 'idempotency-key': 'rev-dup' },
    );
    expect(dupReview.statusCode).toBe(201);
    expect(dupReview.json()).toMatchObject({
      task: 'duplicate',
      duplicate_of_invoice_id: 'w4',
      item_status: 'closed',
    });
  });

  it('turns reviews into training labels with their features and versions', async () => {
    const labels: LabelRow[] = await h.wired.repo.reviews.listLabels({ tenant: 'default' });
    const byInvoice = (id: string) => labels.filter((l) => l.invoice_id === id);
    const w1 = byInvoice('w1');
    expect(w1).toHaveLength(1);
    expect(w1[0]).toMatchObject({
      task: 'coding-mismatch',
      line_number: 2,
      label: 1,
      corrected_code: 'K0001',
      reviewer_key_id: h.keyIds.reviewer,
      feature_schema_version: dec.w1!.versions.feature_schema,
      model_versions: dec.w1!.versions.models,
    });
    expect(w1[0]!.features!.line!.code).toBe('E0570');
    expect(w1[0]!.features!.line!.embedding).toHaveLength(128);
    expect(w1[0]!.features!.line!.checks.map((c) => c.code)).toContain('DESCRIPTION_CODE_MISMATCH');
    // An invoice-level false positive labels each flagged line 0 (line 1 of w2 is priced far above
    // the fee schedule, line 2 is the description mismatch).
    expect(byInvoice('w2').map((l) => [l.line_number, l.label])).toEqual([
      [1, 0],
      [2, 0],
    ]);
    const dup = byInvoice('w4-again');
    expect(dup).toMatchObject([
      { task: 'duplicate', label: 1, duplicate_of_invoice_id: 'w4', line_number: null },
    ]);
    expect(dup[0]!.features!.comparison).toMatchObject({ amountEqual: true, sameVendor: true });
    expect(await h.wired.repo.reviews.listLabels({ tenant: 'other' })).toEqual([]);
    expect(await h.wired.repo.reviews.listLabels({ since: '2999-01-01T00:00:00Z' })).toEqual([]);
    const withInvoice = await h.wired.repo.reviews.listLabels({ tenant: 'default', includeInvoice: true });
    expect(withInvoice.find((l) => l.invoice_id === 'w1')!.invoice!.lines).toHaveLength(2);
  });
});
