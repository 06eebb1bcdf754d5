/**
 * Routing policy: turns scores and reasons into AUTO_APPROVE, REVIEW (with a queue) or HOLD.
 *
 * A policy is a versioned JSON document ({@link PolicyDocument}, TypeBox-validated):
 * thresholds per queue (`coding.review_at`, `ap.review_at`, `ap.hold_at`,
 * `compliance.review_at`, probabilities in [0, 1]), reasons that always force review,
 * the SLA cost per day used by the priority, and overrides that change thresholds for a
 * vendor category or a facility. The shipped default is `inference/policies/default.json`
 * (`policy-default@1`); a tenant's admin stores new versions with `PUT /v1/policy`, and
 * every decision records the label (`<name>@<version>`) and sha256 of the policy it used.
 * Thresholds are hand-set defaults until the model cards supply calibrated ones.
 */
import { canonicalSha256 } from '../core/canonical.js';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import {
  REASON_CODES,
  type DecisionKind,
  type Queue,
  type Reason,
  type ReasonCode,
} from '../core/decision.js';
import { TriageError } from '../core/errors.js';
import { toFieldErrors, type SchemaErrorLike } from '../core/validate.js';
import defaultDocument from './policies/default.json' with { type: 'json' };
import { DUPLICATE_SCORE_CODES } from './explain.js';
import {
  procurementTolerances,
  ProcurementPolicy,
  type ProcurementTolerances,
} from './procurement/tolerances.js';

const Probability = Type.Number({ minimum: 0, maximum: 1 });
const ReasonCodeSchema = Type.Enum(Object.keys(REASON_CODES) as [ReasonCode, ...ReasonCode[]], {
  description: 'A reason code of the taxonomy (core/decision.ts).',
});

