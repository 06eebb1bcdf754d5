/**
 * The shipped duplicate champion (models/artifacts/duplicate, its `champion` alias) on a
 * resubmission changed in two ways at once: same vendor and invoice number, dated one day later,
 * total 5 cents higher. The pair model scores it above the card's review threshold (each change
 * alone too), and through the served pipeline the resubmission goes to people as a duplicate of
 * the original instead of being auto-approved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wire, type Wired } from '../bin/bootstrap.js';
import type { Invoice } from '../core/invoice.js';
import { predictProbability } from '../models/spec.js';
import { twoChangeResubmission } from './fixtures.js';
import { shippedDuplicateChampion } from './shipped-duplicate.js';

const { version, spec, card, pairInput } = shippedDuplicateChampion();

const { original, resubmitted } = twoChangeResubmission();

const pairScore = (a: Invoice, b: Invoice, cosine: number): number =>
  predictProbability(spec, pairInput(a, b, cosine));

describe('the duplicate champion on a resubmission dated one day later with a total 5 cents higher', () => {
  it('scores the pair above the review threshold at every embedding similarity, as each change alone', () => {
    for (const cosine of [0.8, 0.9, 0.97, 0.99]) {
      const both = pairScore(resubmitted, original, cosine);
      const dateOnly = pairScore(
        { ...original, invoice_id: 'd', invoice_date: '2024-07-02' },
        original,
        cosine,
      );
      const totalOnly = pairScore(
        { ...resubmitted, invoice_id: 't', invoice_date: '2024-07-01' },
        original,
        cosine,
      );
      for (const s of [both, dateOnly, totalOnly])
        expect(s, `cosine ${cosine}`).toBeGreaterThan(card.thresholds.autoApprove);
      // an unchanged copy at the same similarity is held
      expect(pairScore({ ...original, invoice_id: 'c' }, original, cosine)).toBeGreaterThanOrEqual(
        card.thresholds.hold,
      );
    }
  });

  describe('through the served pipeline', () => {
    let w: Wired;
    beforeAll(async () => {
      w = await wire({ engine: 'pglite' }, { models: { reloadMs: null } });
    }, 120_000);
    afterAll(async () => {
      await w?.repo.close();
      await w?.closeModels();
    });

    it('auto-approves the original and sends the resubmission to people as its duplicate', async () => {
      expect(w.scoring.versions.models.duplicate).toBe(`duplicate@${version}`);
      const first = await w.scoring.score(original);
      expect(first.decision.decision).toBe('AUTO_APPROVE');
      const again = await w.scoring.score(resubmitted);
      expect(['REVIEW', 'HOLD']).toContain(again.decision.decision);
      expect(again.decision.duplicates[0]).toMatchObject({ invoice_id: 'orig' });
      expect(again.decision.scores.duplicate).toBeGreaterThan(card.thresholds.autoApprove);
    });
  });
});
