/**
 * Stage 9, decision: the decision response (outcome, queue, priority, scores, reasons,
 * reported duplicates, line results, the reversed invoice, versions) and its audit payload,
 * each built once here. Pure: ids and the clock are passed in.
 */
import { decisionAuditPayload, type DecisionResponse, type Versions } from '../../core/decision.js';
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
    duplicates: i.duplicates.assessment.reported.map((s) => duplicateMatch(invoice, s, lineKeys)),
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
    versions: decisionVersions(i),
    created_at: i.now.toISOString(),
  };
  return {
    decision,
    auditPayload: decisionAuditPayload(decision, sha256, {
      duplicate_of: i.duplicates.flagged?.candidate.invoiceId ?? null,
      reverses: reversal?.candidate.invoiceId ?? null,
      policy_sha256: i.policyDef.sha256,
    }),
  };
}
