/**
 * The shipped PO line matcher: `models/artifacts/po-line-matcher.json` (a line-matcher spec
 * trained by `npm run train:po-matcher`), served by the procurement stage at the threshold its
 * card certifies (`threshold`, with the `guarantee` it carries). Without the file the stage uses
 * the identifier rule.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertLineMatcherSpec, loadLineMatcher } from '../matching/line-matcher.js';
import type { ProcurementMatcher } from '../inference/procurement/matcher.js';
import { shippedModelsDir } from './models-dir.js';

/** Path of the shipped spec. */
export const shippedPoMatcherPath = (): string => join(shippedModelsDir(), 'po-line-matcher.json');

/**
 * The shipped matcher with its card's threshold, or null when the file is absent.
 * @throws TriageError `TRIAGE_MODEL_INVALID` when the file is not a valid line-matcher spec.
 */
export function loadShippedPoMatcher(
  path = shippedPoMatcherPath(),
): { matcher: ProcurementMatcher; threshold: number } | null {
  if (!existsSync(path)) return null;
  const spec = assertLineMatcherSpec(JSON.parse(readFileSync(path, 'utf8')) as unknown);
  return { matcher: loadLineMatcher(spec), threshold: spec.card.threshold };
}
