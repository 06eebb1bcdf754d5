/**
 * A coding line carries a reason when its score exceeds `min(card threshold, policy
 * coding.review_at)` (`codingReasonThreshold`), so a policy stricter than the served coding
 * model's card applies as written: `PUT /v1/policy` accepts it, the effective threshold is the
 * policy's, and a line scored between the two thresholds is reviewed with reasons whose evidence
 * and message name the policy's threshold.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shippedModelsDir } from '../bin/bootstrap.js';
import { DEFAULT_POLICY_DOCUMENT, type PolicyDocument } from '../inference/policy.js';
import { makeInvoice } from './fixtures.js';
import { useHarness } from './harness.js';

const champion = (
  JSON.parse(readFileSync(join(shippedModelsDir(), 'coding-mismatch', 'aliases.json'), 'utf8')) as {
    champion: string;
  }
).champion;
/** The served coding model's card threshold (lines above it carry reasons under any policy). */
const card = (
  JSON.parse(readFileSync(join(shippedModelsDir(), 'coding-mismatch', champion, 'card.json'), 'utf8')) as {
    thresholds: { autoApprove: number };
  }
).thresholds.autoApprove;

const strict = (review: number, overrideReview?: number): PolicyDocument => ({
  ...DEFAULT_POLICY_DOCUMENT,
  name: 'strict',
  queues: { ...DEFAULT_POLICY_DOCUMENT.queues, coding: { review_at: review } },
  overrides:
    overrideReview === undefined
      ? []
      : [{ when: { vendor_category: 'lab' }, queues: { coding: { review_at: overrideReview } } }],
});

/** An enteral infusion pump billed at a clean seed-101 benchmark line's price: scored below the card. */
const pumpInvoice = (invoice_id: string, invoice_number: string) =>
  makeInvoice({
    invoice_id,
    invoice_number,
    total_cents: 94_957,
    lines: [
      {
        line_number: 1,
        description: 'SKU 891021 ENTER NUTR INF PUMP ANY TYPE',
        code: { system: 'HCPCS', value: 'B9002' },
        quantity: 1,
        unit_price_cents: 94_957,
        amount_cents: 94_957,
      },
    ],
  });

type Shown = { effective_thresholds: Record<string, { value: number; source: string }> };

describe('coding review thresholds stricter than the served model card', () => {
  const ref = useHarness({ engine: 'pglite' }, { wire: { models: { reloadMs: null } } });

  it('PUT /v1/policy accepts a coding review_at below the card threshold and applies it as written', async () => {
    expect(card).toBeGreaterThan(0.01);
    const put = await ref.h.call('admin', {
      method: 'PUT',
      url: '/v1/policy',
      payload: strict(0.001, 0.002),
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json<Shown>().effective_thresholds['coding.review_at']).toEqual({
      value: 0.001,
      source: expect.stringMatching(/^policy:strict@/),
    });
  });

  it("reviews a line scored between the policy's threshold and the card's, the reasons naming the threshold", async () => {
    // A laxer policy: the card's threshold gives the reasons.
    await ref.h.wired.repo.policies.put(
      'default',
      { name: 'lax', document: strict(0.99), sha256: 'laxer-than-card' },
      null,
    );
    const before = await ref.h.scoreOk(pumpInvoice('strict-0', 'S-100'));
    const score = before.scores.coding_mismatch;
    expect(score).toBeLessThan(card);
    expect(score).toBeGreaterThan(0);
    expect(before.reasons.filter((r) => 'reason_at' in r.evidence)).toEqual([]);
    expect(before.decision).toBe('AUTO_APPROVE');

    const reviewAt = score / 2;
    await ref.h.wired.repo.policies.put(
      'default',
      { name: 'strict', document: strict(reviewAt), sha256: 'stricter-than-card' },
      null,
    );
    const d = await ref.h.scoreOk(pumpInvoice('strict-1', 'S-200'));
    expect(d.scores.coding_mismatch).toBeGreaterThan(reviewAt);
    expect(d.decision).toBe('REVIEW');
    expect(d.queue).toBe('coding');
    const coding = d.reasons.filter((r) => r.evidence.reason_at_source === 'policy:coding.review_at');
    expect(coding.length).toBeGreaterThan(0);
    for (const r of coding) {
      expect(r.evidence.reason_at).toBe(reviewAt);
      expect(r.message).toContain(`above the policy's coding review threshold ${reviewAt}, below the card's`);
    }
    const rec = await ref.h.wired.repo.getDecisionRecord('default', d.decision_id);
    const ex = (
      rec!.decision as unknown as { explanation: { routing: { thresholds: Record<string, number> } } }
    ).explanation;
    expect(ex.routing.thresholds['coding.review_at']).toBe(reviewAt);
  });
});
