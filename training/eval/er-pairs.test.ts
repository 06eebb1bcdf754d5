import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPairSplits } from '../../datasets/er/deepmatcher.js';
import { recordFromFields } from '../../matching/fields.js';
import { thrownCode } from '../../test/error-code.js';
import { evaluatePairDirectory } from './er-pairs.js';
import { renderErTables, writeErReport } from './er.js';

const FIXTURE = join(import.meta.dirname, '../../test/er-pairs');

describe('--er-pairs on a DeepMatcher-layout directory', () => {
  it('reads the splits with their fields and labels', () => {
    const s = readPairSplits(FIXTURE);
    expect(s.fields).toEqual(['name', 'brand', 'modelno', 'price', 'uom']);
    expect([s.train.length, s.valid.length, s.test.length]).toEqual([160, 60, 60]);
    expect(s.test.filter((p) => p.label === 1)).toHaveLength(18);
    expect(s.train[0]!.left).toMatchObject({ name: 'Hypodermic needle 25G x 1 in', modelno: '305125' });
  });

  it('trains the matcher, beats the untrained embedding on test and writes the report and card', async () => {
    const r = evaluatePairDirectory(FIXTURE);
    const m = r.scorers.find((s) => s.name === 'line-matcher')!;
    const e = r.scorers.find((s) => s.name === 'description-embedding')!;
    expect(r.pairs).toEqual({ valid: 60, test: 60, validMatches: 29, testMatches: 18 });
    expect(m.test.f1).toBeGreaterThan(0.9);
    expect(m.test.f1).toBeGreaterThan(e.test.f1);
    expect(r.lineMatcher?.test?.f1).toBe(m.test.f1);
    expect(r.lineMatcher?.seed).toBe(7);
    const out = mkdtempSync(join(tmpdir(), 'er-pairs-'));
    const paths = await writeErReport(r, out);
    expect(paths.card).toBe(join(out, 'line-matcher-card.json'));
    expect(renderErTables(r)).toContain(`pairs in ${FIXTURE}`);
  });

  it('refuses unreadable pair files with TRIAGE_FILE_INVALID naming the file or row', () => {
    const dir = mkdtempSync(join(tmpdir(), 'er-bad-'));
    expect(thrownCode(() => readPairSplits(join(dir, 'absent')))).toBe('TRIAGE_FILE_INVALID');
    expect(thrownCode(() => readPairSplits(dir))).toBe('TRIAGE_FILE_INVALID');
    const good = 'left_title,right_title,label\na,a,1\nb,c,0\n';
    writeFileSync(join(dir, 'train.csv'), good);
    writeFileSync(join(dir, 'valid.csv'), good);
    writeFileSync(join(dir, 'test.csv'), 'left_title,right_title,label\na,a,yes\n');
    expect(() => readPairSplits(dir)).toThrow(/test\.csv row 2: label "yes"/);
    writeFileSync(join(dir, 'test.csv'), 'left_name,right_name,label\na,a,1\n');
    expect(() => readPairSplits(dir)).toThrow(/fields name differ/);
    writeFileSync(join(dir, 'test.csv'), 'left_title,label\na,1\n');
    expect(thrownCode(() => readPairSplits(dir))).toBe('TRIAGE_FILE_INVALID');
  });

  it('maps unknown fields by name', () => {
    expect(
      recordFromFields({
        title: 'Exam glove',
        authors: 'x',
        brand: 'Medline',
        modelno: 'MDS-1950',
        price: '12.99',
        uom: 'BX/100',
        quantity: '3',
      }),
    ).toEqual({
      description: 'Exam glove x',
      identifiers: ['MDS-1950'],
      manufacturer: 'Medline',
      unitPriceCents: 1299,
      uom: 'BX/100',
      packQty: null,
      quantity: 3,
    });
  });
});
