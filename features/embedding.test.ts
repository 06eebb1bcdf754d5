import { thrownCode } from '../test/error-code.js';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dot, embedText, embedWords, TEXT_EMBEDDING_RECIPE } from './embedding.js';
import { fnv1a32 } from './hashing.js';
import { descriptionWords, stem } from './text.js';
import {
  featureArtifactsDir,
  fitIdf,
  idfArtifactId,
  idfTable,
  loadIdfArtifact,
  serialiseIdf,
  shippedIdf,
  SHIPPED_IDF_ID,
  type IdfArtifact,
} from './idf.js';

const norm = (v: ArrayLike<number>): number => Math.sqrt(dot(v, v));

describe('shipped IDF artefact', () => {
  it('loads and hashes to its id', () => {
    const t = shippedIdf();
    expect(t.id).toBe(SHIPPED_IDF_ID);
    expect(t.documents).toBe(8_259);
    // Common words weigh less than rare ones; unseen words get the maximum.
    expect(t.idf('inject')).toBeLessThan(t.idf('dexamethason'));
    expect(t.idf('zzzunseen')).toBe(t.unseen);
    expect(t.idf('dexamethason')).toBeLessThan(t.unseen);
  });

  it('is content-addressed: any change to the table changes the id', () => {
    const a = fitIdf([['a', 'b'], ['b']], { source: 's', tokenizer: 't' });
    const b = fitIdf(
      [
        ['a', 'b'],
        ['b', 'c'],
      ],
      { source: 's', tokenizer: 't' },
    );
    expect(idfArtifactId(a)).toMatch(/^idf-[0-9a-f]{12}$/);
    expect(idfArtifactId(a)).not.toBe(idfArtifactId(b));
    expect(idfArtifactId(JSON.parse(serialiseIdf(a)))).toBe(idfArtifactId(a));
    expect(a.df).toEqual({ a: 1, b: 2 });
    expect(idfTable(a).idf('b')).toBeCloseTo(Math.log(3 / 3) + 1, 12);
  });

  it('keeps terms named like prototype members (constructor, __proto__, toString) through the JSON', () => {
    const keys = ['__proto__', 'constructor', 'toString'];
    const a = fitIdf([keys, ['__proto__']], { source: 's', tokenizer: 't' });
    expect(Object.keys(a.df)).toEqual(keys);
    const t = idfTable(JSON.parse(serialiseIdf(a)) as typeof a);
    expect(keys.map((k) => t.idf(k))).toEqual([1, Math.log(3 / 2) + 1, Math.log(3 / 2) + 1]);
  });
});

describe('embedText (recipe 2)', () => {
  it('gives deterministic unit vectors of the recipe dimension', () => {
    const v = embedText('Oxygen concentrator, single delivery port');
    expect(v).toBeInstanceOf(Float32Array);
    expect(v).toHaveLength(TEXT_EMBEDDING_RECIPE.dim);
    expect(norm(v)).toBeCloseTo(1, 5);
    expect(embedText('Oxygen concentrator, single delivery port')).toEqual(v);
    expect(norm(embedText(''))).toBe(0);
    expect(embedText('abc', { dim: 64 })).toHaveLength(64);
  });

  it('puts abbreviations, typos and reorderings near the original, other products far', () => {
    const ref = embedText(
      'Oxygen concentrator, single delivery port, capable of delivering 85 percent or greater',
    );
    const near = [
      embedText('O2 conc single port'),
      embedText('OXYGEN CONCENTRATR SINGLE DELIVERY PORT'),
      embedText('single port oxygen concentrator'),
    ];
    const far = [
      embedText('Standard wheelchair, fixed full length arms'),
      embedText('Blood count; complete (cbc)'),
    ];
    for (const n of near) for (const f of far) expect(dot(ref, n)).toBeGreaterThan(dot(ref, f) + 0.2);
  });

  it('refuses an artefact that is missing, malformed or edited', () => {
    const dir = mkdtempSync(join(tmpdir(), 'idf-'));
    const shippedFile = join(featureArtifactsDir(), `${SHIPPED_IDF_ID}.json`);
    const good = JSON.parse(readFileSync(shippedFile, 'utf8')) as IdfArtifact;
    const codeOf = thrownCode;
    expect(codeOf(() => loadIdfArtifact(join(dir, 'none.json'), SHIPPED_IDF_ID))).toBe(
      'TRIAGE_FEATURES_ARTIFACT_INVALID',
    );
    writeFileSync(join(dir, 'bad.json'), '{not json');
    expect(codeOf(() => loadIdfArtifact(join(dir, 'bad.json'), SHIPPED_IDF_ID))).toBe(
      'TRIAGE_FEATURES_ARTIFACT_INVALID',
    );
    writeFileSync(join(dir, 'edited.json'), serialiseIdf({ ...good, df: { ...good.df, inject: 1 } }));
    expect(codeOf(() => loadIdfArtifact(join(dir, 'edited.json'), SHIPPED_IDF_ID))).toBe(
      'TRIAGE_FEATURES_ARTIFACT_INVALID',
    );
    writeFileSync(join(dir, 'same.json'), JSON.stringify(good)); // other indentation, same content
    expect(loadIdfArtifact(join(dir, 'same.json'), SHIPPED_IDF_ID).id).toBe(SHIPPED_IDF_ID);
  });
});

