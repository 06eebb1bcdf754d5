/**
 * Decisions: the stable reason-code taxonomy, the routing outcomes and the response schema of
 * `POST /v1/invoices/score` / `GET /v1/decisions/:id`.
 */
import Type, { type Static } from 'typebox';
import { InvoiceSource } from './invoice.js';
import { ProcurementMatch } from './procurement-match.js';

/** Routing outcome. */
export const DecisionKind = Type.Union([
  Type.Literal('AUTO_APPROVE'),
  Type.Literal('REVIEW'),
  Type.Literal('HOLD'),
]);
export type DecisionKind = Static<typeof DecisionKind>;

/** Review queue an exception is routed to. */
export const Queue = Type.Union([
  Type.Literal('coding'),
  Type.Literal('ap'),
  Type.Literal('compliance'),
  Type.Literal('procurement'),
]);
export type Queue = Static<typeof Queue>;

/**
 * Stable reason codes. Codes are never renamed or reused; new ones are appended.
 * Each maps to the queue that handles it.
 */
export const REASON_CODES = {
  CODE_UNKNOWN: { queue: 'coding', summary: 'Billed code is not in the HCPCS Level II code set.' },
  CODE_TERMINATED: { queue: 'coding', summary: 'Billed code was terminated before the date of service.' },
  CODE_MISSING: { queue: 'coding', summary: 'Line carries no billing code.' },
  CODE_SYSTEM_UNVERIFIED: {
    queue: 'coding',
    summary: 'Code system has no reference data here; code not verified.',
  },
  DESCRIPTION_CODE_MISMATCH: {
    queue: 'coding',
    summary: "Line description does not fit the billed code's reference description.",
  },
  PRICE_ABOVE_FEE_SCHEDULE: {
    queue: 'coding',
    summary: 'Unit price far above the CMS fee schedule amount for the code.',
  },
  LINE_AMOUNT_MISMATCH: { queue: 'ap', summary: 'Line amount differs from quantity x unit price.' },
  TOTAL_MISMATCH: { queue: 'ap', summary: 'Invoice total differs from the sum of its lines.' },
  NEGATIVE_TOTAL: {
    queue: 'ap',
    summary: 'An invoice or debit memo with a negative total (credit memos may be negative).',
  },
  DUPLICATE_SUSPECTED: { queue: 'ap', summary: 'Invoice resembles an earlier submission.' },
  DUPLICATE_SAME_NUMBER: { queue: 'ap', summary: 'Same vendor and invoice number as an earlier submission.' },
  LINE_REBILLED: {
    queue: 'ap',
    summary:
      'Lines of an earlier invoice of the vendor billed again: the line-pair model finds the same item, quantity and amount on an earlier line with the same service date or delivery reference.',
  },
  NPI_INVALID: { queue: 'compliance', summary: 'Vendor NPI fails its check digit.' },
  CODE_OUTSIDE_VENDOR_PROFILE: {
    queue: 'coding',
    summary: "Billed code is outside the service categories the vendor's profile approves.",
  },
  QUANTITY_IMPLAUSIBLE: {
    queue: 'coding',
    summary:
      'Billed quantity or dose units are implausible for the code (vs its billing unit and typical quantity).',
  },
  CODING_MODEL_RISK: {
    queue: 'coding',
    summary:
      'The coding model scores the line as risky on signals no specific check names (code coverage, section).',
  },
  LOW_EXTRACTION_CONFIDENCE: {
    queue: 'ap',
    summary:
      'The extractor (OCR/AI) reported low confidence on amounts, the invoice number, the vendor or codes; the evidence names the fields.',
  },
  PRINTED_CODE_DIFFERS: {
    queue: 'coding',
    summary: 'The line description prints a HCPCS code other than the billed code.',
  },
  TOTAL_INCLUDES_TAX: {
    queue: 'ap',
    summary:
      'The total is the sum of the lines plus a tax (stated on the invoice, or at a rate in force for its currency and date).',
  },
  ITEM_NOT_ON_PO: {
    queue: 'procurement',
    summary: 'No line of the purchase order matches the invoice line.',
  },
  PRICE_ABOVE_PO: { queue: 'procurement', summary: 'Unit price above the PO price beyond tolerance.' },
  PRICE_ABOVE_CONTRACT: {
    queue: 'procurement',
    summary: 'Unit price above the contract price in force on the invoice date for the facility.',
  },
  CONTRACT_EXPIRED: {
    queue: 'procurement',
    summary:
      'The PO line is priced on a contract not in force on the invoice date, and no other contract covers the item.',
  },
  CONTRACT_FACILITY_NOT_ELIGIBLE: {
    queue: 'procurement',
    summary: 'The PO line is priced on a contract the facility is not eligible for.',
  },
  QUANTITY_ABOVE_RECEIVED: {
    queue: 'procurement',
    summary:
      'Quantity above what was received minus what earlier invoices already billed against the PO line.',
  },
  UOM_MISMATCH: {
    queue: 'procurement',
    summary: 'Unit of measure differs from the PO line and the price does not fit the pack conversion.',
  },
  NO_RECEIPT: { queue: 'procurement', summary: 'No goods receipt for the PO line yet.' },
  PO_CLOSED: { queue: 'procurement', summary: 'The cited purchase order is closed.' },
  PO_EXHAUSTED: {
    queue: 'procurement',
    summary: 'Earlier invoices already billed the whole ordered quantity of the PO line.',
  },
  PO_OTHER_VENDOR: { queue: 'procurement', summary: 'The cited purchase order belongs to another vendor.' },
  PO_UNKNOWN: {
    queue: 'procurement',
    summary: 'The cited PO number is not in the ERP data loaded for the tenant.',
  },
  PO_AMBIGUOUS: {
    queue: 'procurement',
    summary:
      'The invoice cites no PO and its vendor has several open ones, none of which the line matcher clearly prefers.',
  },
  PRICE_BELOW_FEE_SCHEDULE: {
    queue: 'coding',
    summary:
      'Unit price below the CMS fee schedule amount for the code, by enough to raise the coding risk (a billing unit, pack size or code that may not fit the item).',
  },
} as const satisfies Record<string, { queue: Queue; summary: string }>;
export type ReasonCode = keyof typeof REASON_CODES;

