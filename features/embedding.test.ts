import { thrownCode } from '../test/error-code.js';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dot, embedText, TEXT_EMBEDDING_RECIPE } from './embedding.js';
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
