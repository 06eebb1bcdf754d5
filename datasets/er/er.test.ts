/**
 * The ER benchmark loaders on the shared folder; skipped (with the reason in the test name)
 * when `<repo>/../shared/datasets/er` is absent.
 */
import { thrownCode } from '../../test/error-code.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { febrlTruePairs, loadAmazonGoogle, loadFebrl, resolvePairs, sharedErDir, titleKey } from './index.js';

const er = sharedErDir();
const skip = er === null;
const why = skip ? ' (skipped: shared datasets/er not found beside the repo or at /work/shared)' : '';

describe(`Amazon-Google loader${why}`, () => {
  it.skipIf(skip)(
    'loads the Leipzig tables, the mapping and the DeepMatcher splits with their documented counts',
    () => {
      const ag = loadAmazonGoogle(join(er!, 'amazon_google'));
      expect([ag.amazon.length, ag.google.length, ag.perfectMapping.length]).toEqual([1_363, 3_226, 1_300]);
      expect([ag.pairs.train.length, ag.pairs.valid.length, ag.pairs.test.length]).toEqual([
        6_874, 2_293, 2_293,
      ]);
      expect(
        ['train', 'valid', 'test'].map((s) => ag.pairs[s as 'test'].filter((p) => p.label === 1).length),
      ).toEqual([699, 234, 234]);
      expect(ag.amazon[0]).toMatchObject({ id: 'b000jz4hqo', manufacturer: 'broderbund', priceCents: null });
      const gbp = ag.google.find((g) => g.priceCurrency === 'GBP')!;
      expect(gbp.priceText).toMatch(/gbp$/);
      expect(Number.isInteger(gbp.priceCents)).toBe(true);
    },
  );

  it.skipIf(skip)(
    'resolves every matching DeepMatcher pair to Leipzig records that the perfect mapping confirms',
    () => {
      const ag = loadAmazonGoogle(join(er!, 'amazon_google'));
      const pos = ag.pairs.test.filter((p) => p.label === 1);
      const resolved = resolvePairs(ag, pos);
      const truth = new Set(ag.perfectMapping.map((m) => `${m.amazonId}|${m.googleId}`));
      for (const p of pos) {
        const r = resolved.get(p.pairId)!;
        expect(r.amazon.length, p.pairId).toBeGreaterThan(0);
        expect(r.google.length, p.pairId).toBeGreaterThan(0);
        const confirmed = r.amazon.some((a) =>
          r.google.some((g) => truth.has(`${ag.amazon[a]!.id}|${ag.google[g]!.id}`)),
        );
        expect(confirmed, p.pairId).toBe(true);
      }
    },
  );
});

describe(`Febrl loader${why}`, () => {
  it.skipIf(skip)('loads the four files with rec_id // 10 as the entity', () => {
    const dir = join(er!, 'febrl');
    const a = loadFebrl(dir, 'A_1000');
    expect(a).toHaveLength(1_000);
    expect(new Set(a.map((r) => r.entityId)).size).toBe(500);
    expect(febrlTruePairs(a)).toHaveLength(500);
    const c = loadFebrl(dir, 'C_5000');
    expect(c).toHaveLength(5_000);
    expect(new Set(c.map((r) => r.entityId)).size).toBe(3_000);
    expect(loadFebrl(dir, 'D_org_1000')).toHaveLength(500);
    expect(loadFebrl(dir, 'D_dup_1000')).toHaveLength(500);
    expect(a.find((r) => r.recId === 1491)).toMatchObject({
      entityId: 149,
      givenName: 'elle',
      surname: 'lee',
    });
  });
});

describe('loader errors and keys (no shared data needed)', () => {
  it('refuses a missing file or column with TRIAGE_FILE_INVALID', () => {
    const dir = mkdtempSync(join(tmpdir(), 'er-'));
    const codeOf = thrownCode;
    expect(codeOf(() => loadFebrl(dir, 'A_1000'))).toBe('TRIAGE_FILE_INVALID');
    writeFileSync(join(dir, 'febrl_dataset_A_1000.csv'), 'rec_id,given_name\n1,x\n');
    expect(codeOf(() => loadFebrl(dir, 'A_1000'))).toBe('TRIAGE_FILE_INVALID');
  });

  it('keys titles across DeepMatcher tokenisation', () => {
    expect(titleKey('adobe dreamweaver cs3 [ mac ]')).toBe(titleKey('Adobe Dreamweaver CS3 [mac]'));
    expect(titleKey('a-b')).not.toBe(titleKey('a-c'));
  });
});