/** A reason behind a decision. `weight` is the reason's contribution to its score, in [0, 1]. */
export const Reason = Type.Object({
  code: Type.String({
    description: `Stable reason code (README "Reason codes"), with its queue: ${Object.entries(REASON_CODES)
      .map(([code, r]) => `${code} (${r.queue})`)
      .join(', ')}.`,
  }),
  message: Type.String(),
  weight: Type.Number({ minimum: 0, maximum: 1 }),
  evidence: Type.Record(Type.String(), Type.Unknown()),
});
export type Reason = Static<typeof Reason> & { code: ReasonCode };

/** A field that differs between an invoice and the earlier invoice it may duplicate. */
export const Difference = Type.Object({
  field: Type.String(),
  this_value: Type.Unknown(),
  earlier_value: Type.Unknown(),
  note: Type.Optional(Type.String()),
});

/** How an earlier invoice came to be approved for payment, if it was. */
export const EarlierApproval = Type.Union(
  [
    Type.Literal('auto_approved'),
    Type.Literal('reviewed_not_exception'),
    Type.Literal('history'),
    Type.Null(),
  ],
  {
    description:
      'auto_approved: routed AUTO_APPROVE; reviewed_not_exception: its reviews released it (a reviewer ' +
      "marked its exception a false positive and no line's confirmed exception stands); history: " +
      "imported as the tenant's past (POST /v1/history), i.e. already processed outside this " +
      'service; null: not (yet) approved.',
  },
);

/** A line of this invoice that bills a line of the earlier invoice again (`LINE_REBILLED`). */
export const RebilledLineMatch = Type.Object({
  line_number: Type.Integer(),
  earlier_line_number: Type.Integer(),
  score: Type.Number({ minimum: 0, maximum: 1, description: "The line-pair model's score of the pair." }),
});

