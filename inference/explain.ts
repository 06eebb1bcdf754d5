/** Builders for reasons and suggestions in the response's shape. */
import { REASON_CODES, type Reason, type ReasonCode } from '../core/decision.js';
import { sigmoid } from '../models/spec.js';

export type { Reason };

/** A suggested replacement code for a line. */
export interface SuggestedCode {
  system: 'HCPCS';
  value: string;
  description: string;
  similarity: number;
}

/** Rounds a probability or weight to 3 decimals for stable output. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** A reason with its catalogue summary as message unless one is given. */
export function reason(
  code: ReasonCode,
  weight: number,
  evidence: Record<string, unknown>,
  message?: string,
): Reason {
  return {
    code,
    message: message ?? REASON_CODES[code].summary,
    weight: round3(Math.min(1, Math.max(0, weight))),
    evidence,
  };
}

// Which reason feeds which score is declared in core/review-tasks.ts (the console bundles it too).
export { CODING_SCORE_CODES, DUPLICATE_SCORE_CODES, scoreOfReason } from '../core/review-tasks.js';

const logSurvival = (p: number): number => -Math.log(Math.max(1e-6, 1 - p));
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * Exact decomposition of a noisy-OR line score, 1 - prod(1 - risk_i): each reported check
 * contributes -ln(1 - risk_i) to -ln(1 - score); whatever the reported checks do not cover
 * (checks below their reporting threshold, e.g. a description risk under 0.5) is the
 * `UNREPORTED_CHECKS` entry. Shares split the score in proportion to those terms, so they add
 * up to the score; the completeness gap is what rounding leaves.
 */
export function decomposeNoisyOr(
  score: number,
  checks: readonly { code: string; risk: number }[],
): { checks: { code: string; risk: number; log_survival: number; share_of_score: number }[]; gap: number } {
  const total = logSurvival(score);
  const terms = checks.map((c) => ({ code: c.code, risk: c.risk, ls: logSurvival(c.risk) }));
  const covered = terms.reduce((a, t) => a + t.ls, 0);
  if (total - covered > 1e-4)
    terms.push({
      code: 'UNREPORTED_CHECKS',
      risk: round3(1 - Math.exp(-(total - covered))),
      ls: total - covered,
    });
  const sum = terms.reduce((a, t) => a + t.ls, 0);
  const out = terms.map((t) => ({
    code: t.code,
    risk: t.risk,
    log_survival: round6(t.ls),
    share_of_score: sum > 0 ? round6((score * t.ls) / sum) : 0,
  }));
  const gap = Math.abs(score - out.reduce((a, t) => a + t.share_of_score, 0));
  return { checks: out, gap: round6(gap) };
}

/**
 * Decomposition of a logistic pair score: contributions in log-odds by comparison, the
 * intercept (when the scorer states it), their sum (the model's log-odds) and the gap between
 * sigmoid(sum) and the reported score (rounding; null when a rule overrode the model or the
 * intercept is unknown).
 */
export function decomposeLogistic(
  modelScore: number,
  contributions: Record<string, number>,
  intercept: number | null,
  overridden: boolean,
): { sum: number; logit: number | null; gap: number | null } {
  const sum = round6(Object.values(contributions).reduce((a, b) => a + b, 0));
  if (intercept === null) return { sum, logit: null, gap: null };
  const logit = round6(intercept + sum);
  return { sum, logit, gap: overridden ? null : round6(Math.abs(sigmoid(logit) - modelScore)) };
}
