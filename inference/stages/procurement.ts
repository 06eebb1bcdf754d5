/**
 * Stage 6b, procurement: two- and three-way match of a PO-backed invoice against the tenant's
 * ERP data (store/erp-context.ts reads it in the scoring transaction). The PO is the one the
 * invoice cites (`po_number`), or, when it cites none, the vendor's only open PO, or among
 * several open ones the one the line matcher clearly prefers (../procurement/choose.ts, chosen
 * by the pipeline before this stage). Not matched, today's path: a tenant without ERP data, and
 * an invoice citing no PO whose vendor has no open PO. Invoice lines are aligned to PO lines by
 * the line matcher (../procurement/align.ts); a line with no match at the threshold, or citing
 * a `po_line_number` the PO lacks, is `ITEM_NOT_ON_PO`; matched lines are checked against the
 * PO, receipts and contracts (../procurement/checks.ts). Invoice level: `PO_OTHER_VENDOR` (no
 * line checks then), `PO_CLOSED`, `PO_UNKNOWN` (a cited PO the tenant's ERP data lacks, when the
 * vendor has POs loaded, or whenever the tenant has any with policy `procurement.unknown_po: tenant`), `PO_AMBIGUOUS` (no PO cited, several open ones, no clear choice);
 * the last two put the whole invoice amount at risk. Credit memos get no reasons (today's path);
 * one citing a PO of its vendor records negative billing against the PO lines it credits
 * (../procurement/credit.ts). Pure: the matcher and the tolerances are passed in.
 */
import type { DecisionResponse, Reason } from '../../core/decision.js';
import type { ProcurementLookup } from '../../core/erp.js';
import type { Invoice } from '../../core/invoice.js';
import { priorityAsOf } from '../priority.js';
import { reason } from '../explain.js';
import { alignLines } from '../procurement/align.js';
import { creditAllocations } from '../procurement/credit.js';
import { checkLine, indexContracts, PROCUREMENT_WEIGHT, type SuggestedLine } from '../procurement/checks.js';
import { DEFAULT_MATCH_THRESHOLD, type ProcurementMatcher } from '../procurement/matcher.js';
import type { ProcurementTolerances } from '../procurement/tolerances.js';
import type { Prioritised } from './priority.js';

/** One invoice line's match, as the decision shows it. */
export interface ProcurementLineResult {
  line_number: number;
  /** PO lines the invoice line bills (empty: not on the PO). */
  po_line_numbers: number[];
  /** Best P(same item) over the PO's lines, 3 decimals. */
  match_score: number;
  /** `1 BX = 100 EA` when the billed unit was converted; null otherwise. */
  conversion: string | null;
  reason_codes: string[];
  /** Expected line values from the PO / contract / receipt; never applied. */
  suggested: SuggestedLine | null;
  amount_at_risk_cents: number;
}

/** The procurement part of a decision. */
export interface ProcurementSummary {
  po_number: string;
  /** `cited` (the invoice's po_number), `only_open_po` (the vendor's one open PO) or `matcher` (../procurement/choose.ts). */
  chosen_by: 'cited' | 'only_open_po' | 'matcher';
  matcher_version: string;
  /** True when every line matched a PO line within tolerance (no procurement reason). */
  all_lines_matched: boolean;
  /** Cents at risk over the lines: overbilled, unreceived or not on the PO (expected loss of the procurement exceptions). */
  amount_at_risk_cents: number;
  lines: ProcurementLineResult[];
}

/** What a PO-backed invoice billed against each PO line (negative for a credit memo), recorded with the decision. */
export interface PoBilling {
  poNumber: string;
  allocations: { poLineNumber: number; baseQuantity: number; amountCents: number }[];
}

/** Result of {@link matchProcurement}. */
export interface ProcurementResult {
  reasons: Reason[];
  /** Null when the invoice was not matched (no ERP data to match it against). */
  summary: ProcurementSummary | null;
  amountAtRiskCents: number;
  /** Null when nothing is to be recorded. */
  billing: PoBilling | null;
}

