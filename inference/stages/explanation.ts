/**
 * Stage 10, explanation: why the decision came out as it did, served by
 * `GET /v1/decisions/:id`: each reason with its queue and whether it fired; the coding score
 * decomposed per line (a model's feature-group contributions to the logit, or the heuristic's
 * noisy-OR shares); the best duplicate candidate's contributions; the evidence (billed and
 * suggested codes with their CMS text, candidates, the candidate search); the thresholds in
 * effect and their overrides; the priority's terms in dollars; the versions. Pure.
 */
import type { Explanation, Reason, ReasonCode, Versions } from '../../core/decision.js';
import { REASON_CODES } from '../../core/decision.js';
import { codeApproved, type VendorProfile } from '../../core/vendor.js';
import type { CandidateSearch } from '../../store/repository.js';
import { feeNotComparable } from '../../features/reference-index.js';
import type { ModelExplanation } from '../explain-model.js';
import type { DeferredLineExplanation } from '../scorers.js';
import {
  CODING_SCORE_CODES,
  decomposeLogistic,
  decomposeNoisyOr,
  round3,
  scoreOfReason,
} from '../explain.js';
import type { PolicyDefinition, RoutingPolicy } from '../policy.js';
import { PRIORITY_FORMULA, priorityAsOf } from '../priority.js';
import type { DuplicatesResult } from './duplicates.js';
import type { Prepared } from './prepare.js';
import type { Prioritised } from './priority.js';
import type { InvoiceScores } from './route.js';
import type { LineRecord } from './types.js';

/** CMS reference text of a HCPCS code. */
export interface ReferenceCodeInfo {
  code: string;
  description: string;
  long_description: string;
  betos: string | null;
  termination_date: string | null;
}

/** What an explanation is built from. */
export interface ExplanationInputs {
  prepared: Prepared;
  lines: readonly LineRecord[];
  duplicates: DuplicatesResult;
  /** All reasons, heaviest first. */
  reasons: Reason[];
  firing: readonly ReasonCode[];
  scores: InvoiceScores;
  policy: RoutingPolicy;
  policyDef: PolicyDefinition;
  vendorCategory: string | null;
  profile: VendorProfile | null;
  priority: Prioritised;
  search: CandidateSearch;
  decisionVersions: Versions;
  /** CMS text of a HCPCS code, or null when unknown. */
  referenceCode: (code: string) => ReferenceCodeInfo | null;
  /** Versions of the served scorers, for line and pair scores that do not name theirs. */
  codingVersion: string;
  duplicateVersion: string;
  /** Log-odds intercept of a linear duplicate scorer that states one, else null. */
  duplicateIntercept: number | null;
}

type ExplanationLine = Explanation['coding_mismatch']['lines'][number];

/**
 * A line of a stored explanation whose model attribution is computed when read: the line's
 * score with the model version and input row it is computed from (see
 * {@link resolveStoredExplanation}).
 */
export interface DeferredExplanationLine {
  line_number: number;
  score: number;
  checks: [];
  completeness_gap: 0;
  explain_later: DeferredLineExplanation;
}

/**
 * The explanation as stored: an {@link Explanation} whose coding lines below the reason
 * threshold may be {@link DeferredExplanationLine}s.
 */
export type StoredExplanation = Omit<Explanation, 'coding_mismatch'> & {
  coding_mismatch: Omit<Explanation['coding_mismatch'], 'lines'> & {
    lines: (ExplanationLine | DeferredExplanationLine)[];
  };
};

/** A line's model attribution as served: the explanation `e` of `model`'s score `score`. */
function modelLine(lineNumber: number, score: number, model: string, e: ModelExplanation): ExplanationLine {
  return {
    line_number: lineNumber,
    score,
    checks: [],
    completeness_gap: Math.abs(e.completenessGap),
    model: {
      model,
      method: e.method,
      base_value: e.baseValue,
      logit: e.logit,
      contributions: e.contributions.map((c) => ({
        group: c.group,
        value: c.value,
        reason: c.reason ?? null,
      })),
      completeness_gap: e.completenessGap,
    },
  };
}

