/**
 * The shipped duplicate champion (models/artifacts/duplicate, its `champion` alias) on pinned
 * pairs: a resubmission changed in two ways at once is still held or reviewed, more agreement
 * never lowers a score (the weights satisfy the monotone constraints, and a property check on
 * real pairs), and a look-alike number at an unrelated vendor never counts for more than the
 * same number there, nor than the same number at the same vendor.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import { packageRoot } from '../core/paths.js';
import { pairFeatureVector, PAIR_MONOTONE_SIGNS } from '../features/comparisons.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { comparePair, pairSideOfInvoice } from '../features/pair.js';
import type { ModelCard } from '../models/card.js';
import { predictProbability, specLogit, type TrainedModelSpec } from '../models/spec.js';
import { makeInvoice } from './fixtures.js';
import { monotoneViolation } from '../training/monotone.js';

const dir = join(packageRoot(), 'models', 'artifacts', 'duplicate');
const version = (JSON.parse(readFileSync(join(dir, 'aliases.json'), 'utf8')) as { champion: string })
  .champion;
const spec = JSON.parse(readFileSync(join(dir, version, 'spec.json'), 'utf8')) as TrainedModelSpec;
const card = JSON.parse(readFileSync(join(dir, version, 'card.json'), 'utf8')) as ModelCard;

const vector = (a: Invoice, b: Invoice, cos: number): Float32Array =>
  pairFeatureVector(
    comparePair(
      pairSideOfInvoice(a, extractInvoiceFeatures(a)),
      pairSideOfInvoice(b, extractInvoiceFeatures(b)),
      cos,
    ),
  );
const score = (a: Invoice, b: Invoice, cos = 0.97): number => predictProbability(spec, vector(a, b, cos));

describe('the duplicate champion', () => {
  const orig = makeInvoice({ invoice_id: 'orig' });

  it('holds or reviews a resubmission dated one day later with a total 5 cents higher (same vendor, same number)', () => {
    const both = score(
      { ...orig, invoice_id: 'again', invoice_date: '2025-03-02', total_cents: 21_505 },
      orig,
    );
    expect(both).toBeGreaterThan(0.9);
    expect(both).toBeGreaterThan(card.thresholds.autoApprove);
    // each change alone scores at least as high as both together (monotone), and high
    expect(score({ ...orig, invoice_id: 'a', invoice_date: '2025-03-02' }, orig)).toBeGreaterThanOrEqual(
      both,
    );
    expect(score({ ...orig, invoice_id: 'b', total_cents: 21_505 }, orig)).toBeGreaterThanOrEqual(both);
  });

  it('is monotone in agreement: constrained weights, and no signed input raises agreement and lowers the logit', () => {
    expect(monotoneViolation(spec, PAIR_MONOTONE_SIGNS)).toBeNull();
    const variants: Partial<Invoice>[] = [
      {},
      { invoice_number: 'INV-1O08' },
      { invoice_number: 'INV-7713' },
      { invoice_date: '2025-04-20', total_cents: 9_900 },
      { vendor: { id: 'V-9', name: 'Borealis Wound Care' } },
      { po_number: 'PO-91', lines: [orig.lines[0]!] },
    ];
    let checked = 0;
    for (const v of variants)
      for (const cos of [0.5, 0.9, 0.99]) {
        const x = vector({ ...orig, invoice_id: 'x', ...v }, orig, cos);
        const base = specLogit(spec, x);
        PAIR_MONOTONE_SIGNS.forEach((s, i) => {
          if (s === 0) return;
          for (const step of [0.1, 1]) {
            const y = Float32Array.from(x);
            y[i] = y[i]! + s * step;
            expect(specLogit(spec, y)).toBeGreaterThanOrEqual(base - 1e-9);
            checked++;
          }
        });
      }
    expect(checked).toBeGreaterThan(100);
  });

  it('weighs a look-alike number at an unrelated vendor no more than the same number there, or at the same vendor', () => {
    const unrelated = {
      vendor: { id: 'V-777', name: 'Cascade Lab Partners', tax_id: '98-7654321' },
      total_cents: 48_250,
      lines: [{ ...orig.lines[1]!, line_number: 1, amount_cents: 48_250, unit_price_cents: 48_250 }],
    };
    const o0 = score({ ...orig, ...unrelated, invoice_id: 'u1', invoice_number: 'INV-1OO8' }, orig, 0.4);
    const same = score({ ...orig, ...unrelated, invoice_id: 'u2' }, orig, 0.4);
    const sameVendor = score(
      { ...orig, invoice_id: 'u3', total_cents: 48_250, lines: unrelated.lines },
      orig,
      0.4,
    );
    expect(o0).toBeLessThanOrEqual(same);
    expect(same).toBeLessThanOrEqual(sameVendor);
    expect(o0).toBeLessThanOrEqual(card.thresholds.autoApprove);
  });
});