/** An earlier invoice this one may duplicate. */
export const DuplicateMatch = Type.Object({
  invoice_id: Type.String(),
  kind: Type.Optional(
    Type.Union([Type.Literal('invoice'), Type.Literal('lines'), Type.Literal('invoice_and_lines')], {
      description:
        'invoice: the pair model scored the two invoices as one (DUPLICATE_SAME_NUMBER / DUPLICATE_SUSPECTED ' +
        'when score reaches review); lines: only lines of the earlier invoice are billed again (LINE_REBILLED, ' +
        'rebilled_lines); invoice_and_lines: both. Absent: invoice.',
    }),
  ),
  decision_id: Type.Union([Type.String(), Type.Null()], {
    description: 'The earlier decision; null when the earlier invoice was imported as history (not scored).',
  }),
  earlier_decision: Type.Union([DecisionKind, Type.Null()], {
    description: 'null when the earlier invoice was imported as history (not scored).',
  }),
  earlier_document_type: Type.String({ description: 'invoice | credit_memo | debit_memo' }),
  earlier_approved: Type.Boolean({
    description: 'True when the earlier invoice was already approved (so paying this one pays twice).',
  }),
  earlier_approval: EarlierApproval,
  score: Type.Number({
    minimum: 0,
    maximum: 1,
    description:
      "The duplicate score this earlier invoice gives the decision: the pair score, or the line-level score of LINE_REBILLED (the reason's weight) when lines are billed again, whichever is higher.",
  }),
  rule: Type.Union([Type.String(), Type.Null()], {
    description:
      'Document-kind rule that capped the score: credit_memo_reverses_invoice, rebill_after_credit.',
  }),
  match_sources: Type.Array(Type.String(), {
    description:
      'How the candidate was found: knn (tenant-wide HNSW), vendor_knn (exact, same vendor), exact_key, line_block (earlier lines of the vendor, see LINE_REBILLED).',
  }),
  differences: Type.Array(Difference),
  rebilled_lines: Type.Optional(
    Type.Array(RebilledLineMatch, {
      description:
        'Present when lines of the earlier invoice are billed again: the line pairs, by line number.',
    }),
  ),
});
export type DuplicateMatch = Static<typeof DuplicateMatch>;

/** A suggested code for a line, from the reference-code nearest neighbours. */
export const SuggestedCode = Type.Object({
  system: Type.Literal('HCPCS'),
  value: Type.String(),
  description: Type.String(),
  similarity: Type.Number(),
});

/** Per-line scoring result. */
export const LineResult = Type.Object({
  line_number: Type.Integer(),
  coding_mismatch: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]),
  reasons: Type.Array(Reason),
  suggested_codes: Type.Array(SuggestedCode),
});
export type LineResult = Static<typeof LineResult>;

/** Versions that produced a decision: needed to reproduce and audit it. */
export const Versions = Type.Object({
  models: Type.Record(Type.String(), Type.String()),
  feature_schema: Type.String(),
  policy: Type.String(),
  reference_data: Type.String(),
  thresholds: Type.Optional(
    Type.Record(Type.String(), Type.String(), {
      description:
        'Where each routing threshold came from: `model-card:<model>@<version>` (calibrated, certified by ' +
        'Learn-then-Test) or `policy:<name>@<version>` (hand-set or a tenant override). Keys as in ' +
        'explanation.routing.thresholds.',
    }),
  ),
});
export type Versions = Static<typeof Versions>;

/** The invoice a credit memo reverses (set on credit memos when a match is found). */
export const Reversal = Type.Object({
  invoice_id: Type.String(),
  decision_id: Type.Union([Type.String(), Type.Null()], {
    description: 'null when the reversed invoice was imported as history (not scored).',
  }),
  reversed_cents: Type.Integer({ description: 'Amount credited, positive cents.' }),
  full: Type.Boolean({ description: 'True when the credit equals the invoice total.' }),
});
export type Reversal = Static<typeof Reversal>;

