/**
 * Stage 9, decision: the decision response (outcome, queue, priority, scores, reasons,
 * reported duplicates, line results, the reversed invoice, versions) and its audit payload,
 * each built once here. Pure: ids and the clock are passed in.
 */
import {
  decisionAuditPayload,
  type DecisionResponse,
  type DuplicateMatch,
  type Versions,
} from '../../core/decision.js';
import { duplicateMatch } from '../duplicate-detector.js';
import type { PolicyDefinition } from '../policy.js';
import type { DuplicatesResult } from './duplicates.js';
import type { Prepared } from './prepare.js';
import type { Prioritised } from './priority.js';
import type { Routed } from './route.js';
import type { LineRecord } from './types.js';

/** The service's versions, with the versions of both served scorers. */
export type ServiceVersions = Versions & { models: { 'coding-mismatch': string; duplicate: string } };

/** What a decision is built from. */
export interface DecisionInputs {
  prepared: Prepared;
  lines: readonly LineRecord[];
  duplicates: DuplicatesResult;
  routed: Routed;
  priority: Prioritised;
  policyDef: PolicyDefinition;
  /** Label of the routing policy in effect (with overrides). */
  policyVersion: string;
  /** Where each threshold came from (`versions.thresholds`). */
  thresholdSources: Record<string, string>;
  /** The service's versions now (models serving new calls, feature schema, reference data). */
  serviceVersions: ServiceVersions;
  decisionId: string;
  now: Date;
}

/** A decision with its audit payload. */
export interface BuiltDecision {
  decision: DecisionResponse;
  auditPayload: Record<string, unknown>;
}

/**
 * The versions a decision records: the model versions that scored it (a hot reload may have
 * swapped them since the call began), the policy in effect and the threshold sources.
 */
export function decisionVersions(i: DecisionInputs): Versions {
  return {
    ...i.serviceVersions,
    models: {
      'coding-mismatch':
        i.lines.find((l) => l.score.modelVersion)?.score.modelVersion ??
        i.serviceVersions.models['coding-mismatch'],
      duplicate:
        i.duplicates.assessment.scored.find((s) => s.modelVersion)?.modelVersion ??
        i.serviceVersions.models.duplicate,
    },
    policy: i.policyVersion,
    thresholds: i.thresholdSources,
  };
}

/**
 * The decision's `duplicates`: the reported candidate pairs (kind `invoice`) and the earlier
 * invoices whose lines are billed again (kind `lines`; `invoice_and_lines` when an earlier
 * invoice is both), each with the higher of its two scores, best first (pairs first on a tie).
 */
export function duplicateMatches(
  d: Pick<DuplicatesResult, 'assessment' | 'rebilled'>,
  invoice: Prepared['invoice'],
  lineKeys: readonly string[],
): DuplicateMatch[] {
  const rebilled = new Map(d.rebilled.map((r) => [r.candidate.invoiceId, r]));
  const pairs = d.assessment.reported.map((s) => ({ s, r: rebilled.get(s.candidate.invoiceId) }));
  const reported = new Set(pairs.map((x) => x.s.candidate.invoiceId));
  const onlyLines = d.rebilled
    .filter((r) => !reported.has(r.candidate.invoiceId))
    .map((r) => ({ s: { candidate: r.candidate, score: r.score, rule: null }, r }));
  return [...pairs, ...onlyLines]
    .map(({ s, r }): DuplicateMatch => {
      const m = duplicateMatch(invoice, s, lineKeys);
      if (!r) return { ...m, kind: 'invoice' };
      return {
        ...m,
        kind: reported.has(r.candidate.invoiceId) ? 'invoice_and_lines' : 'lines',
        score: Math.max(m.score, r.score),
        match_sources: [...m.match_sources, 'line_block'],
        rebilled_lines: r.lines.map((l) => ({
          line_number: l.lineNumber,
          earlier_line_number: l.earlierLineNumber,
          score: l.score,
        })),
      };
    })
    .sort((a, b) => b.score - a.score);
}

/**
 * The earlier invoice the audit entry's `duplicate_of` names: the pair flagged at review, else
 * the best-scored earlier invoice whose lines are billed again (`LINE_REBILLED`, a `duplicates`
 * entry of kind `lines` or `invoice_and_lines`), else null.
 */
export function duplicateOf(
  d: Pick<DuplicatesResult, 'flagged'>,
  matches: readonly DuplicateMatch[],
): string | null {
  return (
    d.flagged?.candidate.invoiceId ??
    matches.find((m) => m.kind === 'lines' || m.kind === 'invoice_and_lines')?.invoice_id ??
    null
  );
}

/** Builds the decision and its audit payload. */
export function buildDecision(i: DecisionInputs): BuiltDecision {
  const { invoice, sha256 } = i.prepared;
  const { route, scores, reasons } = i.routed;
  const reversal = i.duplicates.assessment.reversal;
  const lineKeys = i.prepared.features.lines.map((l) => l.matchKey);
  const decision: DecisionResponse = {
    decision_id: i.decisionId,
    invoice_id: invoice.invoice_id,
    decision: route.decision,
    ...(route.queue ? { queue: route.queue } : {}),
    priority: i.priority.dollars,
    scores,
    reasons,
    duplicates: duplicateMatches(i.duplicates, invoice, lineKeys),
    lines: i.lines.map(({ score: l }) => ({
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
    ...(invoice.source ? { source: invoice.source } : {}),
    versions: decisionVersions(i),
    created_at: i.now.toISOString(),
  };
  return {
    decision,
    auditPayload: decisionAuditPayload(decision, sha256, {
      duplicate_of: duplicateOf(i.duplicates, decision.duplicates),
      reverses: reversal?.candidate.invoiceId ?? null,
      policy_sha256: i.policyDef.sha256,
    }),
  };
}
