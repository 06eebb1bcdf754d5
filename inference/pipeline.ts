/**
 * The scoring pipeline: validate-free core of `POST /v1/invoices/score` (the caller validates).
 * features -> coding scorer per line -> duplicate candidates (pgvector kNN + exact keys) ->
 * pair comparison and pair scorer -> routing policy and priority -> one transactional write.
 */
import { createHash, randomUUID } from 'node:crypto';
import stringify from 'safe-stable-stringify';
import type { DecisionResponse, DuplicateMatch, Reason, Versions } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { comparePair, pairSideOfInvoice } from '../features/pair.js';
import { describeEdits, editScript } from '../features/edits.js';
import { isValidNpi } from '../features/npi.js';
import { featureSchemaVersion } from '../features/schema.js';
import {
  conflict,
  type CandidateInvoice,
  type InvoiceIndexKeys,
  type StoredDecision,
  type TriageRepository,
} from '../store/repository.js';
import type { CodingMismatchScorer, DuplicatePairScorer, LineScore } from './scorers.js';
import { priorityDollars, route, type RoutingPolicy } from './policy.js';
import { reason, round3 } from './explain.js';

/** Dependencies of the scoring service (all injected; nothing here reads the environment). */
export interface ScoringDeps {
  repo: TriageRepository;
  coding: CodingMismatchScorer;
  duplicate: DuplicatePairScorer;
  policy: RoutingPolicy;
  /** Reference data edition, recorded in every decision. */
  referenceVersion: string;
  /** Nearest neighbours fetched per invoice; default 10. */
  candidateK?: number;
  /** Candidates scoring below this are not reported; default 0.3. */
  reportDuplicateAt?: number;
  clock?: () => Date;
}

/** Outcome of scoring one invoice. */
export interface ScoreOutcome {
  decision: DecisionResponse;
  /** False when the invoice id had been scored before and the stored decision was returned. */
  created: boolean;
}

/** The scoring service used by the API, the CLI and (later) batch jobs. */
export interface ScoringService {
  /**
   * Scores and indexes a validated invoice, or returns the stored decision for a re-sent one.
   * @throws TriageError `TRIAGE_INVOICE_CONFLICT` when the invoice id was used for other content.
   */
  score(invoice: Invoice, tenantId?: string): Promise<ScoreOutcome>;
  getDecision(decisionId: string, tenantId?: string): Promise<DecisionResponse | null>;
  readonly versions: Versions;
}

/** The tenant used until API keys bring tenants (scoring-service issue). */
export const DEFAULT_TENANT = 'default';

/** sha256 of the invoice's canonical JSON (keys sorted): the idempotency fingerprint. */
export function payloadSha256(invoice: Invoice): string {
  return createHash('sha256')
    .update(stringify(invoice) ?? '')
    .digest('hex');
}

function differences(inv: Invoice, c: CandidateInvoice): DuplicateMatch['differences'] {
  const out: DuplicateMatch['differences'] = [];
  const diff = (field: string, a: unknown, b: unknown, note?: string): void => {
    if (a !== b) out.push({ field, this_value: a, earlier_value: b, ...(note ? { note } : {}) });
  };
  diff(
    'invoice_number',
    inv.invoice_number,
    c.invoiceNumber,
    describeEdits(editScript(c.invoiceNumber, inv.invoice_number)),
  );
  diff('vendor.id', inv.vendor.id, c.vendorId);
  diff('vendor.name', inv.vendor.name, c.vendorName);
  diff('invoice_date', inv.invoice_date, c.invoiceDate);
  const dTotal = inv.total_cents - c.totalCents;
  diff('total_cents', inv.total_cents, c.totalCents, dTotal !== 0 ? `difference ${dTotal} cents` : undefined);
  diff('currency', inv.currency, c.currency);
  diff('document_type', inv.document_type, c.documentType);
  diff('po_number', inv.po_number ?? null, c.poNumber);
  diff(
    'service_period',
    inv.service_period ? `${inv.service_period.start}/${inv.service_period.end}` : null,
    c.servicePeriodStart ? `${c.servicePeriodStart}/${c.servicePeriodEnd}` : null,
  );
  diff('line_count', inv.lines.length, c.lineMatchKeys.length);
  return out;
}

/** Lines scored between two yields to the event loop. */
const LINE_CHUNK = 100;

