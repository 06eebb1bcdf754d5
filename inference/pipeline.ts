/**
 * The scoring service: `score()` runs the stages of ./stages/index.ts on a validated invoice
 * (the caller validates) for a tenant, and the service answers what its callers ask beside
 * scoring: the policy in effect, CMS text of a code, vendor categories the reference lacks.
 */
import { fingerprintMatches } from '../core/fingerprint.js';
import { randomUUID } from 'node:crypto';
import type { DecisionResponse } from '../core/decision.js';
import type { FieldError } from '../core/errors.js';
import type { Invoice } from '../core/invoice.js';
import { featureSchemaVersion } from '../features/schema.js';
import {
  conflict,
  type CandidateSearch,
  type CandidateResult,
  type ScoringInputs,
  type ScoringTx,
  type StoredDecision,
} from '../store/repository.js';
import { DEFAULT_POLICY_DEFINITION, type PolicyDefinition } from './policy.js';
import { extractionConfidenceReasons } from './extraction-confidence.js';
import {
  applyRules,
  buildDecision,
  buildExplanation,
  DEFAULT_CANDIDATE_K,
  DEFAULT_REPORT_DUPLICATE_AT,
  findCandidates,
  matchProcurement,
  persist,
  persistExtras,
  prepare,
  prepareInSlices,
  prioritise,
  routeInvoice,
  scoreCoding,
  scoreDuplicates,
  findLineRebills,
  withLineRebills,
  thresholdResolver,
  type Prepared,
  type ReferenceCodeInfo,
  type ServiceVersions,
  withBaselineEvidence,
  withAmountAtRisk,
  withProcurement,
} from './stages/index.js';
import { hcpcsCode } from '../features/baselines.js';
import { matchInvoiceProcurement } from './procurement/match-invoice.js';
import type { ScoredEvent, ScoringMonitor } from '../monitoring/hooks.js';
import { createChunkScorer, type MemberReads } from './chunk-scoring.js';
import { createConfigCache } from './config-cache.js';
import { LINE_SLICE, nextTurn } from '../core/slices.js';

import type { ScoringDeps, ScoreOptions, ScoreOutcome, ScoringService } from './service.js';

export type { ScoringDeps, ScoreOutcome, ScoreOptions, ScoringService } from './service.js';

export { withScore } from './with-score.js';

/** The tenant of the CLI and of callers that do not name one. */
export const DEFAULT_TENANT = 'default';

/** The stored decision of a re-sent invoice, or null when none is stored. @throws TriageError `TRIAGE_INVOICE_CONFLICT` for other content under the same id. */
function replay(p: Prepared, stored: StoredDecision | null): ScoreOutcome | null {
  if (!stored) return null;
  if (!fingerprintMatches(stored.payloadSha256, p.invoice, p.sha256)) throw conflict(p.invoice.invoice_id);
  return { decision: stored.decision, created: false };
}

