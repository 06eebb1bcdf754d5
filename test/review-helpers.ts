/**
 * Helpers of the review-sequence suites (test/review-reversal.test.ts,
 * test/review-reopen.test.ts): a HOLD with findings of both tasks, the settlement events of an
 * invoice in feed order, and the worklist item of a decision.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { CloudEvent } from '../core/events.js';
import type { DecisionResponse } from '../core/decision.js';
import { packageRoot } from '../core/paths.js';
import type { Harness, KeyName } from './harness.js';

/** A settlement event as `[type without prefix, outcome, supersedes or null]`. */
export type SettlementRow = [string, string, { review_id: string; outcome: string } | null];

/** The review events of `invoiceId` (all but `decision.created`), in feed order. */
export async function settlements(h: Harness, invoiceId: string): Promise<SettlementRow[]> {
  const r = await h.call('auditor', { method: 'GET', url: '/v1/events?limit=1000' });
  expect(r.statusCode, r.body).toBe(200);
  return r
    .json<{ items: CloudEvent[] }>()
    .items.filter((e) => e.subject === invoiceId && !e.type.includes('decision.created'))
    .map((e) => {
      const data = e.data as { outcome: string; supersedes?: { review_id: string; outcome: string } };
      return [e.type.replace('com.invoice-triage.', ''), data.outcome, data.supersedes ?? null];
    });
}

/** Posts reviews on one decision; each must answer `status` (default 201); returns the review id. */
export type ReviewPoster = ((
  payload: object,
  key: string,
  status?: number,
  as?: KeyName,
) => Promise<string>) & {
  payload: object;
  decisionId: string;
};

/**
 * Scores the example invoice (its line 2 is miscoded) and then its exact copy `invoiceId`,
 * held as a duplicate with coding findings too; returns a poster of reviews on the copy's
 * decision.
 */
export async function heldExample(h: Harness, invoiceId: string): Promise<ReviewPoster> {
  const example = JSON.parse(
    readFileSync(join(packageRoot(), 'datasets', 'samples', 'example-invoice.json'), 'utf8'),
  ) as { invoice_id: string };
  const payload = { ...example, invoice_id: `${invoiceId}-first`, invoice_number: `INV-${invoiceId}` };
  const first = await h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload });
  expect(first.statusCode, first.body).toBe(200);
  const scored = await h.call('workflow', {
    method: 'POST',
    url: '/v1/invoices/score',
    payload: { ...payload, invoice_id: invoiceId },
  });
  const held = scored.json<DecisionResponse>();
  expect(held.decision, scored.body).toBe('HOLD');
  const post = async (body: object, key: string, status = 201, as: KeyName = 'reviewer'): Promise<string> => {
    const r = await h.call(as, {
      method: 'POST',
      url: '/v1/reviews',
      payload: { decision_id: held.decision_id, idempotency_key: key, ...body },
    });
    expect(r.statusCode, r.body).toBe(status);
    return r.json<{ review_id: string }>().review_id;
  };
  return Object.assign(post, { payload, decisionId: held.decision_id });
}

/** The worklist item of `decisionId` as `[decision, queue]`, or null when it is not on the worklist. */
export async function worklistItem(h: Harness, decisionId: string): Promise<[string, string] | null> {
  const r = await h.call('reviewer', { method: 'GET', url: '/v1/worklist?limit=500' });
  expect(r.statusCode, r.body).toBe(200);
  const item = r
    .json<{ items: { decision_id: string; decision: string; queue: string }[] }>()
    .items.find((i) => i.decision_id === decisionId);
  return item ? [item.decision, item.queue] : null;
}