/**
 * Invoice-level reasons that need no candidates: line arithmetic, total vs lines, the sign of
 * the total, NPI check digit, and the weighted line coding reasons (with their line number).
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

/** Creates the scoring service. */
export function createScoringService(deps: ScoringDeps): ScoringService {
  const k = deps.candidateK ?? 10;
  const reportAt = deps.reportDuplicateAt ?? 0.3;
  const clock = deps.clock ?? (() => new Date());
  const versions: Versions = {
    models: { 'coding-mismatch': deps.coding.version, duplicate: deps.duplicate.version },
    feature_schema: featureSchemaVersion(),
    policy: deps.policy.version,
    reference_data: deps.referenceVersion,
  };

  async function score(invoice: Invoice, tenantId = DEFAULT_TENANT): Promise<ScoreOutcome> {
    const hash = payloadSha256(invoice);
    const replay = (stored: StoredDecision | null): ScoreOutcome | null => {
      if (!stored) return null;
      if (stored.payloadSha256 !== hash) throw conflict(invoice.invoice_id);
      return { decision: stored.decision, created: false };
    };
    const early = replay(await deps.repo.findByInvoiceId(tenantId, invoice.invoice_id));
    if (early) return early;
    const f = extractInvoiceFeatures(invoice);

    // Coding mismatch per line (CPU only, outside the transaction), yielding to the event loop
    // between chunks so that a long invoice does not stall other requests.
    const lineScores: LineScore[] = [];
    for (let i = 0; i < f.lines.length; i += LINE_CHUNK) {
      if (i > 0) await new Promise((r) => setImmediate(r));
      lineScores.push(...deps.coding.scoreLines(invoice, f.lines.slice(i, i + LINE_CHUNK)));
    }
    const reasons = invoiceReasons(invoice, lineScores);
    const codingScore = lineScores.reduce((m, l) => Math.max(m, l.score ?? 0), 0);
    const me = pairSideOfInvoice(invoice, f);
    const keys: InvoiceIndexKeys = {
      vendorKey: f.vendorKey,
      invoiceNumberNormalised: f.invoiceNumber.normalised,
      invoiceNumberCanonical: f.invoiceNumber.canonical,
      embedding: f.embedding,
      lines: f.lines.map((l) => ({ lineNumber: l.lineNumber, matchKey: l.matchKey, embedding: l.embedding })),
    };

    // Candidate search and write under one lock per vendor key and vendor id: concurrent
    // submissions of the same vendor's invoices are scored in turn and see each other.
    return deps.repo.withScoringLock(
      tenantId,
      [`vendor_key:${f.vendorKey}`, `vendor_id:${invoice.vendor.id}`],
      async (tx) => {
        const again = replay(await tx.findByInvoiceId(invoice.invoice_id));
        if (again) return again;
        const candidates = await tx.findDuplicateCandidates({
          embedding: f.embedding,
          k,
          vendorKey: f.vendorKey,
          vendorId: invoice.vendor.id,
          invoiceNumberCanonical: f.invoiceNumber.canonical,
          totalCents: invoice.total_cents,
          invoiceDate: invoice.invoice_date,
        });
        const scored = candidates
          .map((c) => ({ c, s: deps.duplicate.scorePair(comparePair(me, c, 1 - c.embeddingDistance)) }))
          .filter((x) => x.s.score >= reportAt)
          .sort((a, b) => b.s.score - a.s.score)
          .slice(0, 5);
        const duplicateScore = scored[0]?.s.score ?? 0;
        const allReasons = [...reasons];
        const top = scored[0];
        if (top && duplicateScore >= deps.policy.duplicateReview) {
          const sameNumber = top.c.invoiceNumberCanonical === f.invoiceNumber.canonical;
          allReasons.push(
            reason(sameNumber ? 'DUPLICATE_SAME_NUMBER' : 'DUPLICATE_SUSPECTED', duplicateScore, {
              duplicate_of: top.c.invoiceId,
              earlier_decision: top.c.decision,
              contributions: top.s.contributions,
              rule: top.s.rule,
            }),
          );
        }
        const scores = { coding_mismatch: round3(codingScore), duplicate: round3(duplicateScore) };
        const routed = route(deps.policy, scores, allReasons);
        allReasons.sort((a, b) => b.weight - a.weight);
        const decision: DecisionResponse = {
          decision_id: randomUUID(),
          invoice_id: invoice.invoice_id,
          decision: routed.decision,
          ...(routed.queue ? { queue: routed.queue } : {}),
          priority: priorityDollars(
            invoice.total_cents,
            duplicateScore,
            invoice.lines.map((l, i) => ({ amountCents: l.amount_cents, codingScore: lineScores[i]!.score })),
          ),
          scores,
          reasons: allReasons,
          duplicates: scored.map(({ c, s }) => ({
            invoice_id: c.invoiceId,
            decision_id: c.decisionId,
            earlier_decision: c.decision,
            score: s.score,
            match_sources: c.sources,
            differences: differences(invoice, c),
          })),
          lines: lineScores.map((l) => ({
            line_number: l.lineNumber,
            coding_mismatch: l.score,
            reasons: l.reasons,
            suggested_codes: l.suggestedCodes,
          })),
          versions,
          created_at: clock().toISOString(),
        };
        return tx.insert(invoice, hash, keys, decision);
      },
    );
  }

  return {
    score,
    getDecision: (id, tenantId = DEFAULT_TENANT) => deps.repo.getDecision(tenantId, id),
    versions,
  };
}
