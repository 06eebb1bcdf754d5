/** The API shapes the console reads (subsets of the server's schemas). */
import type { LabelTask } from '../../core/review-tasks.js';

export type Role = 'workflow' | 'reviewer' | 'data-scientist' | 'auditor' | 'admin';

export interface Session {
  tenant_id: string;
  key_id: string;
  roles: Role[];
  sla_days: number;
}

export interface WorklistItem {
  decision_id: string;
  invoice_id: string;
  decision: 'REVIEW' | 'HOLD';
  queue: string;
  priority: number;
  vendor: { id: string; name: string };
  facility_id: string | null;
  invoice_number: string;
  invoice_date: string;
  received_date: string | null;
  days_open: number;
  total_cents: number;
  currency: string;
  reason_codes: string[];
  duplicate_of: string | null;
}

/** A stored review (`POST /v1/reviews`), as the label form reads it. */
export interface StoredReview {
  review_id: string;
  task: 'coding-mismatch' | 'duplicate' | 'other';
  outcome: string;
  /** The decision's worklist item as read: open, closed, or null (no item). */
  item_status: 'open' | 'closed' | null;
  /** The decision's tasks with findings that no review is about yet (core/review-tasks.ts). */
  unreviewed_tasks: LabelTask[];
}

export interface Claim {
  decision_id: string;
  key_id: string;
  key_name: string | null;
  claimed_by_me: boolean;
  expires_at: string;
}

export interface InvoiceLine {
  line_number: number;
  description: string;
  code?: { system: string; value: string };
  modifiers?: string[];
  quantity: number;
  unit_price_cents: number;
  amount_cents: number;
  service_date?: string;
}

export interface Invoice {
  invoice_id: string;
  vendor: { id: string; name: string; npi?: string; tax_id?: string };
  invoice_number: string;
  invoice_date: string;
  due_date?: string;
  received_date?: string;
  currency: string;
  total_cents: number;
  document_type: string;
  po_number?: string;
  facility_id?: string;
  service_period?: { start: string; end: string };
  lines: InvoiceLine[];
  [k: string]: unknown;
}

export interface Reason {
  code: string;
  message: string;
  weight: number;
}

export interface Difference {
  field: string;
  this_value: unknown;
  earlier_value: unknown;
  note?: string;
}

export interface DuplicateMatch {
  invoice_id: string;
  decision_id: string;
  earlier_decision: string;
  earlier_approved: boolean;
  score: number;
  differences: Difference[];
  kind?: 'invoice' | 'lines' | 'invoice_and_lines';
  rebilled_lines?: { line_number: number; earlier_line_number: number; score: number }[];
}

export interface ModelAttribution {
  model: string;
  base_value: number;
  logit: number;
  contributions: { group: string; value: number; reason: string | null }[];
  completeness_gap: number;
}

export interface Decision {
  decision_id: string;
  invoice_id: string;
  decision: 'AUTO_APPROVE' | 'REVIEW' | 'HOLD';
  queue?: string;
  priority: number;
  scores: { coding_mismatch: number; duplicate: number };
  reasons: Reason[];
  duplicates: DuplicateMatch[];
  lines: {
    line_number: number;
    coding_mismatch: number | null;
    reasons: Reason[];
    suggested_codes: { system: string; value: string; description: string; similarity: number }[];
  }[];
  versions: {
    models: Record<string, string>;
    feature_schema: string;
    policy: string;
    reference_data: string;
    thresholds?: Record<string, string>;
  };
  created_at: string;
  explanation?: {
    coding_mismatch: {
      lines: {
        line_number: number;
        score: number | null;
        checks: { code: string; risk: number; share_of_score: number }[];
        model?: ModelAttribution;
      }[];
    };
    evidence: {
      lines: {
        line_number: number;
        billed: { code: string; description: string | null } | null;
        suggested: { code: string; description: string | null }[];
      }[];
    };
    routing: { thresholds: Record<string, unknown> };
    [k: string]: unknown;
  };
}

export interface AuditEntry {
  seq: number;
  ts: string;
  actor_key_id: string | null;
  kind: string;
  subject_id: string;
  payload: unknown;
  hash: string;
}

export interface KpiResponse<P> {
  figure: string;
  title: string;
  definition: string;
  periods: string[];
  points: P[];
  note: string | null;
  sla_days?: number;
  bounds?: { model: string; alpha: number; delta: number; coverage_test: number | null }[];
}

/** One distribution of `GET /v1/models/{name}/drift` (monitoring/drift.ts DistributionDrift). */
export interface DriftDistribution {
  feature: string;
  n: number;
  psi: number | null;
  js_bits: number | null;
  statistic: 'psi' | 'js';
  missing_share: number | null;
  status: 'insufficient_data' | 'ok' | 'watch' | 'drift';
}

/** `GET /v1/models/{name}/drift` (monitoring/drift.ts DriftReport), the fields the dashboard draws. */
export interface DriftResponse {
  model: string;
  unit: string;
  window: { from: string; to: string; hours: number };
  rows: number;
  status: DriftDistribution['status'];
  thresholds: { psi: { watch: number; drift: number } };
  score: DriftDistribution;
  features: DriftDistribution[];
}