/** Creates the scoring service. */
export function createScoringService(deps: ScoringDeps): ScoringService {
  const k = deps.candidateK ?? DEFAULT_CANDIDATE_K;
  const reportAt = deps.reportDuplicateAt ?? DEFAULT_REPORT_DUPLICATE_AT;
  const clock = deps.clock ?? (() => new Date());
  const newId = deps.newId ?? randomUUID;
  const defaultPolicy = deps.defaultPolicy ?? DEFAULT_POLICY_DEFINITION;
  const ref = deps.reference;
  const schemaVersion = featureSchemaVersion();
  const currentVersions = (): ServiceVersions => ({
    models: { 'coding-mismatch': deps.coding.version, duplicate: deps.duplicate.version },
    feature_schema: schemaVersion,
    policy: defaultPolicy.label,
    reference_data: deps.referenceVersion,
  });
  const thresholds = thresholdResolver({
    defaultPolicy,
    fromCards: deps.thresholdsFromCards ?? true,
    coding: deps.coding,
    duplicate: deps.duplicate,
    ...(deps.warn ? { warn: deps.warn } : {}),
  });
  const effectiveThresholds = (def: PolicyDefinition) =>
    thresholds(def, { vendorCategory: null, facilityId: null });

  const configCache = createConfigCache(deps.repo, defaultPolicy);
  function policyFor(tenantId: string): Promise<PolicyDefinition> {
    return deps.repo.policies.latestVersion(tenantId).then((v) => configCache.policyAt(tenantId, v));
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

  /** Upper-case HCPCS codes of an invoice's lines, whose vendor baselines scoring reads. */
  const codesOf = (invoice: Invoice) => invoice.lines.map(hcpcsCode).filter((c): c is string => c !== null);

  /** The store reads before one invoice's transaction, in one statement (store/scoring-reads.ts). */
  async function storedInputs(tenantId: string, invoice: Invoice): Promise<ScoringInputs> {
    const [inputs] = await deps.repo.scoringInputsMany(
      tenantId,
      [{ vendorId: invoice.vendor.id, codes: codesOf(invoice) }],
      deps.coding.usesVendorHistory === true,
    );
    return inputs!;
  }

  /** The vendor's master record and the tenant's policy at the versions read, with the scoring context. */
  async function vendorAndPolicy(tenantId: string, invoice: Invoice, inputs: ScoringInputs) {
    const [profile, policyDef] = await Promise.all([
      configCache.profileAt(tenantId, invoice.vendor.id, inputs.versions.vendor),
      configCache.policyAt(tenantId, inputs.versions.policy),
    ]);
    const context = { vendorProfile: profile, vendorCodeCounts: inputs.codeCounts };
    return { profile, policyDef, context: { ...context, vendorBaselines: inputs.baselines } };
  }

  /**
   * Stages 2-4, before the scoring transaction: the vendor's profile and history, the tenant's
   * policy and the thresholds the routing applies, the coding scorer per line (its reasons from
   * the policy's coding review threshold when stricter than the card's), the rules.
   */
  async function scoreLines(
    invoice: Invoice,
    tenantId: string,
    p: Prepared,
    inputs?: ScoringInputs,
    signal?: AbortSignal,
  ) {
    const { profile, policyDef, context } = await vendorAndPolicy(
      tenantId,
      invoice,
      inputs ?? (await storedInputs(tenantId, invoice)),
    );
    const vendorCategory = profile?.category ?? null;
    const { policy, sources } = thresholds(policyDef, {
      vendorCategory,
      facilityId: invoice.facility_id ?? null,
    });
    const coded = await scoreCoding(
      deps.coding,
      invoice,
      p.lines,
      { ...context, codingReviewAt: policy.codingReview },
      signal,
    );
    const rules = applyRules(invoice, withBaselineEvidence(coded, context), profile, ref);
    return { profile, policyDef, context, rules, policy, sources, vendorCategory };
  }
  type LineStage = Awaited<ReturnType<typeof scoreLines>>;
  type Duplicates = ReturnType<typeof withLineRebills>;
  type Procurement = ReturnType<typeof matchProcurement>;
  type AuditSampler = NonNullable<Awaited<ReturnType<ScoringMonitor['auditSampler']>>>;

  /** Stage 6c: the PO, receipt and contract match against the tenant's ERP data. */
  function procurementOf(
    tx: Pick<ScoringTx, 'procurementContext'>,
    invoice: Invoice,
    policy: LineStage['policy'],
  ) {
    return matchInvoiceProcurement(
      (q) => tx.procurementContext(q),
      invoice,
      deps.lineMatcher,
      policy.procurement,
    );
  }

  /** Stage 10's inputs that come from the service rather than from the invoice's stages. */
  function serviceExplanationInputs() {
    return {
      referenceCode,
      codingVersion: deps.coding.version,
      duplicateVersion: deps.duplicate.version,
      duplicateIntercept: deps.duplicate.intercept ?? null,
    };
  }

  /** What monitoring sees of a new decision (drift counts, shadow scoring). */
  function scoredEventOf(
    tenantId: string,
    p: Prepared,
    s: LineStage,
    duplicates: Duplicates,
    decision: DecisionResponse,
  ): ScoredEvent {
    return {
      tenantId,
      decision,
      invoice: p.invoice,
      lineFeatures: p.lines.map((l) => l.features),
      context: s.context,
      lineScores: s.rules.lines.map((l) => l.score),
      pairs: duplicates.assessment.scored.map((x) => ({
        comparison: x.comparison,
        modelScore: x.modelScore,
      })),
    };
  }

  /** Stages 7-10 inside the transaction: route, priority, the decision and its explanation. */
  function decide(
    p: Prepared,
    s: LineStage,
    duplicates: Duplicates,
    procurement: Procurement,
    search: CandidateSearch,
    now: Date,
  ) {
    const { policy, rules } = s;
    const routed = routeInvoice(policy, rules.lines, duplicates.score, [
      ...rules.reasons,
      ...duplicates.reasons,
      ...extractionConfidenceReasons(p.invoice, policy.extraction),
      ...procurement.reasons,
    ]);
    const today = now.toISOString().slice(0, 10);
    const priority = withAmountAtRisk(
      prioritise(p.invoice, rules.lines, duplicates.score, routed.reasons, policy, today),
      procurement.amountAtRiskCents,
    );
    const common = { prepared: p, lines: rules.lines, duplicates, policyDef: s.policyDef, priority };
    const versions = {
      policyVersion: policy.version,
      thresholdSources: s.sources,
      serviceVersions: currentVersions(),
    };
    const built = withProcurement(
      buildDecision({ ...common, routed, ...versions, decisionId: newId(), now }),
      procurement,
    );
    const explanation = buildExplanation({
      ...common,
      reasons: routed.reasons,
      firing: routed.firing,
      scores: routed.scores,
      ...serviceExplanationInputs(),
      policy,
      vendorCategory: s.vendorCategory,
      profile: s.profile,
      search,
      decisionVersions: built.decision.versions,
    });
    return { built, explanation, priority };
  }

  /**
   * Stages 6-10 inside the transaction, from the candidates to the decision with its
   * audit-sample draw and what monitoring sees of it (`signal`: checked between slices of the
   * line block's pairs).
   */
  async function judge(
    tx: MemberReads,
    tenantId: string,
    pre: Pre,
    found: CandidateResult,
    drawAuditSample: AuditSampler | undefined,
    signal?: AbortSignal,
  ) {
    const { p, s, now } = pre;
    const scored = await scoreDuplicates(p, found.candidates, deps.duplicate, s.policy, reportAt);
    const known = scored.assessment.scored.map((x) => x.candidate);
    const rebills = await findLineRebills(tx, p, known, undefined, signal);
    const duplicates = withLineRebills(scored, rebills);
    const procurement = await procurementOf(tx, p.invoice, s.policy);
    const d = decide(p, s, duplicates, procurement, found.search, now);
    const { decision } = d.built;
    // Monitoring: the audit-sample draw, stored with the decision (call site 2 of 3).
    const auditSample = drawAuditSample?.(decision.decision_id, decision.decision) ?? null;
    return { d, procurement, auditSample, event: scoredEventOf(tenantId, p, s, duplicates, decision) };
  }
  type Judged = Awaited<ReturnType<typeof judge>>;

  /** Stage 11's record of a judged invoice: the decision, with the audit-sample draw in its audit payload. */
  function recordOf(j: Judged) {
    const { built } = j.d;
    return j.auditSample?.sampled
      ? { ...built, auditPayload: { ...built.auditPayload, audit_sample: j.auditSample } }
      : built;
  }

  /** What a PO-backed invoice billed against its PO lines, to record once its decision is stored. */
  function billingOf(pre: Pre, j: Judged) {
    const b = j.procurement.billing;
    if (!b) return null;
    const x = {
      invoiceId: pre.p.invoice.invoice_id,
      poNumber: b.poNumber,
      decisionId: j.d.built.decision.decision_id,
      createdAt: pre.now.toISOString(),
    };
    return { x, allocations: b.allocations };
  }

  /** Stage 11: the write, with the audit-sample draw, and what a PO-backed invoice billed. */
  async function save(tx: ScoringTx, pre: Pre, j: Judged, actorKeyId: string | null) {
    const saved = await persist(
      tx,
      pre.p,
      recordOf(j),
      j.d.explanation,
      j.d.priority,
      actorKeyId,
      j.auditSample,
    );
    const billing = billingOf(pre, j);
    if (saved.created && billing) await tx.recordPoBilling(billing.x, billing.allocations);
    return saved;
  }

  /**
   * Stages 1-4 and the clock, before the transaction (`inputs`: the store reads, when made
   * already; `signal`: checked between slices of lines).
   */
  async function before(
    invoice: Invoice,
    tenantId: string,
    prepared?: Prepared,
    inputs?: ScoringInputs,
    signal?: AbortSignal,
  ) {
    const p = prepared ?? prepare(invoice);
    const s = await scoreLines(invoice, tenantId, p, inputs, signal);
    return { p, s, now: clock() };
  }
  type Pre = Awaited<ReturnType<typeof before>>;

  /** {@link before} for a batch group's members, their store reads in one statement. */
  async function beforeGroup(ps: readonly Prepared[], tenantId: string): Promise<Pre[]> {
    const inputs = await deps.repo.scoringInputsMany(
      tenantId,
      ps.map((p) => ({ vendorId: p.invoice.vendor.id, codes: codesOf(p.invoice) })),
      deps.coding.usesVendorHistory === true,
    );
    return Promise.all(ps.map((p, m) => before(p.invoice, tenantId, p, inputs[m])));
  }

  async function score(
    invoice: Invoice,
    tenantId = DEFAULT_TENANT,
    actorKeyId: string | null = null,
    { signal }: ScoreOptions = {},
  ): Promise<ScoreOutcome> {
    // An aborted request stops at the next of these checks, or at the next statement of the
    // transaction (the store checks the signal), before anything is committed.
    signal?.throwIfAborted();
    const p = await prepareInSlices(invoice, signal);
    const early = replay(p, await deps.repo.findByInvoiceId(tenantId, invoice.invoice_id));
    if (early) return early;
    signal?.throwIfAborted();
    const pre = await before(invoice, tenantId, p, undefined, signal);
    signal?.throwIfAborted();
    // Monitoring: the tenant's audit-sample policy, read before the transaction (call site 1 of 3).
    const drawAuditSample = await deps.monitor?.auditSampler(tenantId);
    let scoredEvent: ScoredEvent | null = null;
    // Candidate search and write under one lock per vendor key and vendor id: concurrent
    // submissions of the same vendor's invoices are scored in turn and see each other.
    const outcome = await deps.repo.withScoringLock(
      tenantId,
      p.lockKeys,
      async (tx) => {
        const found = await findCandidates(tx, p, k);
        const again = replay(p, found.stored ?? null);
        if (again) return again;
        const j = await judge(tx, tenantId, pre, found, drawAuditSample, signal);
        scoredEvent = j.event;
        // The write of a long invoice is one long block: the deadline gets its turn before it.
        if (p.lines.length > LINE_SLICE) await nextTurn(signal);
        return save(tx, pre, j, actorKeyId);
      },
      signal ? { signal } : {},
    );
    // Monitoring: drift counts and shadow scoring of a new decision, off the answer's path (call site 3 of 3).
    if (outcome.created && scoredEvent) deps.monitor?.scored(scoredEvent);
    return outcome;
  }

  const scoreChunk = createChunkScorer<Pre, Judged, AuditSampler>({
    repo: deps.repo,
    k,
    prepare,
    beforeGroup,
    judge,
    write: (pre, j, actorKeyId) => ({
      invoice: pre.p.invoice,
      payloadSha256: pre.p.sha256,
      keys: pre.p.keys,
      decision: j.d.built.decision,
      extras: persistExtras(recordOf(j), j.d.explanation, j.d.priority, actorKeyId, j.auditSample),
    }),
    billing: billingOf,
    auditSampler: async (tenantId) => deps.monitor?.auditSampler(tenantId),
    scored: (j) => deps.monitor?.scored(j.event),
    replay,
  });

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
    input.approved_hcpcs_prefixes.forEach((pfx, i) => {
      if (!ref.coversPrefix(pfx))
        errors.push({ path: `/approved_hcpcs_prefixes/${i}`, message: `no HCPCS code starts with ${pfx}` });
    });
    return errors;
  }

  return {
    score,
    scoreChunk,
    unknownVendorCategories,
    policyFor,
    defaultPolicy,
    effectiveThresholds,
    codingReasonFloor: () => deps.coding.reasonFloor ?? null,
    referenceCode,
    get versions() {
      return currentVersions();
    },
  };
}
