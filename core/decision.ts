/**
 * Decisions: the stable reason-code taxonomy, the routing outcomes and the response schema of
 * `POST /v1/invoices/score` / `GET /v1/decisions/:id`.
 */
import Type, { type Static } from 'typebox';

/** Routing outcome. */
export const DecisionKind = Type.Union([
  Type.Literal('AUTO_APPROVE'),
  Type.Literal('REVIEW'),
  Type.Literal('HOLD'),
]);
export type DecisionKind = Static<typeof DecisionKind>;

/** Review queue an exception is routed to. */
export const Queue = Type.Union([Type.Literal('coding'), Type.Literal('ap'), Type.Literal('compliance')]);
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
  NPI_INVALID: { queue: 'compliance', summary: 'Vendor NPI fails its check digit.' },
} as const satisfies Record<string, { queue: Queue; summary: string }>;
export type ReasonCode = keyof typeof REASON_CODES;

/** A reason behind a decision. `weight` is the reason's contribution to its score, in [0, 1]. */
export const Reason = Type.Object({
  code: Type.String({ description: 'Stable reason code, e.g. DESCRIPTION_CODE_MISMATCH.' }),
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

/** An earlier invoice this one may duplicate. */
export const DuplicateMatch = Type.Object({
  invoice_id: Type.String(),
  decision_id: Type.String(),
  earlier_decision: DecisionKind,
  score: Type.Number({ minimum: 0, maximum: 1 }),
  match_sources: Type.Array(Type.String(), { description: 'How the candidate was found: knn, exact_key.' }),
  differences: Type.Array(Difference),
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
});
export type Versions = Static<typeof Versions>;

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
  versions: Versions,
  created_at: Type.String({ format: 'date-time' }),
});
export type DecisionResponse = Static<typeof DecisionResponse>;
