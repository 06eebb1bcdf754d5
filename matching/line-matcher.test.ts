import { describe, expect, it } from 'vitest';
import { thrownCode } from '../test/error-code.js';
import { mulberry32 } from '../training/rng.js';
import { DENSE_FEATURE_NAMES, denseComparisons } from './compare.js';
import { idfTable } from '../features/idf.js';
import { fitIdf } from '../features/idf.js';
import { loadLineMatcher, type LineMatcherSpec } from './line-matcher.js';
import type { MatchRecord } from './record.js';
import { CERTIFY_GRID, trainLineMatcher, type LabelledPair } from './train.js';

const ITEMS = [
  ['nitrile exam glove powder free', 'medline', 'GL-7725'],
  ['sterile gauze sponge 4x4 12 ply', 'covidien', 'GZ-4412'],
  ['iv start kit with chlorhexidine', 'bd', 'IV-3001'],
  ['foley catheter 16 fr silicone', 'bard', 'FC-1616'],
  ['surgical mask ear loop level 3', 'halyard', 'SM-3300'],
  ['syringe 10 ml luer lock', 'bd', 'SY-1010'],
  ['alcohol prep pad medium', 'pdi', 'AP-2020'],
  ['wound dressing foam 6x6 adhesive', 'molnlycke', 'WD-6606'],
  ['blood pressure cuff adult large', 'welch allyn', 'BP-5501'],
  ['underpad disposable 30x36 heavy', 'cardinal', 'UP-3036'],
  ['oxygen cannula adult 7 ft', 'salter', 'OC-0707'],
  ['suture nylon 4-0 black monofilament', 'ethicon', 'SU-4040'],
] as const;

/** Invoice-like and PO-like renderings of the same item, and pairs of different items. */
function pairs(seed: number, n: number): LabelledPair[] {
  const rng = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const render = (i: number, style: 'po' | 'inv'): MatchRecord => {
    const [desc, mfr, part] = ITEMS[i]!;
    const price = 1000 + i * 137;
    return style === 'po'
      ? { description: desc, manufacturer: mfr, identifiers: [part], unitPriceCents: price, uom: 'EA' }
      : {
          description: `${mfr} ${desc}`.toUpperCase(),
          identifiers: [part.replace('-', '').toLowerCase()],
          unitPriceCents: price * 10,
          uom: 'BX/10',
        };
  };
  const out: LabelledPair[] = [];
  const idx = ITEMS.map((_, i) => i);
  for (let k = 0; k < n; k++) {
    const i = pick(idx);
    if (rng() < 0.4) out.push({ a: render(i, 'po'), b: render(i, 'inv'), label: 1 });
    else {
      let j = pick(idx);
      while (j === i) j = pick(idx);
      out.push({ a: render(i, 'po'), b: render(j, 'inv'), label: 0 });
    }
  }
  return out;
}

