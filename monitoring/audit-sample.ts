/**
 * The audit sample of AUTO_APPROVE decisions: a policy share of them, drawn deterministically
 * (sha256 of the tenant's seed and the decision id, see `auditDraw`), is recorded with the
 * decision (its audit entry and `audit_samples`, in the scoring transaction) and listed in the
 * `audit-sample` queue for a post-payment review: the invoice is still auto-approved and paid.
 *
 * Because the draw ignores everything about the invoice, the reviewed sample is a simple random
 * sample of auto-approved invoices, and its share of exceptions is an unbiased estimate of the
 * production auto-approve error rate. The interval is Clopper-Pearson ("exact"; coverage at least
 * the nominal level for every error rate, which matters at the small rates and sample sizes here).
 * The estimate is compared with the certified bound of the cards (Learn-then-Test's `alpha`
 * of the auto-approve threshold): the alert fires when the interval's lower end is above it,
 * i.e. when the data reject "the bound holds" at level (1 - confidence) / 2.
 */
import { createHash } from 'node:crypto';
import { auditDraw, clopperPearson, type Interval } from './stats.js';

/** The draw of one decision under a tenant's policy. */
export interface AuditSampleDraw {
  sampled: boolean;
  rate: number;
  draw: number;
  /** Policy version (1 = service default). */
  policy_version: number;
  /** sha256 of the seed, recorded (the seed itself stays with the policy). */
  seed_sha256: string;
}

/**
 * The draw of a tenant's policy: a decision is sampled when its draw is below the rate.
 * (The seed's sha256 is computed once per policy.)
 */
export function auditSampler(policy: {
  rate: number;
  seed: string;
  version: number;
}): (decisionId: string) => AuditSampleDraw {
  const seedSha256 = createHash('sha256').update(policy.seed).digest('hex');
  return (decisionId) => {
    const draw = auditDraw(policy.seed, decisionId);
    return {
      sampled: draw < policy.rate,
      rate: policy.rate,
      draw,
      policy_version: policy.version,
      seed_sha256: seedSha256,
    };
  };
}

/** The production auto-approve error estimate against the certified bound. */
export interface AutoApproveErrorEstimate {
  /** Sampled AUTO_APPROVE decisions in the window. */
  sampled: number;
  /** Of those, reviewed. */
  reviewed: number;
  /** Reviewed ones in which the review found an exception. */
  errors: number;
  /** errors / reviewed; null before any review. */
  estimate: number | null;
  interval: Interval & { method: 'clopper-pearson'; confidence: number };
  /** The cards' certified bound (largest alpha of the served models' auto-approve thresholds), or null. */
  certified_bound: number | null;
  /** True when the interval's lower end is above the certified bound. */
  alert: boolean;
}

/**
 * Estimates the auto-approve error rate from the reviewed sample.
 * @throws RangeError when errors > reviewed.
 */
export function estimateAutoApproveError(
  counts: { sampled: number; reviewed: number; errors: number },
  certifiedBound: number | null,
  confidence = 0.95,
): AutoApproveErrorEstimate {
  const ci = clopperPearson(counts.errors, counts.reviewed, confidence);
  return {
    ...counts,
    estimate: counts.reviewed ? counts.errors / counts.reviewed : null,
    interval: { ...ci, method: 'clopper-pearson', confidence },
    certified_bound: certifiedBound,
    alert: certifiedBound !== null && counts.reviewed > 0 && ci.lower > certifiedBound,
  };
}
