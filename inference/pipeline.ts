/**
 * The scoring pipeline: validate-free core of `POST /v1/invoices/score` (the caller validates).
 * features -> coding scorer per line -> vendor-profile checks -> duplicate candidates
 * (pgvector kNN with a recall guard, vendor kNN, exact keys) -> pair scorer and document-kind
 * rules -> routing policy (per tenant, with overrides) -> priority -> explanation -> one
 * transactional write with its audit-log row.
 */
import { createHash, randomUUID } from 'node:crypto';
import stringify from 'safe-stable-stringify';
import type { DecisionResponse, Explanation, Reason, ReasonCode, Versions } from '../core/decision.js';
import { REASON_CODES } from '../core/decision.js';
import type { FieldError } from '../core/errors.js';
import type { Invoice } from '../core/invoice.js';
import { codeApproved, type VendorProfile } from '../core/vendor.js';
import { extractInvoiceFeatures, type LineFeatures } from '../features/invoice-features.js';
import { pairSideOfInvoice } from '../features/pair.js';
import { isValidNpi } from '../features/npi.js';
import { featureSchemaVersion } from '../features/schema.js';
import {
  conflict,
  type CandidateSearch,
  type InvoiceIndexKeys,
  type StoredDecision,
  type TriageRepository,
} from '../store/repository.js';
import type {
  CardThresholds,
  CodingMismatchScorer,
  DuplicatePairScorer,
  LineScore,
  MaybePromise,
  PairScore,
  ScoringContext,
} from './scorers.js';
import {
  DEFAULT_POLICY_DEFINITION,
  effectivePolicy,
  parsePolicyDocument,
  policyDefinition,
  routeWithFiring,
  type PolicyDefinition,
  type RoutingPolicy,
} from './policy.js';
import { PRIORITY_FORMULA, priorityAsOf, priorityComponents } from './priority.js';
import { assessDuplicates, duplicateMatch, type DuplicateAssessment } from './duplicate-detector.js';
import {
  decomposeLogistic,
  decomposeNoisyOr,
  reason,
  round3,
  scoreOfReason,
  CODING_SCORE_CODES,
  type SuggestedCode,
} from './explain.js';
import type { ReferenceIndex } from './reference-index.js';
import { HEURISTIC_DUPLICATE_PARAMS } from './heuristic-duplicate.js';
import type { ScoredEvent, ScoringMonitor } from '../monitoring/hooks.js';

/** Dependencies of the scoring service (all injected; nothing here reads the environment). */
export interface ScoringDeps {
  repo: TriageRepository;
  /** Heuristic (sync) or trained ONNX (async) coding scorer. */
  coding: CodingMismatchScorer<MaybePromise<LineScore[]>>;
  /** Heuristic (sync) or trained ONNX (async) pair scorer. */
  duplicate: DuplicatePairScorer<MaybePromise<PairScore>>;
  /**
   * When true (default), the queue thresholds of the default policy yield to the thresholds the
   * served models' cards certify (`coding.review_at`, `coding.hold_at` from the coding model;
   * `ap.review_at`, `ap.hold_at` from the duplicate model). A tenant's stored policy (version 2+)
   * always wins; set false when the default policy is an operator's POLICY_FILE.
   */
  thresholdsFromCards?: boolean;
  /** Version 1 of every tenant's routing policy; default the shipped `policy-default@1`. */
  defaultPolicy?: PolicyDefinition;
  /** HCPCS reference index, for explanations (CMS descriptions) and vendor-profile checks. */
  reference?: ReferenceIndex;
  /** Reference data edition, recorded in every decision. */
  referenceVersion: string;
  /** Nearest neighbours fetched per invoice; default 10. */
  candidateK?: number;
  /** Candidates scoring below this are not reported; default 0.3. */
  reportDuplicateAt?: number;
  clock?: () => Date;
  /** Model monitoring (drift, shadow challengers, audit sample); absent: none. See monitoring/. */
  monitor?: ScoringMonitor;
}

/** Outcome of scoring one invoice. */
export interface ScoreOutcome {
  decision: DecisionResponse;
  /** False when the invoice id had been scored before and the stored decision was returned. */
  created: boolean;
}