describe('line matcher comparisons', () => {
  const idf = idfTable(fitIdf([['glove'], ['gauz']], { source: 't', tokenizer: 't' }));

  it('are symmetric and see identifiers, pack conversion and prices per base unit', () => {
    const po: MatchRecord = {
      description: 'Nitrile exam glove, powder free, M',
      identifiers: ['010-00715-20'],
      manufacturer: 'Medline',
      unitPriceCents: 412,
      uom: 'EA',
      quantity: 200,
    };
    const inv: MatchRecord = {
      description: 'MEDLINE NITRILE EXAM GLOVE PF M 100/BX',
      identifiers: ['0100071520'],
      unitPriceCents: 41_200,
      uom: 'BX',
      quantity: 2,
    };
    const x = denseComparisons(po, inv, idf);
    const y = denseComparisons(inv, po, idf);
    expect(Array.from(x)).toEqual(Array.from(y));
    const f = (n: string): number => x[DENSE_FEATURE_NAMES.indexOf(n)]!;
    expect(f('identifiers_exact')).toBe(1);
    expect(f('price_log_ratio')).toBe(0);
    expect(f('price_within_5pct')).toBe(1);
    expect(f('quantity_log_ratio')).toBe(0);
    expect(f('manufacturer_agree')).toBe(1);
    expect(f('uom_same_code')).toBe(0);
    expect(f('pack_log_ratio')).toBeCloseTo(Math.log(100), 9);
    // billed per each at the box price: 100 times the price per base unit
    const wrong = denseComparisons(po, { ...inv, uom: 'EA' }, idf);
    expect(wrong[DENSE_FEATURE_NAMES.indexOf('price_log_ratio')]).toBeCloseTo(Math.log(100), 9);
    const variant = denseComparisons(po, { ...inv, identifiers: ['010-00715-20-BLU'] }, idf);
    expect(variant[DENSE_FEATURE_NAMES.indexOf('identifiers_variant')]).toBe(1);
  });

  it('counts the variant attributes both descriptions state alike and differently', () => {
    const rec = (description: string) => ({ description, identifiers: [], unitPriceCents: 745, uom: 'BX' });
    const at = (a: string, b: string) => {
      const x = denseComparisons(rec(a), rec(b), idf);
      return [
        x[DENSE_FEATURE_NAMES.indexOf('variant_agree')],
        x[DENSE_FEATURE_NAMES.indexOf('variant_conflict')],
      ];
    };
    expect(
      at('NITRILE EXAM GLOVE PF TEXTURED LARGE 100/BX', 'Gloves, exam, nitrile, medium, 100/box'),
    ).toEqual([0, 1]);
    expect(at('NITRILE EXAM GLOVE PF TEXTURED MED 100/BX', 'Gloves, exam, nitrile, medium, 100/box')).toEqual(
      [1, 0],
    );
    expect(at('ISOLATION GOWN LVL 2 BLUE XL', 'Isolation gown level 2, yellow, universal')).toEqual([0, 2]);
    expect(at('ISOLATION GOWN LVL 2 YEL XL', 'Isolation gown level 2, yellow, universal')).toEqual([1, 1]);
    expect(at('Foley catheter 16 Fr', 'Foley catheter silicone')).toEqual([0, 0]);
  });
});

describe('trained line matcher', () => {
  const train = pairs(1, 300);
  const valid = pairs(2, 120);
  const test = pairs(3, 120);
  const { spec, matcher } = trainLineMatcher(train, { seed: 5, valid, epochs: 150, trainedOn: 'synthetic' });

  it('separates matches from non-matches on unseen pairs, with a calibrated threshold', () => {
    const right = test.filter((p) => (matcher.score(p.a, p.b) >= spec.threshold ? 1 : 0) === p.label).length;
    expect(right / test.length).toBeGreaterThan(0.95);
    expect(spec.card.valid.f1).toBeGreaterThan(0.9);
    expect(spec.threshold).toBeGreaterThan(0);
    expect(spec.threshold).toBeLessThanOrEqual(1);
    const p = test[0]!;
    expect(matcher.score(p.a, p.b)).toBeCloseTo(matcher.score(p.b, p.a), 12);
  });

  it('keeps similarity weights non-negative and difference weights non-positive', () => {
    const w = (n: string): number => spec.denseWeights[spec.denseFeatures.indexOf(n)]!;
    for (const n of ['desc_tfidf_cosine', 'identifiers_exact', 'manufacturer_agree'])
      expect(w(n)).toBeGreaterThanOrEqual(0);
    for (const n of ['price_log_ratio', 'identifiers_conflict', 'identifiers_variant'])
      expect(w(n)).toBeLessThanOrEqual(0);
  });

  it('is reproducible for a seed and survives a JSON round trip with the same scores', () => {
    const again = trainLineMatcher(train, { seed: 5, valid, epochs: 150, trainedOn: 'synthetic' });
    expect(again.spec.version).toBe(spec.version);
    const loaded = loadLineMatcher(JSON.parse(JSON.stringify(spec)) as LineMatcherSpec);
    for (const p of test.slice(0, 20)) expect(loaded.score(p.a, p.b)).toBe(matcher.score(p.a, p.b));
    const e = loaded.explain(test[0]!.a, test[0]!.b);
    expect(Object.keys(e)).toEqual([
      ...DENSE_FEATURE_NAMES,
      'tokens_common_logit',
      'tokens_different_logit',
      'linear_logit',
      'logit',
    ]);
  });

  it('refuses a tampered or foreign spec', () => {
    const tampered = { ...spec, bias: spec.bias + 1 };
    expect(thrownCode(() => loadLineMatcher(tampered))).toBe('TRIAGE_MODEL_INVALID');
    const foreign = { ...spec, denseFeatures: spec.denseFeatures.slice(1) };
    expect(thrownCode(() => loadLineMatcher(foreign))).toBe('TRIAGE_MODEL_INVALID');
    expect(thrownCode(() => loadLineMatcher({ format: 'x' } as unknown as LineMatcherSpec))).toBe(
      'TRIAGE_MODEL_INVALID',
    );
    expect(() =>
      trainLineMatcher(
        train.filter((p) => p.label === 0),
        { seed: 1, valid },
      ),
    ).toThrow(RangeError);
  });
});