/**
 * The recipe written out plainly (substrings hashed, a stem map, fresh arrays): the oracle the
 * served {@link embedWords} must equal bit for bit, whatever its caches and scratch buffers.
 */
function plainEmbedding(
  words: readonly string[],
  idf: ReturnType<typeof shippedIdf>,
  dim = 128,
  alpha = 0.7,
): Float32Array {
  const chars = new Float64Array(dim);
  const part = new Float64Array(dim);
  const add = (acc: Float64Array, h: number, w: number): void => {
    acc[h % dim]! += h & 0x80000000 ? -w : w;
  };
  const unit = (v: Float64Array): void => {
    const s = v.reduce((a, x) => a + x * x, 0);
    if (s > 0) for (let i = 0; i < dim; i++) v[i]! *= 1 / Math.sqrt(s);
  };
  const tf = new Map<string, number>();
  for (const w of words) {
    const s = /^\d/.test(w) ? w : stem(w);
    const padded = ` ${w} `;
    const grams: number[] = [];
    for (const n of TEXT_EMBEDDING_RECIPE.ngrams)
      for (let i = 0; i + n <= padded.length; i++) grams.push(fnv1a32(padded.slice(i, i + n)));
    for (const g of grams) add(chars, g, idf.idf(s) / Math.sqrt(grams.length || 1));
    tf.set(s, (tf.get(s) ?? 0) + 1);
  }
  for (const [s, n] of tf) add(part, fnv1a32(`w:${s}`), (1 + Math.log(n)) * idf.idf(s));
  unit(chars);
  unit(part);
  const out = new Float64Array(dim).map((_, i) => alpha * chars[i]! + (1 - alpha) * part[i]!);
  unit(out);
  return Float32Array.from(out);
}

describe('embedWords', () => {
  it('equals the plain recipe bit for bit, with repeated words and stems and two IDF tables in turn', () => {
    const other = idfTable(
      fitIdf([['oxygen'], ['oxygen', 'concentr'], ['walker']], { source: 't', tokenizer: 't' }),
    );
    const texts = [
      'Oxygen concentrator, oxygen concentrators, single delivery port, monthly rental',
      'Dexamethasone sodium phosphate 10 mg, lot 7x3',
      'Walker walker walkers folding wheeled',
      '',
      'Gauze pad sterile 4x4, 25/bx',
    ];
    for (const idf of [shippedIdf(), other, shippedIdf()])
      for (const t of texts) {
        const w = descriptionWords(t);
        expect([...embedWords(w, { idf })]).toEqual([...plainEmbedding(w, idf)]);
        expect([...embedWords(w, { idf, dim: 64, charWeight: 0.5 })]).toEqual([
          ...plainEmbedding(w, idf, 64, 0.5),
        ]);
      }
  });
});
