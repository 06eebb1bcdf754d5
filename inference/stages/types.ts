/** Records the scoring stages pass along (see ./index.ts for the stage order). */
import type { InvoiceLine } from '../../core/invoice.js';
import type { LineFeatures } from '../../features/invoice-features.js';
import type { LineScore } from '../scorers.js';

/** One invoice line with its features and its coding score, carried through every stage. */
export interface LineRecord {
  line: InvoiceLine;
  features: LineFeatures;
  score: LineScore;
}
