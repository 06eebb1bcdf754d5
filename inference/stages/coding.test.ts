import { describe, expect, it } from 'vitest';
import type { LineFeatures } from '../../features/invoice-features.js';
import { makeInvoice } from '../../test/fixtures.js';
import type { CodingMismatchScorer } from '../scorers.js';
import { LINE_CHUNK, scoreCoding } from './coding.js';
import { prepare } from './prepare.js';

const context = { vendorProfile: null, vendorCodeCounts: new Map<string, number>() };

/** A scorer that scores a line by its line number / 1000 and records the chunk sizes it saw. */
function recordingScorer(chunks: number[], drop = false): CodingMismatchScorer {
  return {
    task: 'coding-mismatch',
    kind: 'heuristic',
    version: 'test@1',
    scoreLines: (_inv, lines: readonly LineFeatures[]) => {
      chunks.push(lines.length);
      return lines.slice(drop ? 1 : 0).map((f) => ({
        lineNumber: f.lineNumber,
        score: f.lineNumber / 1000,
        reasons: [],
        suggestedCodes: [],
      }));
    },
  };
}

describe('coding stage', () => {
  it('joins each score to its line across chunks', async () => {
    const base = makeInvoice().lines[0]!;
    const n = LINE_CHUNK + 7;
    const inv = makeInvoice({
      lines: Array.from({ length: n }, (_, i) => ({ ...base, line_number: i + 1 })),
      total_cents: base.amount_cents * n,
    });
    const chunks: number[] = [];
    const lines = await scoreCoding(recordingScorer(chunks), inv, prepare(inv).lines, context);
    expect(chunks).toEqual([LINE_CHUNK, 7]);
    expect(lines).toHaveLength(n);
    expect(lines.every((l) => l.score.lineNumber === l.line.line_number)).toBe(true);
    expect(lines[LINE_CHUNK]!.score.score).toBe((LINE_CHUNK + 1) / 1000);
  });

  it('refuses a scorer that loses a line', async () => {
    const inv = makeInvoice();
    await expect(scoreCoding(recordingScorer([], true), inv, prepare(inv).lines, context)).rejects.toThrow(
      'test@1 scored 1 of 2 lines',
    );
  });
});