function isDeferred(l: ExplanationLine | DeferredExplanationLine): l is DeferredExplanationLine {
  return 'explain_later' in l;
}

/**
 * The served explanation of a stored one: each deferred line's attribution computed by
 * `explain` (the coding scorer's `explainStored`), the same line a scoring-time explanation
 * gives. A line whose model version can no longer be explained keeps its score with no
 * attribution. @returns null when `stored` holds no deferred line (nothing to compute).
 */
export async function resolveStoredExplanation(
  stored: StoredExplanation,
  explain: (d: DeferredLineExplanation) => Promise<ModelExplanation | null>,
): Promise<Explanation | null> {
  const lines = stored.coding_mismatch?.lines;
  if (!Array.isArray(lines) || !lines.some(isDeferred)) return null;
  const resolved = await Promise.all(
    lines.map(async (l): Promise<ExplanationLine> => {
      if (!isDeferred(l)) return l;
      const e = await explain(l.explain_later);
      if (!e) return { line_number: l.line_number, score: l.score, checks: [], completeness_gap: 0 };
      return modelLine(l.line_number, l.score, l.explain_later.model, e);
    }),
  );
  return { ...stored, coding_mismatch: { ...stored.coding_mismatch, lines: resolved } };
}

/**
 * The explanation of a decision, as stored: lines whose model explanation was deferred
 * (`LineScore.explainLater`, inference/scorers.ts) are stored as {@link DeferredExplanationLine}s.
 */