const NONE: ProcurementResult = { reasons: [], summary: null, amountAtRiskCents: 0, billing: null };

/**
 * The line-match threshold in use: the tenant's `match_threshold`, else the served matcher's card
 * threshold, else the identifier rule's {@link DEFAULT_MATCH_THRESHOLD}.
 */
export function matchThresholdOf(tolerances: ProcurementTolerances, cardThreshold: number | null): number {
  return tolerances.matchThreshold ?? cardThreshold ?? DEFAULT_MATCH_THRESHOLD;
}

/** Matches an invoice against its PO, receipts and contracts (see the module doc). */
export function matchProcurement(
  invoice: Invoice,
  lookup: ProcurementLookup,
  matcher: ProcurementMatcher,
  tolerances: ProcurementTolerances,
  cardThreshold: number | null = null,
): ProcurementResult {
  if (lookup.kind === 'none') return NONE;
  // A vendor whose POs are not synced keeps the non-PO path unless the policy scopes PO_UNKNOWN to the tenant.
  if (lookup.kind === 'po_unknown' && !lookup.vendorHasPos && tolerances.unknownPo === 'vendor') return NONE;
  if (invoice.document_type === 'credit_memo') {
    // A credit memo keeps today's decision path; citing its own vendor's PO, it gives back what it credits.
    if (lookup.kind !== 'context' || lookup.context.chosenBy !== 'cited') return NONE;
    const { po, invoiced } = lookup.context;
    if (po.vendor_id !== invoice.vendor.id) return NONE;
    const threshold = matchThresholdOf(tolerances, cardThreshold);
    const allocations = creditAllocations(invoice.lines, po.lines, invoiced, matcher, threshold);
    return { ...NONE, billing: allocations.length > 0 ? { poNumber: po.po_number, allocations } : null };
  }
  // Unmatched invoices: the whole amount is at risk (nothing is known to back it).
  const unmatched = (r: Reason): ProcurementResult => ({
    ...NONE,
    reasons: [r],
    amountAtRiskCents: Math.max(0, invoice.total_cents),
  });
  if (lookup.kind === 'po_unknown')
    return unmatched(reason('PO_UNKNOWN', PROCUREMENT_WEIGHT, { po_number: lookup.poNumber }));
  if (lookup.kind === 'po_ambiguous' || lookup.kind === 'po_choice') {
    const candidates =
      lookup.kind === 'po_ambiguous'
        ? lookup.candidates
        : lookup.candidates.map((p) => ({ po_number: p.po_number, score: null }));
    return unmatched(
      reason('PO_AMBIGUOUS', PROCUREMENT_WEIGHT, { vendor_id: invoice.vendor.id, candidates }),
    );
  }
  const { po, chosenBy } = lookup.context;
  const base = { po_number: po.po_number, chosen_by: chosenBy, matcher_version: matcher.version };
  if (po.vendor_id !== invoice.vendor.id) {
    const r = reason('PO_OTHER_VENDOR', PROCUREMENT_WEIGHT, {
      po_number: po.po_number,
      po_vendor_id: po.vendor_id,
      invoice_vendor_id: invoice.vendor.id,
    });
    return {
      reasons: [r],
      summary: { ...base, all_lines_matched: false, amount_at_risk_cents: invoice.total_cents, lines: [] },
      amountAtRiskCents: Math.max(0, invoice.total_cents),
      billing: null,
    };
  }
  const reasons: Reason[] = [];
  if (po.status === 'closed')
    reasons.push(reason('PO_CLOSED', PROCUREMENT_WEIGHT, { po_number: po.po_number }));
  const threshold = matchThresholdOf(tolerances, cardThreshold);
  const aligned = alignLines(invoice.lines, po.lines, matcher, threshold);
  const facilityId = invoice.facility_id ?? po.facility_id ?? null;
  const allocations: PoBilling['allocations'] = [];
  // Earlier invoices' billing plus this invoice's lines checked so far (two lines billing one PO line).
  const running = new Map(lookup.context.invoiced);
  const contractIndex = indexContracts(lookup.context.contracts);
  const lines = aligned.map((a): ProcurementLineResult => {
    const score = Math.round(a.bestScore * 1000) / 1000;
    if (a.matches.length === 0) {
      const r = reason('ITEM_NOT_ON_PO', PROCUREMENT_WEIGHT, {
        line_number: a.invoiceLine.line_number,
        po_number: po.po_number,
        best_match_score: score,
        threshold,
        ...(a.citedLineMissing ? { cited_po_line_number: a.invoiceLine.po_line_number } : {}),
      });
      reasons.push(r);
      const atRisk = Math.max(0, a.invoiceLine.amount_cents);
      return {
        line_number: a.invoiceLine.line_number,
        po_line_numbers: [],
        match_score: score,
        conversion: null,
        reason_codes: [r.code],
        suggested: null,
        amount_at_risk_cents: atRisk,
      };
    }
    const c = checkLine({
      line: a.invoiceLine,
      poLines: a.matches.map((m) => m.poLine),
      score: a.matches[0]!.score,
      receipts: lookup.context.receipts,
      invoiced: running,
      contracts: lookup.context.contracts,
      contractIndex,
      invoiceDate: invoice.invoice_date,
      facilityId,
      tolerances,
    });
    reasons.push(...c.reasons);
    for (const al of c.allocations) {
      allocations.push({
        poLineNumber: al.poLine.line_number,
        baseQuantity: al.baseQuantity,
        amountCents: al.amountCents,
      });
      const before = running.get(al.poLine.line_number) ?? {
        baseQuantity: 0,
        amountCents: 0,
        invoiceIds: [],
      };
      running.set(al.poLine.line_number, {
        baseQuantity: before.baseQuantity + al.baseQuantity,
        amountCents: before.amountCents + al.amountCents,
        invoiceIds: before.invoiceIds.includes(invoice.invoice_id)
          ? before.invoiceIds
          : [...before.invoiceIds, invoice.invoice_id],
      });
    }
    return {
      line_number: a.invoiceLine.line_number,
      po_line_numbers: a.matches.map((m) => m.poLine.line_number),
      match_score: score,
      conversion: c.conversion,
      reason_codes: c.reasons.map((r) => r.code),
      suggested: c.suggested,
      amount_at_risk_cents: c.atRiskCents,
    };
  });
  const atRisk = lines.reduce((s, l) => s + l.amount_at_risk_cents, 0);
  return {
    reasons,
    summary: { ...base, all_lines_matched: reasons.length === 0, amount_at_risk_cents: atRisk, lines },
    amountAtRiskCents: atRisk,
    billing: allocations.length > 0 ? { poNumber: po.po_number, allocations } : null,
  };
}

/** The priority with the procurement amount at risk as the expected loss when it is larger (overbilled cents are lost for sure). */
export function withAmountAtRisk(p: Prioritised, atRiskCents: number): Prioritised {
  if (atRiskCents <= p.components.expectedLossCents) return p;
  const components = { ...p.components, expectedLossCents: atRiskCents };
  return { ...p, components, dollars: Math.round(priorityAsOf(components, p.asOf).totalCents) / 100 };
}

/** The decision with its procurement match (and the audit payload with its PO and amount at risk); unchanged when not matched. */
export function withProcurement<
  T extends { decision: DecisionResponse; auditPayload: Record<string, unknown> },
>(built: T, r: ProcurementResult): T {
  if (!r.summary) return built;
  return {
    ...built,
    decision: { ...built.decision, procurement: r.summary },
    auditPayload: {
      ...built.auditPayload,
      procurement: {
        po_number: r.summary.po_number,
        chosen_by: r.summary.chosen_by,
        matcher_version: r.summary.matcher_version,
        amount_at_risk_cents: r.summary.amount_at_risk_cents,
      },
    },
  };
}
