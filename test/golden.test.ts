/**
 * Golden decisions: the scoring service decides exactly as it did when the fixture was written
 * (decision, explanation and audit payload, byte for byte, ids and timestamps aside), on the
 * test split of a small seeded benchmark with duplicates and coding exceptions, on PGlite with
 * the shipped champions. Regenerate only for an intended change of behaviour (see the README
 * of this folder's fixtures: `npm run golden`).
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
  goldenDecisions,
  goldenDifferences,
  readGzipJson,
  readGzipLines,
  type GoldenInput,
} from '../bin/golden-decisions.js';

const dir = fileURLToPath(new URL('./golden/', import.meta.url));

describe('golden decisions', () => {
  it('scores the fixture invoices exactly as recorded', async () => {
    const input = readGzipJson<GoldenInput>(`${dir}input.json.gz`);
    const expected = readGzipLines(`${dir}decisions.jsonl.gz`);
    expect(input.invoices.length).toBe(expected.length);
    const actual = await goldenDecisions(input);
    const diff = goldenDifferences(expected, actual);
    expect(diff.map((d) => d.index)).toEqual([]);
  }, 300_000);

  it('the fixture holds duplicates and coding exceptions', () => {
    const lines = readGzipLines(`${dir}decisions.jsonl.gz`).map(
      (l) =>
        JSON.parse(l) as {
          decision: { decision: string; duplicates: unknown[]; reasons: { code: string }[] };
        },
    );
    const codes = new Set(lines.flatMap((l) => l.decision.reasons.map((r) => r.code)));
    expect(lines.filter((l) => l.decision.duplicates.length > 0).length).toBeGreaterThan(5);
    expect(codes.has('DUPLICATE_SAME_NUMBER')).toBe(true);
    expect(codes.has('PRICE_ABOVE_FEE_SCHEDULE') || codes.has('CODE_UNKNOWN')).toBe(true);
    expect(new Set(lines.map((l) => l.decision.decision))).toEqual(
      new Set(['AUTO_APPROVE', 'REVIEW', 'HOLD']),
    );
  });
});