/** CMS reference text of a HCPCS code. */
export interface ReferenceCodeInfo {
  code: string;
  description: string;
  long_description: string;
  betos: string | null;
  termination_date: string | null;
}

/** The scoring service used by the API, the CLI and batch jobs. */
export interface ScoringService {
  /**
   * Scores and indexes a validated invoice for a tenant, or returns the stored decision for a
   * re-sent one. `actorKeyId` (the API key that scored it) is stored and audited.
   * @throws TriageError `TRIAGE_INVOICE_CONFLICT` when the invoice id was used for other content.
   */
  score(invoice: Invoice, tenantId?: string, actorKeyId?: string | null): Promise<ScoreOutcome>;
  getDecision(decisionId: string, tenantId?: string): Promise<DecisionResponse | null>;
  /** The routing policy currently in effect for a tenant (its latest version, or the default). */
  policyFor(tenantId: string): Promise<PolicyDefinition>;
  /** CMS reference text of a HCPCS code, or null when unknown (or no reference is loaded). */
  referenceCode(code: string): ReferenceCodeInfo | null;
  /**
   * Vendor-profile categories that name nothing in the HCPCS reference: a BETOS code no HCPCS
   * code carries, or a prefix no code starts with (none when no reference is loaded).
   * @returns one error per bad entry, at `/approved_betos/<i>` or `/approved_hcpcs_prefixes/<i>`.
   */
  unknownVendorCategories(input: {
    approved_betos: readonly string[];
    approved_hcpcs_prefixes: readonly string[];
  }): FieldError[];
  /** Versions of models (the versions serving new calls), feature schema, default policy and reference data. */
  readonly versions: Versions;
}

/**
 * The same service with `score` replaced (for wrappers: deadlines, metrics); every other member
 * delegates to `scoring`, and `versions` is read live (hot-reloaded models).
 */
export function withScore(scoring: ScoringService, score: ScoringService['score']): ScoringService {
  return {
    get versions() {
      return scoring.versions;
    },
    getDecision: (id, tenantId) => scoring.getDecision(id, tenantId),
    policyFor: (tenantId) => scoring.policyFor(tenantId),
    referenceCode: (code) => scoring.referenceCode(code),
    unknownVendorCategories: (input) => scoring.unknownVendorCategories(input),
    score,
  };
}

/** The tenant of the CLI and of callers that do not name one. */
export const DEFAULT_TENANT = 'default';

/** sha256 of the invoice's canonical JSON (keys sorted): the idempotency fingerprint. */
export function payloadSha256(invoice: Invoice): string {
  return createHash('sha256')
    .update(stringify(invoice) ?? '')
    .digest('hex');
}

/** Lines scored between two yields to the event loop. */
const LINE_CHUNK = 100;

/** Weight of `CODE_OUTSIDE_VENDOR_PROFILE` (a rule, not a model score). */
const OUTSIDE_PROFILE_WEIGHT = 0.6;

/**
 * Invoice-level reasons that need no candidates: line arithmetic, total vs lines, the sign of
 * the total, NPI check digit, and the weighted line reasons (with their line number).
 * Mutates `lineScores` to add LINE_AMOUNT_MISMATCH to the affected lines.
 */