export function buildExplanation(args: ExplanationInputs): StoredExplanation {
  const { invoice } = args.prepared;
  // The CMS fees are USD: a line of an invoice in another currency was not compared with them.
  const feeNote = feeNotComparable(invoice.currency);
  const lineScores = args.lines.map((l) => l.score);
  const dup = args.duplicates.assessment;
  const codeEvidence = (
    system: string,
    code: string,
  ): Explanation['evidence']['lines'][number]['suggested'][number] => {
    const info = system === 'HCPCS' ? args.referenceCode(code) : null;
    return {
      system,
      code,
      description: info?.description ?? null,
      long_description: info?.long_description ?? null,
      betos: info?.betos ?? null,
      in_vendor_profile:
        args.profile && system === 'HCPCS' ? codeApproved(args.profile, code, info?.betos ?? '') : null,
    };
  };
  const top = dup.reported[0] ?? null;
  const p = priorityAsOf(args.priority.components, args.priority.asOf);
  return {
    reasons: args.reasons.map((r) => ({
      code: r.code,
      queue: REASON_CODES[r.code]?.queue ?? null,
      summary: REASON_CODES[r.code]?.summary ?? r.message,
      weight: r.weight,
      score: scoreOfReason(r.code),
      line_number: typeof r.evidence.line_number === 'number' ? r.evidence.line_number : null,
      fired: args.firing.includes(r.code),
    })),
    coding_mismatch: {
      score: args.scores.coding_mismatch,
      method: lineScores.some((l) => l.explanation || l.explainLater)
        ? 'max over lines of the line score; line score = calibrated probability of the coding model; its ' +
          'logit = base_value + sum of feature-group contributions (integrated gradients from the training mean) ' +
          '+ completeness_gap'
        : 'max over lines of the line score; line score = noisy-OR 1 - prod(1 - risk) of its checks, so ' +
          '-ln(1 - score) = sum of -ln(1 - risk) exactly; shares split the score in that proportion',
      lines: lineScores.map((l): ExplanationLine | DeferredExplanationLine => {
        if (l.score === null)
          return { line_number: l.lineNumber, score: null, checks: [], completeness_gap: 0 };
        if (l.explanation)
          return modelLine(l.lineNumber, l.score, l.modelVersion ?? args.codingVersion, l.explanation);
        if (l.explainLater)
          return {
            line_number: l.lineNumber,
            score: l.score,
            checks: [],
            completeness_gap: 0,
            explain_later: l.explainLater,
          };
        const d = decomposeNoisyOr(
          l.score,
          l.reasons
            .filter((r) => CODING_SCORE_CODES.has(r.code))
            .map((r) => ({ code: r.code, risk: r.weight })),
        );
        return { line_number: l.lineNumber, score: l.score, checks: d.checks, completeness_gap: d.gap };
      }),
    },
    duplicate: top
      ? (() => {
          if (top.explanation) {
            const e = top.explanation;
            const sum = e.contributions.reduce((a, c) => a + c.value, 0);
            return {
              invoice_id: top.candidate.invoiceId,
              score: top.score,
              method:
                `${top.modelVersion ?? args.duplicateVersion}: calibrated probability of the pair model; ` +
                'logit = intercept (base value at the training mean) + sum of comparison-group contributions ' +
                `(${e.method}) + completeness_gap`,
              contributions: top.contributions,
              sum_of_contributions: sum,
              intercept: e.baseValue,
              logit_score: e.logit,
              completeness_gap: Math.abs(e.completenessGap),
              model_score: top.modelScore,
              rule: top.rule,
            };
          }
          const d = decomposeLogistic(
            top.modelScore,
            top.contributions,
            args.duplicateIntercept,
            top.rule !== null,
          );
          return {
            invoice_id: top.candidate.invoiceId,
            score: top.score,
            method:
              'logistic over the pair comparison vector: log-odds = intercept + sum of contributions (exact, linear)',
            contributions: top.contributions,
            sum_of_contributions: d.sum,
            intercept: args.duplicateIntercept,
            logit_score: d.logit,
            completeness_gap: d.gap,
            model_score: top.modelScore,
            rule: top.rule,
          };
        })()
      : null,
    evidence: {
      lines: args.lines.map(({ line, score }) => ({
        line_number: line.line_number,
        billed: line.code ? codeEvidence(line.code.system, line.code.value.toUpperCase()) : null,
        suggested: score.suggestedCodes.map((s) => codeEvidence('HCPCS', s.value)),
        amount_cents: line.amount_cents,
        ...(feeNote !== null && line.code?.system === 'HCPCS' ? { fee_schedule: feeNote } : {}),
      })),
      duplicates: dup.scored.slice(0, 5).map((s) => ({
        invoice_id: s.candidate.invoiceId,
        decision_id: s.candidate.decisionId,
        embedding_distance: round3(s.candidate.embeddingDistance),
        match_sources: s.candidate.sources,
        earlier_approved: s.candidate.approval !== null,
        score: s.score,
        model_score: s.modelScore,
        rule: s.rule,
        comparison: { ...s.comparison },
      })),
      candidate_search: { ...args.search, candidates: dup.scored.length },
    },
    routing: {
      policy: args.policy.version,
      policy_sha256: args.policyDef.sha256,
      vendor_category: args.vendorCategory,
      facility_id: invoice.facility_id ?? null,
      overrides_applied: [...(args.policy.overridesApplied ?? [])],
      thresholds: {
        'coding.review_at': args.policy.codingReview,
        ...(args.policy.codingHold !== undefined ? { 'coding.hold_at': args.policy.codingHold } : {}),
        'ap.review_at': args.policy.duplicateReview,
        'ap.hold_at': args.policy.duplicateHold,
        'compliance.review_at': args.policy.complianceReview ?? 0.5,
        always_review: args.policy.alwaysReview,
      },
    },
    priority: {
      dollars: Math.round(p.totalCents) / 100,
      expected_loss_dollars: p.expectedLossCents / 100,
      discount_dollars: Math.round(p.discountValueCents) / 100,
      sla_age_dollars: p.slaAgeCents / 100,
      as_of: args.priority.asOf,
      formula: PRIORITY_FORMULA,
    },
    versions: args.decisionVersions,
  };
}
