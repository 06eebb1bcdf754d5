/**
 * Pair-vector editions: the pair vector gained `billing_rhythm` and `vendor_number` (edition 3),
 * and `duplicate@2`, trained on edition 2, still loads through the served signature and scores
 * exactly as before. The pinned scores were computed with main's code before the change (ONNX
 * Runtime on `models/artifacts/duplicate/2/model.onnx`, the issue-14 resubmission, a re-numbered
 * invoice a month later and an unchanged copy, at four embedding cosines, without and with a
 * 30-day billing interval: edition 2 does not read the interval, so both give the same score).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedModelsDir } from '../bin/bootstrap.js';
import type { Invoice } from '../core/invoice.js';
import { COMPARISONS, PAIR_VECTOR_NAMES } from '../features/comparisons.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { comparePair, pairSideOfInvoice, type PairComparison } from '../features/pair.js';
import { earlierVectorVersions, editionOfNames, VECTOR_EDITIONS } from '../features/schema.js';
import { ChampionModel } from '../inference/onnx-champion.js';
import { featurePairVectoriser } from '../inference/model-scorers.js';
import { ModelRegistry } from '../models/registry.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import { twoChangeResubmission } from './fixtures.js';

const { original, resubmitted } = twoChangeResubmission();
const later: Invoice = {
  ...original,
  invoice_id: 'later',
  invoice_date: '2024-08-01',
  invoice_number: `${original.invoice_number}7`,
};

/** `duplicate@2`'s ONNX scores on main, in the order of {@link comparisons}. */
const PINNED = [
  0.919077, 0.919077, 0.9802236, 0.9802236, 0.9972135, 0.9972135, 0.9972597, 0.9972597, 0.1031254, 0.1031254,
  0.3341331, 0.3341331, 0.9181812, 0.9181812, 0.9204248, 0.9204248, 0.998324, 0.998324, 0.9993401, 0.9993401,
  0.9998428, 0.9998428, 0.9998454, 0.9998454,
];

function comparisons(): PairComparison[] {
  const out: PairComparison[] = [];
  const side = (i: Invoice) => pairSideOfInvoice(i, extractInvoiceFeatures(i));
  for (const [a, b] of [
    [resubmitted, original],
    [later, original],
    [original, original],
  ] as const)
    for (const cosine of [0.8, 0.9, 0.97, 0.99])
      for (const interval of [null, 30]) out.push(comparePair(side(a), side(b), cosine, interval));
  return out;
}

describe('pair-vector editions', () => {
  it('edition 2 is the vector duplicate@2 was trained on, a prefix of the current one', () => {
    const card = JSON.parse(
      readFileSync(join(shippedModelsDir(), 'duplicate', '2', 'card.json'), 'utf8'),
    ) as { featureNames: string[]; featureSchemaVersion: string };
    const [e2] = earlierVectorVersions('pair');
    expect(e2!.edition).toBe(2);
    expect(e2!.names).toEqual(card.featureNames);
    expect([e2!.version, ...e2!.accepted]).toContain(card.featureSchemaVersion);
    expect(PAIR_VECTOR_NAMES.slice(0, e2!.names.length)).toEqual(e2!.names);
    expect(PAIR_VECTOR_NAMES.length).toBeGreaterThan(e2!.names.length);
    expect(editionOfNames('pair', card.featureNames)).toBe(2);
    expect(editionOfNames('pair', PAIR_VECTOR_NAMES)).toBe(4);
    // duplicate@4 (monotone) was trained on edition 3 and is served by name projection too
    const card4 = JSON.parse(
      readFileSync(join(shippedModelsDir(), 'duplicate', '4', 'card.json'), 'utf8'),
    ) as { featureNames: string[]; featureSchemaVersion: string };
    const e3 = earlierVectorVersions('pair').find((e) => e.edition === 3)!;
    expect(e3.names).toEqual(card4.featureNames);
    expect([e3.version, ...e3.accepted]).toContain(card4.featureSchemaVersion);
    expect(VECTOR_EDITIONS.pair.map((e) => e.edition)).toEqual([2, 3, 4]);
    expect(COMPARISONS.filter((c) => c.since === 3).map((c) => c.name)).toEqual([
      'billing_rhythm',
      'vendor_number',
    ]);
    expect(COMPARISONS.filter((c) => c.since === 4).map((c) => c.name)).toEqual([
      'invoice_number_unpadded',
      'vendor_number_unpadded',
      'invoice_date_years',
    ]);
  });

  describe('duplicate@2 served from a registry whose champion it is', () => {
    let dir: string;
    let registry: ModelRegistry;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'triage-editions-'));
      cpSync(shippedModelsDir(), dir, { recursive: true });
      const aliases = join(dir, 'duplicate', 'aliases.json');
      const a = JSON.parse(readFileSync(aliases, 'utf8')) as { champion: string };
      writeFileSync(aliases, JSON.stringify({ ...a, champion: '2' }));
      registry = new ModelRegistry({ root: dir, featureSchemas: servedFeatureSchemas() });
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('loads and scores exactly as before the vector changed', async () => {
      const m = await ChampionModel.load(registry, 'duplicate', {
        expected: servedFeatureSchemas().duplicate,
        watchIntervalMs: null,
      });
      try {
        expect(m.label).toBe('duplicate@2');
        const rows = comparisons().map((c) => Array.from(featurePairVectoriser(c, m.current)));
        for (const r of rows) expect(r).toHaveLength(m.current.card.featureNames.length);
        const scores = Array.from((await m.current.session.run(rows)).probability);
        scores.forEach((s, i) => expect(s, `pair ${i}`).toBeCloseTo(PINNED[i]!, 6));
      } finally {
        await m.close();
      }
    });

    it('is refused by the current vector alone (the earlier edition is what lets it load)', async () => {
      const { earlier: _, ...currentOnly } = servedFeatureSchemas().duplicate;
      await expect(
        ChampionModel.load(registry, 'duplicate', { expected: currentOnly, watchIntervalMs: null }),
      ).rejects.toMatchObject({ code: 'TRIAGE_MODEL_SIGNATURE_MISMATCH' });
    });
  });
});