function invoiceReasons(invoice: Invoice, lineScores: LineScore[]): Reason[] {
  const reasons: Reason[] = [];
  invoice.lines.forEach((line, i) => {
    const expected = Math.round(line.quantity * line.unit_price_cents);
    const gap = line.amount_cents - expected;
    if (Math.abs(gap) > Math.max(1, Math.abs(expected) * 0.005)) {
      const r = reason('LINE_AMOUNT_MISMATCH', 0.7, {
        line_number: line.line_number,
        amount_cents: line.amount_cents,
        expected_cents: expected,
        gap_cents: gap,
      });
      lineScores[i]!.reasons.push(r);
      reasons.push(r);
    }
  });
  for (const ls of lineScores) {
    for (const r of ls.reasons) {
      if (r.weight > 0 && r.code !== 'LINE_AMOUNT_MISMATCH') {
        reasons.push({ ...r, evidence: { line_number: ls.lineNumber, ...r.evidence } });
      }
    }
  }
  const sumLines = invoice.lines.reduce((a, l) => a + l.amount_cents, 0);
  const totalGap = invoice.total_cents - sumLines;
  if (Math.abs(totalGap) > Math.max(1, Math.abs(invoice.total_cents) * 0.005)) {
    reasons.push(
      reason('TOTAL_MISMATCH', 0.6, {
        total_cents: invoice.total_cents,
        sum_of_lines_cents: sumLines,
        gap_cents: totalGap,
      }),
    );
  }
  if (invoice.document_type !== 'credit_memo' && invoice.total_cents < 0) {
    reasons.push(
      reason('NEGATIVE_TOTAL', 0.6, {
        document_type: invoice.document_type,
        total_cents: invoice.total_cents,
      }),
    );
  }
  if (invoice.vendor.npi !== undefined && !isValidNpi(invoice.vendor.npi)) {
    reasons.push(reason('NPI_INVALID', 0.8, { check: 'Luhn with 80840 prefix' }));
  }
  return reasons;
}

/**
 * Vendor-profile checks on the coded lines (mutates `lineScores`): a HCPCS code outside the
 * profile's approved categories gets `CODE_OUTSIDE_VENDOR_PROFILE`, and suggested codes are
 * restricted to approved categories (recomputed from the reference index when available).
 */
function applyVendorProfile(
  invoice: Invoice,
  features: readonly LineFeatures[],
  lineScores: LineScore[],
  profile: VendorProfile,
  ref: ReferenceIndex | undefined,
): void {
  const betosOf = (code: string): string => ref?.get(code)?.code.betos ?? '';
  const approved = (code: string): boolean => codeApproved(profile, code, betosOf(code));
  invoice.lines.forEach((line, i) => {
    const ls = lineScores[i]!;
    const f = features[i]!;
    if (line.code?.system === 'HCPCS') {
      const code = line.code.value.toUpperCase();
      if (!approved(code) && (ref === undefined || ref.get(code) !== undefined)) {
        ls.reasons.push(
          reason('CODE_OUTSIDE_VENDOR_PROFILE', OUTSIDE_PROFILE_WEIGHT, {
            code,
            betos: betosOf(code) || null,
            vendor_category: profile.category,
            approved_betos: profile.approved_betos,
            approved_hcpcs_prefixes: profile.approved_hcpcs_prefixes,
            vendor_profile_version: profile.version,
          }),
        );
      }
    }
    if (ls.suggestedCodes.length === 0) return;
    const billed = line.code?.value.toUpperCase();
    let restricted: SuggestedCode[];
    if (ref) {
      restricted = ref
        .nearest(f.embedding, 200, billed)
        .filter((n) => approved(n.code))
        .slice(0, Math.max(3, ls.suggestedCodes.length))
        .map((n) => ({
          system: 'HCPCS' as const,
          value: n.code,
          description: n.description,
          similarity: n.similarity,
        }));
    } else {
      restricted = ls.suggestedCodes.filter((s) => approved(s.value));
    }
    ls.suggestedCodes = restricted;
    for (const r of ls.reasons)
      if (r.code === 'DESCRIPTION_CODE_MISMATCH')
        r.evidence = { ...r.evidence, best_suggestion: restricted[0]?.value ?? null };
  });
}

/** Smallest step above a card's auto-approve threshold: the card approves p <= t, the policy reviews p >= review_at. */
const ABOVE = 1e-9;

/**
 * The routing policy with the card thresholds of the served models in place of the default
 * policy's queue thresholds (when `useCards`), and where each threshold came from in `sources`
 * (`model-card:<model>` or `policy:<label>`). A card threshold outside [0, 1] (no threshold met
 * its guarantee in training) means: review every scored invoice (auto-approve side) or hold none.
 */
