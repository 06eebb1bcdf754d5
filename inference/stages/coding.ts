/**
 * Stage 2, coding: the coding-mismatch scorer's result for every line, joined to its line
 * record. Lines are scored in slices with a turn of the event loop between them
 * (core/slices.ts), so that a long invoice does not stall other requests and stops soon after
 * its deadline.
 */
import type { Invoice } from '../../core/invoice.js';
import { LINE_SLICE, mapInSlices } from '../../core/slices.js';
import type { CodingMismatchScorer, LineScore, MaybePromise, ScoringContext } from '../scorers.js';
import type { LineRecord } from './types.js';

/** Lines scored between two turns of the event loop. */
export const LINE_CHUNK = LINE_SLICE;

/**
 * Scores the lines of an invoice.
 * @param signal checked between slices: scoring stops with its reason once it aborts.
 * @throws RangeError when the scorer returns another number of results than lines it was given.
 * @throws the abort reason of `signal` when it aborts between two slices.
 */
export async function scoreCoding(
  scorer: CodingMismatchScorer<MaybePromise<LineScore[]>>,
  invoice: Invoice,
  lines: readonly Omit<LineRecord, 'score'>[],
  context: ScoringContext,
  signal?: AbortSignal,
): Promise<LineRecord[]> {
  return mapInSlices(
    lines,
    async (chunk) => {
      const scores = await scorer.scoreLines(
        invoice,
        chunk.map((l) => l.features),
        context,
      );
      if (scores.length !== chunk.length)
        throw new RangeError(`${scorer.version} scored ${scores.length} of ${chunk.length} lines`);
      return scores.map((score, j) => ({ ...(chunk[j] as Omit<LineRecord, 'score'>), score }));
    },
    { size: LINE_CHUNK, ...(signal ? { signal } : {}) },
  );
}