describe('line matcher without validation pairs', () => {
  it('holds out a seeded 20% of the training pairs for calibration and the threshold', () => {
    const train = pairs(6, 300);
    const { spec } = trainLineMatcher(train, { seed: 3, epochs: 100 });
    expect(spec.card.calibration.on).toMatch(/20% of the training pairs/);
    expect(spec.card.train.pairs + spec.card.valid.pairs).toBe(300);
    expect(spec.card.valid.pairs).toBeGreaterThan(30);
    expect(spec.card.valid.pairs).toBeLessThan(90);
    expect(spec.card.valid.f1).toBeGreaterThan(0.9);
  });
});

describe('line matcher with the boosted stage', () => {
  it('trains, round-trips and records its settings on the card', () => {
    const train = pairs(4, 300);
    const valid = pairs(5, 120);
    const { spec, matcher } = trainLineMatcher(train, {
      seed: 9,
      valid,
      epochs: 100,
      boosting: { trees: 20 },
    });
    expect(spec.trees).not.toBeNull();
    expect(spec.card.boosting).toMatchObject({ depth: 3 });
    expect(spec.card.boosting!.trees).toBeLessThanOrEqual(20);
    const loaded = loadLineMatcher(JSON.parse(JSON.stringify(spec)) as LineMatcherSpec);
    const p = valid[0]!;
    expect(loaded.score(p.a, p.b)).toBe(matcher.score(p.a, p.b));
    expect(spec.card.valid.f1).toBeGreaterThan(0.9);
  });
});

describe('line matcher with a certified threshold', () => {
  const train = pairs(7, 300);
  const valid = pairs(8, 120);
  const cert = pairs(9, 600);

  /** The certification pairs' decisions, plus `wrong` wrong matches scored 0.3. */
  const certifyOn = (wrong: number) => ({
    decisions: (score: (a: MatchRecord, b: MatchRecord) => number) => ({
      scores: [...cert.map((p) => score(p.a, p.b)), ...Array<number>(wrong).fill(0.3)],
      labels: [...cert.map((p) => p.label), ...Array<0>(wrong).fill(0)],
      groups: [...cert, ...Array<null>(wrong).fill(null)].map((_, i) => `inv-${Math.floor(i / 3)}`),
    }),
    alpha: 0.05,
    delta: 0.05,
    on: 'synthetic decisions',
  });

  it('writes the lowest certified grid threshold and its guarantee on the card', () => {
    const { spec } = trainLineMatcher(train, { seed: 2, valid, epochs: 100, certify: certifyOn(0) });
    const g = spec.card.guarantee!;
    expect(g).toMatchObject({ alpha: 0.05, delta: 0.05, feasible: true, decisions: 600 });
    expect(spec.threshold).toBe(CERTIFY_GRID[CERTIFY_GRID.length - 1]);
    expect(spec.card.threshold).toBe(spec.threshold);
    expect(g.upperBound).toBeLessThanOrEqual(0.05);
    expect(spec.card.thresholdRule).toMatch(/Learn-then-Test/);
  });

  it('raises the threshold above wrong matches scored in the middle', () => {
    // 60 wrong matches scored 0.3: the fixed sequence stops before reaching them.
    const { spec } = trainLineMatcher(train, { seed: 2, valid, epochs: 100, certify: certifyOn(60) });
    expect(spec.threshold).toBeGreaterThan(0.3);
    expect(spec.card.guarantee!.errors).toBe(0);
    expect(spec.card.guarantee!.upperBound).toBeLessThanOrEqual(0.05);
    const without = trainLineMatcher(train, { seed: 2, valid, epochs: 100 });
    expect(without.spec.card.guarantee).toBeUndefined();
    expect(without.spec.card.thresholdRule).toMatch(/maximum F1/);
  });
});