export function withCardThresholds(
  policy: RoutingPolicy,
  useCards: boolean,
  coding: CardThresholds | null,
  duplicate: CardThresholds | null,
  sources: Record<string, string>,
): RoutingPolicy {
  const fromPolicy = `policy:${policy.version}`;
  sources['coding.review_at'] = fromPolicy;
  sources['ap.review_at'] = fromPolicy;
  sources['ap.hold_at'] = fromPolicy;
  if (policy.codingHold !== undefined) sources['coding.hold_at'] = fromPolicy;
  if (!useCards || (policy.overridesApplied?.length ?? 0) > 0) return policy;
  const out: RoutingPolicy = { ...policy };
  const review = (t: number): number => (t < 0 ? 0 : Math.min(1, t + ABOVE));
  const hold = (t: number): number => (t > 1 ? Number.POSITIVE_INFINITY : Math.max(0, t));
  if (coding) {
    out.codingReview = review(coding.autoApprove);
    out.codingHold = hold(coding.hold);
    sources['coding.review_at'] = `model-card:${coding.model}`;
    sources['coding.hold_at'] = `model-card:${coding.model}`;
  }
  if (duplicate) {
    out.duplicateReview = review(duplicate.autoApprove);
    out.duplicateHold = Math.max(out.duplicateReview, hold(duplicate.hold));
    sources['ap.review_at'] = `model-card:${duplicate.model}`;
    sources['ap.hold_at'] = `model-card:${duplicate.model}`;
  }
  return out;
}