/** The decision returned to workflow systems and stored for auditors. */
export const DecisionResponse = Type.Object({
  decision_id: Type.String({ format: 'uuid' }),
  invoice_id: Type.String(),
  decision: DecisionKind,
  queue: Type.Optional(Queue),
  priority: Type.Number({ minimum: 0, description: 'Expected cost at risk in dollars (see docs).' }),
  scores: Type.Object({
    coding_mismatch: Type.Number({ minimum: 0, maximum: 1 }),
    duplicate: Type.Number({ minimum: 0, maximum: 1 }),
  }),
  reasons: Type.Array(Reason),
  duplicates: Type.Array(DuplicateMatch),
  lines: Type.Array(LineResult),
  reverses: Type.Optional(Reversal),
  procurement: Type.Optional(ProcurementMatch),
  source: Type.Optional({
    ...InvoiceSource,
    description:
      'The document the invoice was converted from (X12 810, UBL, FHIR): its format and sha256; absent for JSON.',
  }),
  versions: Versions,
  created_at: Type.String({ format: 'date-time' }),
});
export type DecisionResponse = Static<typeof DecisionResponse>;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** One check behind a line's coding-mismatch score. */
const LineCheck = Type.Object({
  code: Type.String(),
  risk: Type.Number({ minimum: 0, maximum: 1 }),
  log_survival: Type.Number({ description: '-ln(1 - risk): exact additive share of -ln(1 - line score).' }),
  share_of_score: Type.Number({ description: 'Line score x log_survival / sum of log_survival.' }),
});

/**
 * How a trained model's logit splits over feature groups (integrated gradients from the training
 * mean, exact for the piecewise-linear MLP): base_value + sum of contributions + completeness_gap
 * = logit; the calibrated probability is the line score.
 */
const ModelAttribution = Type.Object({
  model: Type.String({ description: 'e.g. coding-mismatch@1.' }),
  method: Type.String(),
  base_value: Type.Number({ description: 'Logit at the baseline (training mean).' }),
  logit: Type.Number(),
  contributions: Type.Array(
    Type.Object({
      group: Type.String(),
      value: Type.Number({ description: 'Contribution to the logit.' }),
      reason: Nullable(Type.String()),
    }),
  ),
  completeness_gap: Type.Number({ description: 'logit - (base_value + sum of contributions).' }),
});

/** A billed or suggested code with its CMS reference text. */
const CodeEvidence = Type.Object({
  system: Type.String(),
  code: Type.String(),
  description: Nullable(Type.String({ description: 'CMS HCPCS short description.' })),
  long_description: Nullable(Type.String({ description: 'CMS HCPCS long description.' })),
  betos: Nullable(Type.String()),
  in_vendor_profile: Nullable(Type.Boolean()),
});

/**
 * Why a decision came out as it did: per-reason contributions that add up to the scores,
 * evidence, routing thresholds and versions. Holds no invoice text (no line descriptions,
 * hence no patient details): only codes, CMS reference text, amounts, dates and ids.
 */
