/**
 * Stage 2, coding: the coding-mismatch scorer's result for every line, joined to its line
 * record. Lines are scored in chunks with a yield to the event loop between chunks, so that a
 * long invoice does not stall other requests.
 */
import type { Invoice } from '../../core/invoice.js';
import type { CodingMismatchScorer, LineScore, MaybePromise, ScoringContext } from '../scorers.js';
import type { LineRecord } from './types.js';

/** Lines scored between two yields to the event loop. */
export const LINE_CHUNK = 100;

/**
 * Scores the lines of an invoice.
 * @throws RangeError when the scorer returns another number of results than lines it was given.
 */
export async function scoreCoding(
  scorer: CodingMismatchScorer<MaybePromise<LineScore[]>>,
  invoice: Invoice,
  lines: readonly Omit<LineRecord, 'score'>[],
  context: ScoringContext,
): Promise<LineRecord[]> {
  const out: LineRecord[] = [];
  for (let i = 0; i < lines.length; i += LINE_CHUNK) {
    if (i > 0) await new Promise((r) => setImmediate(r));
    const chunk = lines.slice(i, i + LINE_CHUNK);
    const scores = await scorer.scoreLines(
      invoice,
      chunk.map((l) => l.features),
      context,
    );
    if (scores.length !== chunk.length)
      throw new RangeError(`${scorer.version} scored ${scores.length} of ${chunk.length} lines`);
    scores.forEach((score, j) => out.push({ ...(chunk[j] as Omit<LineRecord, 'score'>), score }));
  }
  return out;
}
