import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REASON_CODES } from './decision.js';
import {
  CODING_SCORE_CODES,
  DUPLICATE_SCORE_CODES,
  scoreOfReason,
  tasksWithFindings,
} from './review-tasks.js';

describe('review tasks of reason codes', () => {
  it('names only reason codes of the catalogue, each in one task', () => {
    for (const code of [...CODING_SCORE_CODES, ...DUPLICATE_SCORE_CODES])
      expect(Object.keys(REASON_CODES), code).toContain(code);
    expect([...CODING_SCORE_CODES].filter((c) => DUPLICATE_SCORE_CODES.has(c))).toEqual([]);
  });

  it('puts a re-billed line in the duplicate task, rules in neither', () => {
    expect(scoreOfReason('LINE_REBILLED')).toBe('duplicate');
    expect(scoreOfReason('DUPLICATE_SAME_NUMBER')).toBe('duplicate');
    expect(scoreOfReason('PRICE_ABOVE_FEE_SCHEDULE')).toBe('coding_mismatch');
    expect(scoreOfReason('TOTAL_MISMATCH')).toBe('rule');
  });

  it('names the scored tasks whose reasons the decision carries', () => {
    expect(
      tasksWithFindings(['DESCRIPTION_CODE_MISMATCH', 'PRICE_ABOVE_FEE_SCHEDULE', 'DUPLICATE_SUSPECTED']),
    ).toEqual(['coding-mismatch', 'duplicate']);
    expect(tasksWithFindings(['LINE_REBILLED', 'TOTAL_MISMATCH'])).toEqual(['duplicate']);
    expect(tasksWithFindings(['DUPLICATE_SUSPECTED', 'CODING_MODEL_RISK'])).toEqual([
      'coding-mismatch',
      'duplicate',
    ]);
    expect(tasksWithFindings(['TOTAL_MISMATCH', 'NPI_INVALID'])).toEqual([]);
  });

  it('imports nothing, so that the console can bundle it', () => {
    const source = readFileSync(fileURLToPath(new URL('./review-tasks.ts', import.meta.url)), 'utf8');
    expect(source).not.toMatch(/^\s*import\b/m);
    expect(source).not.toMatch(/^export .* from /m);
  });
});
