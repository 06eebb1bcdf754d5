/**
 * A review that reverses how a HOLD was settled: a `false_positive` review released the hold
 * (`decision.released`), a later `confirmed` review is kept as a label and announced as
 * `decision.confirmed` naming the review it supersedes (and back), so that the ERP hears every
 * change of outcome. A review that settles it the same way again emits only `decision.reviewed`.
 * A review's idempotency key belongs to the reviewer key that sent it. A later duplicate check
 * sees the earlier invoice approved exactly while its reviews leave it released. On both store
 * engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../core/events.js';
import type { DecisionResponse } from '../core/decision.js';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';
import { heldExample as heldExampleOf, settlements as settlementsOf } from './review-helpers.js';

describe.each(engines('reversal'))('a review reversing a settled HOLD on $name', ({ config }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(config());
  });
  afterAll(async () => h?.close());

  const review = async (decisionId: string, outcome: string, key: string) => {
    const r = await h.call('reviewer', {
      method: 'POST',
      url: '/v1/reviews',
      payload: { decision_id: decisionId, outcome, idempotency_key: key },
    });
    expect(r.statusCode, r.body).toBe(201);
    return r.json<{ review_id: string }>().review_id;
  };
  const settlements = (invoiceId: string) => settlementsOf(h, invoiceId);

  /**
   * How a resubmission of `payload` under a new id sees the stored invoice `invoiceId`: its
   * `earlier_approval` among the resubmission's duplicates.
   */
  let resubmissions = 0;
  const approvalSeen = async (payload: object, invoiceId: string) => {
    resubmissions += 1;
    const r = await h.call('workflow', {
      method: 'POST',
      url: '/v1/invoices/score',
      payload: { ...payload, invoice_id: `${invoiceId}-again-${resubmissions}` },
    });
    expect(r.statusCode, r.body).toBe(200);
    const match = r.json<DecisionResponse>().duplicates.find((m) => m.invoice_id === invoiceId);
    expect(match, r.body).toBeDefined();
    return [match!.earlier_approved, match!.earlier_approval];
  };

  it('announces each change of outcome with the review it supersedes, keeps every label', async () => {
    const a = makeInvoice({ invoice_id: 'rev-a', invoice_number: 'INV-REV-A' });
    expect(
      (await h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload: a })).statusCode,
    ).toBe(200);
    const copy = await h.call('workflow', {
      method: 'POST',
      url: '/v1/invoices/score',
      payload: { ...a, invoice_id: 'rev-a-copy' },
    });
    const held = copy.json<DecisionResponse>();
    expect(held.decision).toBe('HOLD');

    const released = await review(held.decision_id, 'false_positive', 'rev-1');
    expect(await approvalSeen(a, 'rev-a-copy')).toEqual([true, 'reviewed_not_exception']);
    const confirmed = await review(held.decision_id, 'confirmed', 'rev-2');
    // Confirmed after the release: no longer approved for later duplicate checks.
    expect(await approvalSeen(a, 'rev-a-copy')).toEqual([false, null]);
    await review(held.decision_id, 'confirmed', 'rev-3');
    await review(held.decision_id, 'false_positive', 'rev-4');

    expect(await settlements('rev-a-copy')).toEqual([
      ['decision.reviewed.v1', 'false_positive', null],
      ['decision.released.v1', 'false_positive', null],
      ['decision.reviewed.v1', 'confirmed', null],
      ['decision.confirmed.v1', 'confirmed', { review_id: released, outcome: 'false_positive' }],
      ['decision.reviewed.v1', 'confirmed', null],
      ['decision.reviewed.v1', 'false_positive', null],
      ['decision.released.v1', 'false_positive', { review_id: expect.any(String), outcome: 'confirmed' }],
    ]);
    const last = (await settlements('rev-a-copy')).at(-1)![2] as { review_id: string };
    expect(last.review_id).not.toBe(confirmed);
    const stored = await h.wired.repo.reviews.listForDecision('default', held.decision_id);
    expect(stored.map((r) => r.outcome)).toEqual([
      'false_positive',
      'confirmed',
      'confirmed',
      'false_positive',
    ]);
  });

  const heldExample = (invoiceId: string) => heldExampleOf(h, invoiceId);
  const correctLine2 = {
    outcome: 'corrected_code',
    line_number: 2,
    corrected_code: { system: 'HCPCS', value: 'E1130' },
  };

  it("does not release a HOLD on one line's false positive while another line's correction stands", async () => {
    const invoiceId = 'rev-lines-copy';
    const post = await heldExample(invoiceId);
    await post(correctLine2, 'lines-1');
    await post({ outcome: 'false_positive', line_number: 1 }, 'lines-2');
    expect(await settlements(invoiceId)).toEqual([
      ['decision.reviewed.v1', 'corrected_code', null],
      ['decision.confirmed.v1', 'corrected_code', null],
      ['decision.reviewed.v1', 'false_positive', null],
    ]);
    // The corrected line reviewed as a false positive too: no coding exception is left, but the
    // duplicate finding is not reviewed yet, so nothing is settled.
    await post({ outcome: 'false_positive', line_number: 2 }, 'lines-3');
    expect(await settlements(invoiceId)).toHaveLength(4);
    await post({ task: 'duplicate', outcome: 'false_positive' }, 'lines-4');
    expect((await settlements(invoiceId)).at(-1)).toEqual([
      'decision.released.v1',
      'false_positive',
      { review_id: expect.any(String), outcome: 'corrected_code' },
    ]);
  });

  it("does not release a HOLD on an invoice-level false positive while a line's correction stands", async () => {
    const invoiceId = 'rev-invoice-copy';
    const post = await heldExample(invoiceId);
    const corrected = await post(correctLine2, 'invoice-1');
    await post({ task: 'duplicate', outcome: 'false_positive' }, 'invoice-2');
    expect(await settlements(invoiceId)).toEqual([
      ['decision.reviewed.v1', 'corrected_code', null],
      ['decision.confirmed.v1', 'corrected_code', null],
      ['decision.reviewed.v1', 'false_positive', null],
    ]);
    // Held back by line 2's correction: not approved for later duplicate checks either.
    expect(await approvalSeen(post.payload, invoiceId)).toEqual([false, null]);
    await post({ outcome: 'false_positive', line_number: 2 }, 'invoice-3');
    expect((await settlements(invoiceId)).at(-1)).toEqual([
      'decision.released.v1',
      'false_positive',
      { review_id: corrected, outcome: 'corrected_code' },
    ]);
    expect(await approvalSeen(post.payload, invoiceId)).toEqual([true, 'reviewed_not_exception']);
  });

  it("closes the item on an invoice-level false positive but keeps the HOLD confirmed by a line's open correction", async () => {
    const invoiceId = 'rev-open-copy';
    const post = await heldExample(invoiceId);
    const corrected = await post({ ...correctLine2, close_item: false }, 'open-1');
    const released = await post({ task: 'duplicate', outcome: 'false_positive' }, 'open-2');
    expect(await approvalSeen(post.payload, invoiceId)).toEqual([false, null]);
    const events = await h.call('auditor', { method: 'GET', url: '/v1/events?limit=1000' });
    const confirmation = events
      .json<{ items: CloudEvent[] }>()
      .items.find((e) => e.subject === invoiceId && e.type.includes('decision.confirmed'));
    // The settlement names the line's correction, not the invoice-level false positive.
    expect(confirmation?.data).toMatchObject({ review_id: corrected, outcome: 'corrected_code' });
    expect(await settlements(invoiceId)).toEqual([
      ['decision.reviewed.v1', 'corrected_code', null],
      ['decision.reviewed.v1', 'false_positive', null],
      ['decision.confirmed.v1', 'corrected_code', null],
    ]);
    const stored = await h.wired.repo.reviews.listForDecision(
      'default',
      (confirmation!.data as { decision_id: string }).decision_id,
    );
    expect(stored.map((r) => [r.review_id, r.item_status])).toEqual([
      [corrected, 'closed'],
      [released, 'closed'],
    ]);
  });

  it('asks which task a review without one is about when the decision has findings of both', async () => {
    const invoiceId = 'rev-both-copy';
    const post = await heldExample(invoiceId);
    const untasked = await h.call('reviewer', {
      method: 'POST',
      url: '/v1/reviews',
      payload: { decision_id: post.decisionId, outcome: 'false_positive', idempotency_key: 'both-0' },
    });
    expect(untasked.statusCode, untasked.body).toBe(422);
    expect(untasked.headers['content-type']).toContain('application/problem+json');
    expect(untasked.json<{ errors: { path: string; message: string }[] }>().errors).toEqual([
      {
        path: '/task',
        message:
          'is required: the decision has findings of more than one task (coding-mismatch, duplicate); review each',
      },
    ]);
  });

  it('keeps a HOLD with findings of both tasks open until each task is cleared, then releases it', async () => {
    const invoiceId = 'rev-tasks-copy';
    const post = await heldExample(invoiceId);
    const dup = await post({ task: 'duplicate', outcome: 'false_positive' }, 'tasks-1');
    // The coding findings are not reviewed: no settlement, the item stays on the worklist.
    expect(await settlements(invoiceId)).toEqual([['decision.reviewed.v1', 'false_positive', null]]);
    expect(await approvalSeen(post.payload, invoiceId)).toEqual([false, null]);
    const worklist = await h.call('reviewer', { method: 'GET', url: '/v1/worklist?limit=500' });
    expect(worklist.statusCode, worklist.body).toBe(200);
    expect(worklist.body).toContain(invoiceId);
    const coding = await post({ task: 'coding-mismatch', outcome: 'false_positive' }, 'tasks-2');
    const events = await h.call('auditor', { method: 'GET', url: '/v1/events?limit=1000' });
    const release = events
      .json<{ items: CloudEvent[] }>()
      .items.filter((e) => e.subject === invoiceId && e.type.includes('decision.released'));
    expect(release.map((e) => e.data)).toEqual([
      expect.objectContaining({ review_id: coding, task: 'coding-mismatch', outcome: 'false_positive' }),
    ]);
    expect(await approvalSeen(post.payload, invoiceId)).toEqual([true, 'reviewed_not_exception']);
    const decisionId = post.decisionId;
    const stored = await h.wired.repo.reviews.listForDecision('default', decisionId);
    expect(stored.map((r) => [r.review_id, r.task, r.item_status])).toEqual([
      [dup, 'duplicate', 'closed'],
      [coding, 'coding-mismatch', 'closed'],
    ]);
    // Labels of each task, all saying there is no exception.
    const labels = (await h.wired.repo.reviews.listLabels()).filter((l) => l.decision_id === decisionId);
    expect([...new Set(labels.map((l) => `${l.task}:${l.label}`))].sort()).toEqual([
      'coding-mismatch:0',
      'duplicate:0',
    ]);
  });

  it('names the tasks with findings still without a review, as read, on every review of the decision', async () => {
    const invoiceId = 'rev-left-copy';
    const post = await heldExample(invoiceId);
    type Stored = { review_id: string; task: string; item_status: string; unreviewed_tasks: string[] };
    const send = async (payload: object, key: string, status = 201): Promise<Stored> => {
      const r = await h.call('reviewer', {
        method: 'POST',
        url: '/v1/reviews',
        payload: { decision_id: post.decisionId, idempotency_key: key, ...payload },
      });
      expect(r.statusCode, r.body).toBe(status);
      return r.json<Stored>();
    };
    const listed = async () => {
      const r = await h.call('auditor', { method: 'GET', url: `/v1/reviews?decision_id=${post.decisionId}` });
      expect(r.statusCode, r.body).toBe(200);
      return r.json<{ items: Stored[] }>().items.map((x) => [x.task, x.item_status, x.unreviewed_tasks]);
    };
    expect(await listed()).toEqual([]);
    // A review of task other clears neither scored task: both are still to review.
    const other = await send({ task: 'other', outcome: 'false_positive' }, 'left-1');
    expect(other).toMatchObject({ item_status: 'open', unreviewed_tasks: ['coding-mismatch', 'duplicate'] });
    const dup = await send({ task: 'duplicate', outcome: 'false_positive' }, 'left-2');
    expect(dup).toMatchObject({ item_status: 'open', unreviewed_tasks: ['coding-mismatch'] });
    expect(await listed()).toEqual([
      ['other', 'open', ['coding-mismatch']],
      ['duplicate', 'open', ['coding-mismatch']],
    ]);
    // One line's review is a review of the coding task: nothing is left, the item closes.
    const line = await send({ outcome: 'false_positive', line_number: 2 }, 'left-3');
    expect(line).toMatchObject({ task: 'coding-mismatch', item_status: 'closed', unreviewed_tasks: [] });
    expect(await listed()).toEqual([
      ['other', 'closed', []],
      ['duplicate', 'closed', []],
      ['coding-mismatch', 'closed', []],
    ]);
    // A replayed review is read now, not as it was answered first.
    const replayed = await send({ task: 'duplicate', outcome: 'false_positive' }, 'left-2', 200);
    expect(replayed).toMatchObject({ review_id: dup.review_id, item_status: 'closed', unreviewed_tasks: [] });
  });

  it("scopes a review's idempotency key to the reviewer key: another reviewer's review is its own", async () => {
    const b = makeInvoice({ invoice_id: 'rev-b', invoice_number: 'INV-REV-B' });
    const scored = await h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload: b });
    const decisionId = scored.json<DecisionResponse>().decision_id;
    const body = {
      decision_id: decisionId,
      outcome: 'confirmed',
      close_item: false,
      idempotency_key: 'shared-1',
    };
    const post = (key: 'reviewer' | 'multi', payload: object) =>
      h.call(key, { method: 'POST', url: '/v1/reviews', payload });
    expect((await post('reviewer', body)).statusCode).toBe(201);
    const other = await post('multi', body);
    expect(other.statusCode, other.body).toBe(201);
    expect(other.headers['idempotent-replayed']).toBeUndefined();
    const again = await post('reviewer', body);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect((await post('multi', { ...body, outcome: 'false_positive' })).statusCode).toBe(409);
    const stored = await h.wired.repo.reviews.listForDecision('default', decisionId);
    expect(stored.map((r) => r.reviewer_key_id).sort()).toEqual([h.keyIds.reviewer, h.keyIds.multi].sort());
  });
});
