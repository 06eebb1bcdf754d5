/**
 * The shipped duplicate champion (models/artifacts/duplicate, its `champion` alias; monotone in
 * agreement since duplicate@5) on the issue-14 resubmission changed in two ways at once (same
 * vendor and invoice number, dated one day later, total 5 cents higher): its served ONNX sends
 * it to people at every embedding similarity and holds it from cosine 0.97 on at its card's hold
 * threshold, an unchanged copy is held at every similarity, and its card carries a certified
 * hold threshold above the auto-approve one. (duplicate@4, challenger before: 0.51, 0.72, 0.946,
 * 0.947 at 0.8, 0.9, 0.97, 0.99 against hold 0.911.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import { OnnxModelSession } from '../inference/onnx-session.js';
import { twoChangeResubmission } from './fixtures.js';
import { shippedDuplicateChampion } from './shipped-duplicate.js';

const { dir, version, spec, card, pairInput } = shippedDuplicateChampion();

const { original, resubmitted } = twoChangeResubmission();
const COSINES = [0.8, 0.9, 0.97, 0.99];

/** The champion's served ONNX session, shared by both fixtures. */
let session: OnnxModelSession;
beforeAll(async () => {
  session = await OnnxModelSession.fromBuffer(readFileSync(join(dir, version, 'model.onnx')), {
    expected: { names: spec.featureNames },
  });
}, 120_000);
afterAll(async () => {
  await session?.release();
});

describe(`the duplicate champion duplicate@${version} on a resubmission dated one day later with a total 5 cents higher`, () => {
  const scores = async (rows: Float32Array[]): Promise<number[]> =>
    Array.from((await session.run(rows)).probability);

  it('its card holds above the auto-approve threshold (both certified)', () => {
    expect(card.thresholds.hold).toBeLessThan(1);
    expect(card.thresholds.hold).toBeGreaterThan(card.thresholds.autoApprove);
  });

  it('sends the two-change resubmission to people at every similarity and holds it from 0.97 on', async () => {
    for (const cosine of COSINES) {
      const [both, copy] = await scores([
        pairInput(resubmitted, original, cosine),
        pairInput({ ...original, invoice_id: 'c' }, original, cosine),
      ]);
      expect(both, `cosine ${cosine}`).toBeGreaterThan(card.thresholds.autoApprove);
      if (cosine >= 0.97) expect(both, `cosine ${cosine}`).toBeGreaterThanOrEqual(card.thresholds.hold);
      // an unchanged copy is held at every similarity
      expect(copy, `cosine ${cosine}`).toBeGreaterThanOrEqual(card.thresholds.hold);
    }
  });
});

describe(`duplicate@${version} on a resubmission changed three ways (README's seed-202 miss)`, () => {
  // Number re-keyed with the separator dropped and zeros inserted (GLME-233812 -> GLME00233812),
  // dated 3 days later, same total and lines: the exception duplicate@2 scored below review.
  const first: Invoice = { ...original, invoice_id: 'glme-1', invoice_number: 'GLME-233812' };
  const rekeyed: Invoice = {
    ...first,
    invoice_id: 'glme-2',
    invoice_number: 'GLME00233812',
    invoice_date: '2024-07-04',
  };

  it('sends it to people at every similarity (duplicate@2 scored it 0.0003 at cosine 0.8)', async () => {
    for (const cosine of COSINES) {
      const [three] = Array.from((await session.run([pairInput(rekeyed, first, cosine)])).probability);
      expect(three, `cosine ${cosine}`).toBeGreaterThan(card.thresholds.autoApprove);
    }
  });
});