/** Creates the scoring service. */
export function createScoringService(deps: ScoringDeps): ScoringService {
  const k = deps.candidateK ?? 10;
  const reportAt = deps.reportDuplicateAt ?? 0.3;
  const clock = deps.clock ?? (() => new Date());
  const defaultPolicy = deps.defaultPolicy ?? DEFAULT_POLICY_DEFINITION;
  const ref = deps.reference;
  const schemaVersion = featureSchemaVersion();
  const currentVersions = (): Versions => ({
    models: { 'coding-mismatch': deps.coding.version, duplicate: deps.duplicate.version },
    feature_schema: schemaVersion,
    policy: defaultPolicy.label,
    reference_data: deps.referenceVersion,
  });
  const fromCards = deps.thresholdsFromCards ?? true;
  const usesContext = deps.coding.usesVendorHistory === true;
  const duplicateIntercept: number | null =
    'intercept' in deps.duplicate && typeof deps.duplicate.intercept === 'number'
      ? deps.duplicate.intercept
      : deps.duplicate.version === HEURISTIC_DUPLICATE_PARAMS.version
        ? HEURISTIC_DUPLICATE_PARAMS.bias
        : null;

  // Per-tenant cache of the latest policy version; one cheap query per score keeps replicas in step.
  const policyCache = new Map<string, PolicyDefinition>();
  async function policyFor(tenantId: string): Promise<PolicyDefinition> {
    const v = await deps.repo.policies.latestVersion(tenantId);
    if (v <= 1) return defaultPolicy;
    const cached = policyCache.get(tenantId);
    if (cached && cached.label.endsWith(`@${v}`)) return cached;
    const stored = await deps.repo.policies.latest(tenantId);
    if (!stored) return defaultPolicy;
    const def: PolicyDefinition = {
      ...policyDefinition(parsePolicyDocument(stored.document), stored.version),
      label: stored.label,
    };
    policyCache.set(tenantId, def);
    return def;
  }

  function referenceCode(code: string): ReferenceCodeInfo | null {
    const rc = ref?.get(code);
    if (!rc) return null;
    return {
      code: rc.code.code,
      description: rc.code.shortDescription,
      long_description: rc.code.longDescription,
      betos: rc.code.betos || null,
      termination_date: rc.code.terminationDate,
    };
  }

  function explain(args: {
    invoice: Invoice;
    lineScores: LineScore[];
    reasons: Reason[];
    firing: readonly ReasonCode[];
    scores: { coding_mismatch: number; duplicate: number };
    dup: DuplicateAssessment;
    policy: RoutingPolicy;
    policyDef: PolicyDefinition;
    vendorCategory: string | null;
    profile: VendorProfile | null;
    priority: { components: ReturnType<typeof priorityComponents>; asOf: string };
    search: CandidateSearch;
    decisionVersions: Versions;
  }): Explanation {
    const { invoice, lineScores, dup } = args;
    const codeEvidence = (
      system: string,
      code: string,
    ): Explanation['evidence']['lines'][number]['suggested'][number] => {
      const info = system === 'HCPCS' ? referenceCode(code) : null;
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
        method: lineScores.some((l) => l.explanation)
          ? 'max over lines of the line score; line score = calibrated probability of the coding model; its ' +
            'logit = base_value + sum of feature-group contributions (integrated gradients from the training mean) ' +
            '+ completeness_gap'
          : 'max over lines of the line score; line score = noisy-OR 1 - prod(1 - risk) of its checks, so ' +
            '-ln(1 - score) = sum of -ln(1 - risk) exactly; shares split the score in that proportion',
        lines: lineScores.map((l) => {
          if (l.score === null)
            return { line_number: l.lineNumber, score: null, checks: [], completeness_gap: 0 };
          if (l.explanation) {
            const e = l.explanation;
            return {
              line_number: l.lineNumber,
              score: l.score,
              checks: [],
              completeness_gap: Math.abs(e.completenessGap),
              model: {
                model: l.modelVersion ?? deps.coding.version,
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
                  `${top.modelVersion ?? deps.duplicate.version}: calibrated probability of the pair model; ` +
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
              duplicateIntercept,
              top.rule !== null,
            );
            return {
              invoice_id: top.candidate.invoiceId,
              score: top.score,
              method:
                'logistic over the pair comparison vector: log-odds = intercept + sum of contributions (exact, linear)',
              contributions: top.contributions,
              sum_of_contributions: d.sum,
              intercept: duplicateIntercept,
              logit_score: d.logit,
              completeness_gap: d.gap,
              model_score: top.modelScore,
              rule: top.rule,
            };
          })()
        : null,
      evidence: {
        lines: invoice.lines.map((line, i) => ({
          line_number: line.line_number,
          billed: line.code ? codeEvidence(line.code.system, line.code.value.toUpperCase()) : null,
          suggested: lineScores[i]!.suggestedCodes.map((s) => codeEvidence('HCPCS', s.value)),
          amount_cents: line.amount_cents,
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

  async function score(
    invoice: Invoice,
    tenantId = DEFAULT_TENANT,
    actorKeyId: string | null = null,
  ): Promise<ScoreOutcome> {
    const hash = payloadSha256(invoice);
    const replay = (stored: StoredDecision | null): ScoreOutcome | null => {
      if (!stored) return null;
      if (stored.payloadSha256 !== hash) throw conflict(invoice.invoice_id);
      return { decision: stored.decision, created: false };
    };
    const early = replay(await deps.repo.findByInvoiceId(tenantId, invoice.invoice_id));
    if (early) return early;
    const f = extractInvoiceFeatures(invoice);
    const [profile, policyDef, vendorCodeCounts] = await Promise.all([
      deps.repo.vendors.get(tenantId, invoice.vendor.id),
      policyFor(tenantId),
      usesContext
        ? deps.repo.vendors.codeCounts(tenantId, invoice.vendor.id)
        : Promise.resolve(new Map<string, number>()),
    ]);
    const context: ScoringContext = { vendorProfile: profile, vendorCodeCounts };

    // Coding mismatch per line (outside the transaction), yielding to the event loop between
    // chunks so that a long invoice does not stall other requests.
    const lineScores: LineScore[] = [];
    for (let i = 0; i < f.lines.length; i += LINE_CHUNK) {
      if (i > 0) await new Promise((r) => setImmediate(r));
      lineScores.push(...(await deps.coding.scoreLines(invoice, f.lines.slice(i, i + LINE_CHUNK), context)));
    }
    if (profile) applyVendorProfile(invoice, f.lines, lineScores, profile, ref);
    const reasons = invoiceReasons(invoice, lineScores);
    const codingScore = lineScores.reduce((m, l) => Math.max(m, l.score ?? 0), 0);
    const vendorCategory = profile?.category ?? null;
    const thresholdSources: Record<string, string> = {};
    const policy = withCardThresholds(
      effectivePolicy(policyDef, { vendorCategory, facilityId: invoice.facility_id ?? null }),
      fromCards && policyDef === defaultPolicy,
      deps.coding.thresholds ?? null,
      deps.duplicate.thresholds ?? null,
      thresholdSources,
    );
    const me = pairSideOfInvoice(invoice, f);
    const keys: InvoiceIndexKeys = {
      vendorKey: f.vendorKey,
      invoiceNumberNormalised: f.invoiceNumber.normalised,
      invoiceNumberCanonical: f.invoiceNumber.canonical,
      embedding: f.embedding,
      lines: f.lines.map((l) => ({ lineNumber: l.lineNumber, matchKey: l.matchKey, embedding: l.embedding })),
    };
    const now = clock();
    const today = now.toISOString().slice(0, 10);
    const lineKeys = f.lines.map((l) => l.matchKey);
    // Monitoring: the tenant's audit-sample policy, read before the transaction (call site 1 of 3).
    const drawAuditSample = await deps.monitor?.auditSampler(tenantId);
    let scoredEvent: ScoredEvent | null = null;

    // Candidate search and write under one lock per vendor key and vendor id: concurrent
    // submissions of the same vendor's invoices are scored in turn and see each other.
    const outcome = await deps.repo.withScoringLock(
      tenantId,
      [`vendor_key:${f.vendorKey}`, `vendor_id:${invoice.vendor.id}`],
      async (tx) => {
        const again = replay(await tx.findByInvoiceId(invoice.invoice_id));
        if (again) return again;
        const { candidates, search } = await tx.findDuplicateCandidates({
          embedding: f.embedding,
          k,
          vendorKey: f.vendorKey,
          vendorId: invoice.vendor.id,
          invoiceNumberCanonical: f.invoiceNumber.canonical,
          totalCents: invoice.total_cents,
          invoiceDate: invoice.invoice_date,
          documentType: invoice.document_type,
        });
        const dup = await assessDuplicates(
          invoice,
          me,
          candidates,
          deps.duplicate,
          Math.min(reportAt, policy.duplicateReview),
        );
        const duplicateScore = dup.reported[0]?.score ?? 0;
        const allReasons = [...reasons];
        const top = dup.reported[0];
        if (top && duplicateScore >= policy.duplicateReview) {
          const sameNumber = top.candidate.invoiceNumberCanonical === f.invoiceNumber.canonical;
          allReasons.push(
            reason(sameNumber ? 'DUPLICATE_SAME_NUMBER' : 'DUPLICATE_SUSPECTED', duplicateScore, {
              duplicate_of: top.candidate.invoiceId,
              earlier_decision: top.candidate.decision,
              earlier_approved: top.candidate.approval !== null,
              earlier_approval: top.candidate.approval,
              contributions: top.contributions,
              rule: top.rule,
            }),
          );
        }
        const scores = { coding_mismatch: round3(codingScore), duplicate: round3(duplicateScore) };
        // Route on the unrounded scores: a card threshold is exact (p <= autoApprove goes through).
        const { route: routed, firing } = routeWithFiring(
          policy,
          { coding_mismatch: codingScore, duplicate: duplicateScore },
          allReasons,
        );
        allReasons.sort((a, b) => b.weight - a.weight);
        const components = priorityComponents({
          totalCents: invoice.total_cents,
          duplicateScore,
          lines: invoice.lines.map((l, i) => ({
            amountCents: l.amount_cents,
            codingScore: lineScores[i]!.score,
            ruleWeight: Math.max(
              0,
              ...lineScores[i]!.reasons.filter((r) => r.code === 'CODE_OUTSIDE_VENDOR_PROFILE').map(
                (r) => r.weight,
              ),
            ),
          })),
          reasons: allReasons,
          invoiceDate: invoice.invoice_date,
          paymentTerms: invoice.payment_terms,
          receivedDate: invoice.received_date ?? today,
          slaCentsPerDay: policy.slaCentsPerDay ?? 0,
        });
        const decisionVersions: Versions = {
          ...currentVersions(),
          models: {
            'coding-mismatch': lineScores.find((l) => l.modelVersion)?.modelVersion ?? deps.coding.version,
            duplicate: dup.scored.find((s) => s.modelVersion)?.modelVersion ?? deps.duplicate.version,
          },
          policy: policy.version,
          thresholds: thresholdSources,
        };
        const reversal = dup.reversal;
        const decision: DecisionResponse = {
          decision_id: randomUUID(),
          invoice_id: invoice.invoice_id,
          decision: routed.decision,
          ...(routed.queue ? { queue: routed.queue } : {}),
          priority: Math.round(priorityAsOf(components, today).totalCents) / 100,
          scores,
          reasons: allReasons,
          duplicates: dup.reported.map((s) => duplicateMatch(invoice, s, lineKeys)),
          lines: lineScores.map((l) => ({
            line_number: l.lineNumber,
            coding_mismatch: l.score,
            reasons: l.reasons,
            suggested_codes: l.suggestedCodes,
          })),
          ...(reversal
            ? {
                reverses: {
                  invoice_id: reversal.candidate.invoiceId,
                  decision_id: reversal.candidate.decisionId,
                  reversed_cents: reversal.reversedCents,
                  full: reversal.full,
                },
              }
            : {}),
          versions: decisionVersions,
          created_at: now.toISOString(),
        };
        const explanation = explain({
          invoice,
          lineScores,
          reasons: allReasons,
          firing,
          scores,
          dup,
          policy,
          policyDef,
          vendorCategory,
          profile,
          priority: { components, asOf: today },
          search,
          decisionVersions,
        });
        // Monitoring: the audit-sample draw, stored with the decision (call site 2 of 3).
        const auditSample = drawAuditSample?.(decision.decision_id, decision.decision) ?? null;
        scoredEvent = {
          tenantId,
          decision,
          invoice,
          lineFeatures: f.lines,
          context,
          lineScores,
          pairs: dup.scored.map((s) => ({ comparison: s.comparison, modelScore: s.modelScore })),
        };
        return tx.insert(invoice, hash, keys, decision, {
          ...(auditSample ? { auditSample } : {}),
          scoredByKeyId: actorKeyId,
          priority: components,
          explanation,
          reversesInvoiceId: reversal?.candidate.invoiceId ?? null,
          auditPayload: {
            decision_id: decision.decision_id,
            invoice_id: invoice.invoice_id,
            invoice_sha256: hash,
            decision: decision.decision,
            queue: decision.queue ?? null,
            priority: decision.priority,
            scores,
            reason_codes: allReasons.map((r) => r.code),
            duplicate_of: top && duplicateScore >= policy.duplicateReview ? top.candidate.invoiceId : null,
            reverses: reversal?.candidate.invoiceId ?? null,
            versions: decisionVersions,
            policy_sha256: policyDef.sha256,
            ...(auditSample ? { audit_sample: auditSample } : {}),
          },
        });
      },
    );
    // Monitoring: drift counts and shadow scoring of a new decision, off the answer's path (call site 3 of 3).
    if (outcome.created && scoredEvent) deps.monitor?.scored(scoredEvent);
    return outcome;
  }

  function unknownVendorCategories(input: {
    approved_betos: readonly string[];
    approved_hcpcs_prefixes: readonly string[];
  }): FieldError[] {
    if (!ref) return [];
    const errors: FieldError[] = [];
    input.approved_betos.forEach((b, i) => {
      if (!ref.betosCodes.has(b))
        errors.push({ path: `/approved_betos/${i}`, message: `no HCPCS code has the BETOS code ${b}` });
    });
    input.approved_hcpcs_prefixes.forEach((p, i) => {
      if (!ref.coversPrefix(p))
        errors.push({ path: `/approved_hcpcs_prefixes/${i}`, message: `no HCPCS code starts with ${p}` });
    });
    return errors;
  }

  return {
    score,
    unknownVendorCategories,
    getDecision: (id, tenantId = DEFAULT_TENANT) => deps.repo.getDecision(tenantId, id),
    policyFor,
    referenceCode,
    get versions() {
      return currentVersions();
    },
  };
}