/** Thresholds of the three queues. */
const QueueThresholds = Type.Object(
  {
    coding: Type.Object(
      {
        review_at: { ...Probability, description: 'Line coding-mismatch score that sends to coding review.' },
        hold_at: Type.Optional({
          ...Probability,
          description:
            'Invoice coding-mismatch score that holds the payment (pending coding review); default none.',
        }),
      },
      { additionalProperties: false },
    ),
    ap: Type.Object(
      {
        review_at: { ...Probability, description: 'Duplicate score that sends to AP review.' },
        hold_at: { ...Probability, description: 'Duplicate score that holds the payment.' },
      },
      { additionalProperties: false },
    ),
    compliance: Type.Object(
      { review_at: { ...Probability, description: 'Weight of a compliance reason that sends to review.' } },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** An override: thresholds (any subset) for invoices of a vendor category and/or facility. */
const PolicyOverride = Type.Object(
  {
    when: Type.Object(
      {
        vendor_category: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        facility_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      },
      { additionalProperties: false, minProperties: 1 },
    ),
    queues: Type.Optional(
      Type.Object(
        {
          coding: Type.Optional(
            Type.Object(
              { review_at: Type.Optional(Probability), hold_at: Type.Optional(Probability) },
              { additionalProperties: false },
            ),
          ),
          ap: Type.Optional(
            Type.Object(
              { review_at: Type.Optional(Probability), hold_at: Type.Optional(Probability) },
              { additionalProperties: false },
            ),
          ),
          compliance: Type.Optional(Type.Object({ review_at: Probability }, { additionalProperties: false })),
        },
        { additionalProperties: false },
      ),
    ),
    always_review: Type.Optional(
      Type.Array(ReasonCodeSchema, { uniqueItems: true, description: 'Added to the policy-wide list.' }),
    ),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

/**
 * Lowest extraction confidence (0..1) accepted per field group before an invoice goes to review
 * with `LOW_EXTRACTION_CONFIDENCE`: `amounts` (total, line quantities, unit prices and amounts),
 * `invoice_number`, `vendor` (id, name, tax id, NPI), `codes` (line codes and modifiers).
 */
const ExtractionThresholds = Type.Object(
  {
    amounts: Probability,
    invoice_number: Probability,
    vendor: Probability,
    codes: Probability,
  },
  { additionalProperties: false },
);
export type ExtractionThresholds = Static<typeof ExtractionThresholds>;

/** Thresholds used when a policy document sets none (the shipped default sets the same). */
export const DEFAULT_EXTRACTION_THRESHOLDS: ExtractionThresholds = {
  amounts: 0.9,
  invoice_number: 0.9,
  vendor: 0.9,
  codes: 0.8,
};

/** Review SLA in days since received when a policy sets no `priority.sla_days`. */
export const DEFAULT_SLA_DAYS = 5;

/** A routing policy document (the JSON file / `PUT /v1/policy` body). */
export const PolicyDocument = Type.Object(
  {
    name: Type.String({
      pattern: '^[a-z0-9][a-z0-9._-]{0,63}$',
      description: 'Policy name; the label of a version is <name>@<version>.',
    }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    queues: QueueThresholds,
    always_review: Type.Array(ReasonCodeSchema, { uniqueItems: true }),
    priority: Type.Object(
      {
        sla_cents_per_day: Type.Integer({
          minimum: 0,
          maximum: 10_000_000,
          description: 'Cost of one more day in the queue, cents per day (SLA age term of the priority).',
        }),
        sla_days: Type.Optional(
          Type.Integer({
            minimum: 1,
            maximum: 365,
            description: `Days since received within which an exception should be cleared; older ones are escalated (the console marks them). Default ${DEFAULT_SLA_DAYS}.`,
          }),
        ),
      },
      { additionalProperties: false },
    ),
    extraction: Type.Optional(
      Type.Object(
        { min_confidence: ExtractionThresholds },
        {
          additionalProperties: false,
          description:
            'Extraction-confidence thresholds (LOW_EXTRACTION_CONFIDENCE); default 0.9 / 0.9 / 0.9 / 0.8.',
        },
      ),
    ),
    procurement: Type.Optional(ProcurementPolicy),
    overrides: Type.Array(PolicyOverride, {
      maxItems: 500,
      description: 'Applied in order; a later matching override wins.',
    }),
  },
  { additionalProperties: false },
);
export type PolicyDocument = Static<typeof PolicyDocument>;

/** A policy version as the scoring pipeline uses it. */
export interface PolicyDefinition {
  /** `<name>@<version>`, e.g. `policy-default@1`. */
  label: string;
  /** sha256 of the document's canonical JSON. */
  sha256: string;
  document: PolicyDocument;
  /**
   * Model versions (`<name>@<version>`, e.g. `coding-mismatch@3`) this document's queue
   * thresholds were certified with, when it is the served default (the shipped whole-decision
   * policy, bin/served-policy.ts): a served model not among them routes by its own card
   * (inference/stages/thresholds.ts). Absent: not bound to any model.
   */
  certifiedFor?: readonly string[];
}

/** The policy in effect for one invoice (after overrides). Scores are probabilities in [0, 1]. */
export interface RoutingPolicy {
  /** Label of the policy version. */
  version: string;
  /** Duplicate score at or above which the invoice is held (payment blocked). */
  duplicateHold: number;
  /** Duplicate score at or above which the invoice goes to AP review. */
  duplicateReview: number;
  /** Invoice coding-mismatch score at or above which it goes to coding review. */
  codingReview: number;
  /** Invoice coding-mismatch score at or above which it is held in the coding queue; undefined: never. */
  codingHold?: number;
  /** Weight at or above which a compliance reason sends to review; default 0.5. */
  complianceReview?: number;
  /** Reasons that force review whatever the scores (their weight must be > 0). */
  alwaysReview: readonly ReasonCode[];
  /** SLA cost, cents per day in the queue; default 0. */
  slaCentsPerDay?: number;
  /** Overrides that matched, e.g. `vendor_category=dme`. */
  overridesApplied?: readonly string[];
  /** PO match tolerances and hold (inference/procurement/tolerances.ts); absent: the documented defaults. */
  procurement?: ProcurementTolerances;
  /** Lowest extraction confidence accepted per field group; default {@link DEFAULT_EXTRACTION_THRESHOLDS}. */
  extraction?: ExtractionThresholds;
}

const checkDocument = Compile(PolicyDocument);

/**
 * Validates a policy document.
 * @param source prefix of the error paths (`''` for a request body).
 * @throws TriageError `TRIAGE_INPUT_INVALID` naming each bad field.
 */
export function parsePolicyDocument(x: unknown, source = ''): PolicyDocument {
  if (!checkDocument.Check(x)) {
    const errors = toFieldErrors(checkDocument.Errors(x) as SchemaErrorLike[], source);
    throw new TriageError(
      'TRIAGE_INPUT_INVALID',
      `policy invalid: ${errors
        .slice(0, 3)
        .map((e) => `${e.path} ${e.message}`)
        .join('; ')}`,
      errors,
    );
  }
  const doc = x as PolicyDocument;
  const errors = [] as { path: string; message: string }[];
  // A hold threshold below its queue's review threshold would hold what is not even reviewed.
  for (const q of ['ap', 'coding'] as const) {
    const hold = doc.queues[q].hold_at;
    if (hold !== undefined && hold < doc.queues[q].review_at)
      errors.push({ path: `${source}/queues/${q}/hold_at`, message: `must not be below ${q}.review_at` });
  }
  doc.overrides.forEach((o, i) => {
    for (const q of ['ap', 'coding'] as const) {
      const review = o.queues?.[q]?.review_at ?? doc.queues[q].review_at;
      const hold = o.queues?.[q]?.hold_at ?? doc.queues[q].hold_at;
      if (hold !== undefined && hold < review)
        errors.push({
          path: `${source}/overrides/${i}/queues/${q}`,
          message: 'hold_at must not be below review_at',
        });
    }
  });
  if (errors.length > 0)
    throw new TriageError('TRIAGE_INPUT_INVALID', 'policy thresholds inconsistent', errors);
  return doc;
}

/** sha256 of a document's canonical JSON (keys sorted). */
export function policySha256(doc: PolicyDocument): string {
  return canonicalSha256(doc);
}

/** The shipped default document (`inference/policies/default.json`). */
export const DEFAULT_POLICY_DOCUMENT: PolicyDocument = parsePolicyDocument(defaultDocument, '/default.json');

/** The default policy as version 1 of a tenant. */
export const DEFAULT_POLICY_DEFINITION: PolicyDefinition = policyDefinition(DEFAULT_POLICY_DOCUMENT, 1);

/** A definition of a document as version `version`: label `<name>@<version>` and its sha256. */
export function policyDefinition(document: PolicyDocument, version: number): PolicyDefinition {
  return { label: `${document.name}@${version}`, sha256: policySha256(document), document };
}

/** What overrides match on. */
export interface PolicyContext {
  vendorCategory: string | null;
  facilityId: string | null;
}

/**
 * The policy in effect for an invoice: the document's thresholds with every matching override
 * applied in order (an override matches when each of its `when` fields equals the invoice's).
 */
export function effectivePolicy(def: PolicyDefinition, ctx: PolicyContext): RoutingPolicy {
  const d = def.document;
  let coding = d.queues.coding.review_at;
  let codingHold = d.queues.coding.hold_at;
  let apReview = d.queues.ap.review_at;
  let apHold = d.queues.ap.hold_at;
  let compliance = d.queues.compliance.review_at;
  const always = new Set<ReasonCode>(d.always_review as ReasonCode[]);
  const applied: string[] = [];
  for (const o of d.overrides) {
    const w = o.when;
    if (w.vendor_category !== undefined && w.vendor_category !== ctx.vendorCategory) continue;
    if (w.facility_id !== undefined && w.facility_id !== ctx.facilityId) continue;
    applied.push(
      [
        w.vendor_category !== undefined ? `vendor_category=${w.vendor_category}` : null,
        w.facility_id !== undefined ? `facility_id=${w.facility_id}` : null,
      ]
        .filter(Boolean)
        .join('&'),
    );
    coding = o.queues?.coding?.review_at ?? coding;
    codingHold = o.queues?.coding?.hold_at ?? codingHold;
    apReview = o.queues?.ap?.review_at ?? apReview;
    apHold = o.queues?.ap?.hold_at ?? apHold;
    compliance = o.queues?.compliance?.review_at ?? compliance;
    for (const c of o.always_review ?? []) always.add(c as ReasonCode);
  }
  return {
    version: def.label,
    duplicateHold: apHold,
    duplicateReview: apReview,
    codingReview: coding,
    ...(codingHold !== undefined ? { codingHold } : {}),
    complianceReview: compliance,
    alwaysReview: [...always],
    slaCentsPerDay: d.priority.sla_cents_per_day,
    overridesApplied: applied,
    extraction: d.extraction?.min_confidence ?? DEFAULT_EXTRACTION_THRESHOLDS,
    ...(d.procurement ? { procurement: procurementTolerances(d.procurement) } : {}),
  };
}

/** The default policy without overrides (`policy-default@1`). */
export const DEFAULT_POLICY: RoutingPolicy = effectivePolicy(DEFAULT_POLICY_DEFINITION, {
  vendorCategory: null,
  facilityId: null,
});

/** Routing result. */
export interface Route {
  decision: DecisionKind;
  queue: Queue | undefined;
}

const isDuplicateCode = (c: string): boolean => DUPLICATE_SCORE_CODES.has(c);

/**
 * Routes by policy. HOLD when the duplicate score reaches `duplicateHold` (AP queue), or the
 * coding score reaches `codingHold` with a coding reason (coding queue), or a procurement reason
 * (PO, receipt or contract exception) fires and the policy holds on them (`procurement.hold`,
 * default true; procurement queue); REVIEW when any
 * reason fires (a forced reason with weight > 0; with the invoice coding score at or above
 * `codingReview`, a coding reason whose weight is too, and the heaviest coding reason; a duplicate reason with the duplicate score at or
 * above `duplicateReview`; a compliance reason with weight at or above `complianceReview`; any
 * procurement reason),
 * in the queue of the heaviest firing reason; else AUTO_APPROVE.
 */
export function route(
  policy: RoutingPolicy,
  scores: { coding_mismatch: number; duplicate: number },
  reasons: readonly Reason[],
): Route {
  return routeWithFiring(policy, scores, reasons).route;
}

/** {@link route} plus the reasons that crossed their threshold (`firing`), for explanations. */
export function routeWithFiring(
  policy: RoutingPolicy,
  scores: { coding_mismatch: number; duplicate: number },
  reasons: readonly Reason[],
): { route: Route; firing: ReasonCode[] } {
  // The heaviest coding reason carries an invoice whose coding score crossed the threshold even
  // when the score is shared among several reasons (a model's contributions, a noisy-OR).
  let heaviestCoding: Reason | null = null;
  for (const r of reasons)
    if (REASON_CODES[r.code as ReasonCode]?.queue === 'coding' && !isDuplicateCode(r.code) && r.weight > 0)
      if (!heaviestCoding || r.weight > heaviestCoding.weight) heaviestCoding = r;
  const firing = reasons.filter((r) => {
    const entry = REASON_CODES[r.code as ReasonCode];
    if (!entry || r.weight <= 0) return false;
    if (policy.alwaysReview.includes(r.code as ReasonCode)) return true;
    // Raised only below the policy's extraction thresholds, so it always sends to review.
    if (r.code === 'LOW_EXTRACTION_CONFIDENCE') return true;
    if (isDuplicateCode(r.code)) return scores.duplicate >= policy.duplicateReview;
    if (entry.queue === 'coding')
      return (
        scores.coding_mismatch >= policy.codingReview &&
        (r.weight >= policy.codingReview || r === heaviestCoding)
      );
    if (entry.queue === 'compliance') return r.weight >= (policy.complianceReview ?? 0.5);
    // Raised only beyond the tenant's procurement tolerances.
    if (entry.queue === 'procurement') return true;
    return false;
  });
  const codes = firing.map((r) => r.code as ReasonCode);
  if (scores.duplicate >= policy.duplicateHold)
    return { route: { decision: 'HOLD', queue: 'ap' }, firing: codes };
  if (policy.codingHold !== undefined && scores.coding_mismatch >= policy.codingHold && heaviestCoding)
    return { route: { decision: 'HOLD', queue: 'coding' }, firing: codes };
  const procurementHold = policy.procurement?.hold ?? true;
  if (procurementHold && firing.some((r) => REASON_CODES[r.code as ReasonCode].queue === 'procurement'))
    return { route: { decision: 'HOLD', queue: 'procurement' }, firing: codes };
  if (firing.length === 0) return { route: { decision: 'AUTO_APPROVE', queue: undefined }, firing: codes };
  const top = firing.reduce((a, b) => (b.weight > a.weight ? b : a));
  return {
    route: { decision: 'REVIEW', queue: REASON_CODES[top.code as ReasonCode].queue },
    firing: codes,
  };
}

/**
 * Expected loss in dollars from the scores alone (the first term of the priority, see
 * `inference/priority.ts`): max(P(duplicate) x |total|, sum over lines of P(coding exception)
 * x |line amount|) / 100, rounded to cents.
 */
export function priorityDollars(
  totalCents: number,
  duplicateScore: number,
  lines: readonly { amountCents: number; codingScore: number | null }[],
): number {
  const dup = duplicateScore * Math.abs(totalCents);
  const coding = lines.reduce((acc, l) => acc + (l.codingScore ?? 0) * Math.abs(l.amountCents), 0);
  return Math.round(Math.max(dup, coding)) / 100;
}