export const Explanation = Type.Object({
  reasons: Type.Array(
    Type.Object({
      code: Type.String(),
      queue: Nullable(Queue),
      summary: Type.String(),
      weight: Type.Number(),
      score: Type.String({
        description: 'Which score the reason feeds: coding_mismatch, duplicate or rule.',
      }),
      line_number: Nullable(Type.Integer()),
      fired: Type.Boolean({ description: 'True when the reason crossed its routing threshold.' }),
    }),
  ),
  coding_mismatch: Type.Object({
    score: Type.Number(),
    method: Type.String(),
    lines: Type.Array(
      Type.Object({
        line_number: Type.Integer(),
        score: Nullable(Type.Number()),
        checks: Type.Array(LineCheck),
        completeness_gap: Type.Number({ description: '|line score - sum of shares|, rounding only.' }),
        model: Type.Optional(ModelAttribution),
      }),
    ),
  }),
  duplicate: Nullable(
    Type.Object({
      invoice_id: Type.String(),
      score: Type.Number(),
      method: Type.String(),
      contributions: Type.Record(Type.String(), Type.Number()),
      sum_of_contributions: Type.Number(),
      intercept: Nullable(
        Type.Number({ description: 'Model intercept (log-odds), when the scorer states it.' }),
      ),
      logit_score: Nullable(Type.Number()),
      completeness_gap: Nullable(
        Type.Number({ description: '|intercept + sum of contributions - logit(model score)| (rounding).' }),
      ),
      model_score: Type.Number({ description: 'Score before document-kind rules.' }),
      rule: Nullable(Type.String()),
    }),
  ),
  evidence: Type.Object({
    lines: Type.Array(
      Type.Object({
        line_number: Type.Integer(),
        billed: Nullable(CodeEvidence),
        suggested: Type.Array(CodeEvidence),
        amount_cents: Type.Integer(),
        fee_schedule: Type.Optional(
          Type.String({
            description:
              'Set when the line was not compared with the CMS fee schedule (USD), e.g. "not comparable: invoice in KWD, fee schedule in USD".',
          }),
        ),
      }),
    ),
    duplicates: Type.Array(
      Type.Object({
        invoice_id: Type.String(),
        decision_id: Nullable(Type.String()),
        embedding_distance: Type.Number({ description: 'Cosine distance of the invoice embeddings.' }),
        match_sources: Type.Array(Type.String()),
        earlier_approved: Type.Boolean(),
        score: Type.Number(),
        model_score: Type.Number(),
        rule: Nullable(Type.String()),
        comparison: Type.Record(Type.String(), Type.Unknown(), {
          description: 'The pair comparison vector the scorer saw.',
        }),
      }),
    ),
    candidate_search: Type.Record(Type.String(), Type.Unknown(), {
      description: 'How candidates were searched: HNSW with iterative scan, or exact.',
    }),
  }),
  routing: Type.Object({
    policy: Type.String(),
    policy_sha256: Type.String(),
    vendor_category: Nullable(Type.String()),
    facility_id: Nullable(Type.String()),
    overrides_applied: Type.Array(Type.String()),
    thresholds: Type.Record(Type.String(), Type.Unknown()),
  }),
  priority: Type.Object({
    dollars: Type.Number(),
    expected_loss_dollars: Type.Number(),
    discount_dollars: Type.Number(),
    sla_age_dollars: Type.Number(),
    as_of: Type.String({ format: 'date' }),
    formula: Type.String(),
  }),
  versions: Versions,
});
export type Explanation = Static<typeof Explanation>;

/** A stored decision with its explanation (`GET /v1/decisions/:id`). */
export const DecisionWithExplanation = Type.Object({
  ...DecisionResponse.properties,
  explanation: Type.Optional(Explanation),
});
export type DecisionWithExplanation = Static<typeof DecisionWithExplanation>;

/** Links of a decision to other invoices, recorded in its audit entry. */
export interface DecisionLinks {
  /**
   * Client id of the earlier invoice this one was flagged as duplicating (the pair flagged at
   * review, else the earlier invoice of a re-billed line), or null.
   */
  duplicate_of: string | null;
  /** Client id of the invoice this credit memo reverses, or null. */
  reverses: string | null;
  /** sha256 of the routing policy document the decision used. */
  policy_sha256: string;
}

/**
 * The payload of a decision's `decision.created` audit entry: ids, the invoice's sha256, the
 * outcome, scores, reason codes and versions, never invoice text. `links` (the scoring
 * pipeline knows them) adds the duplicated and reversed invoices and the policy's sha256.
 */
export function decisionAuditPayload(
  decision: DecisionResponse,
  invoiceSha256: string,
  links?: DecisionLinks,
): Record<string, unknown> {
  return {
    decision_id: decision.decision_id,
    invoice_id: decision.invoice_id,
    invoice_sha256: invoiceSha256,
    decision: decision.decision,
    queue: decision.queue ?? null,
    priority: decision.priority,
    scores: decision.scores,
    reason_codes: decision.reasons.map((r) => r.code),
    ...(links
      ? {
          duplicate_of: links.duplicate_of,
          reverses: links.reverses,
          versions: decision.versions,
          policy_sha256: links.policy_sha256,
        }
      : { versions: decision.versions }),
  };
}
