/**
 * The error catalog. Every error the service raises on purpose is a {@link TriageError} with a
 * stable `code` (`TRIAGE_<AREA>_<WHAT>`), an HTTP status and whether a retry may succeed.
 * Tests assert codes, never messages. The API renders these as RFC 9457 problem+json.
 */

/** One field-level problem: a JSON pointer into the request body and what is wrong there. */
export interface FieldError {
  /** JSON pointer, e.g. `/lines/0/quantity`. */
  path: string;
  message: string;
}

/** Field errors listed in one 400 at most (the detail gives the total). */
export const MAX_REPORTED_ERRORS = 100;

interface CatalogEntry {
  status: number;
  title: string;
  retryable: boolean;
}

/** Every error code with its HTTP status, title and retryability. */
export const ERROR_CATALOG = {
  /** A request body (an invoice, a review, a key...) fails its schema or rules. */
  TRIAGE_INPUT_INVALID: { status: 400, title: 'Invalid request body', retryable: false },
  TRIAGE_REQUEST_INVALID: { status: 400, title: 'Invalid request', retryable: false },
  TRIAGE_INVOICE_CONFLICT: {
    status: 409,
    title: 'Invoice id reused with different content',
    retryable: false,
  },
  TRIAGE_DECISION_NOT_FOUND: { status: 404, title: 'Decision not found', retryable: false },
  TRIAGE_ROUTE_NOT_FOUND: { status: 404, title: 'Not found', retryable: false },
  /** The path is a route's, but not under this method (the answer's `Allow` lists those it has). */
  TRIAGE_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed', retryable: false },
  TRIAGE_PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large', retryable: false },
  /** The `Accept` header names no media type the route answers in (a decision's versions). */
  TRIAGE_NOT_ACCEPTABLE: { status: 406, title: 'Not acceptable', retryable: false },
  TRIAGE_MEDIA_TYPE_UNSUPPORTED: { status: 415, title: 'Unsupported media type', retryable: false },
  TRIAGE_EXPECTATION_FAILED: { status: 417, title: 'Expectation failed', retryable: false },
  TRIAGE_STORE_MIGRATION_MISMATCH: {
    status: 500,
    title: 'Applied migration differs from its file',
    retryable: false,
  },
  TRIAGE_STORE_UNAVAILABLE: { status: 503, title: 'Store unavailable', retryable: true },
  TRIAGE_CONFIG_INVALID: { status: 500, title: 'Invalid configuration', retryable: false },
  TRIAGE_REFERENCE_DATA_INVALID: { status: 500, title: 'Reference data invalid', retryable: false },
  TRIAGE_FEATURE_SCHEMA_MISMATCH: { status: 500, title: 'Feature schema mismatch', retryable: false },
  TRIAGE_MODEL_INVALID: { status: 500, title: 'Model spec or card invalid', retryable: false },
  TRIAGE_FILE_INVALID: { status: 400, title: 'Invalid input file', retryable: false },
  TRIAGE_MODEL_NOT_FOUND: { status: 404, title: 'Model or model version not found', retryable: false },
  TRIAGE_MODEL_UPLOAD_INVALID: { status: 422, title: 'Uploaded model is not usable', retryable: false },
  TRIAGE_MODEL_SIGNATURE_MISMATCH: {
    status: 422,
    title: 'Model input signature does not match the feature schema',
    retryable: false,
  },
  TRIAGE_MODEL_PROMOTION_REFUSED: { status: 409, title: 'Model promotion refused', retryable: false },
  TRIAGE_MODEL_REGISTRY_BUSY: { status: 503, title: 'Model registry is locked', retryable: true },
  /**
   * The registry takes no writes (registrations, promotions, retraining): `MODELS_DIR=none`
   * serves the heuristics and reads the shipped, git-tracked `models/artifacts`.
   */
  TRIAGE_MODEL_REGISTRY_READ_ONLY: { status: 409, title: 'Model registry is read-only', retryable: false },
  /** Drift asked of a model version without reference histograms (`reference-histograms.json`). */
  TRIAGE_MONITORING_NO_REFERENCE: {
    status: 404,
    title: 'Model version has no reference distributions',
    retryable: false,
  },
  TRIAGE_SHADOW_NOT_FOUND: { status: 404, title: 'No shadow record of this model', retryable: false },
  /** A shadow must be another version than the champion it is compared with. */
  TRIAGE_SHADOW_IS_CHAMPION: { status: 409, title: 'Version is the serving champion', retryable: false },
  /** Promotion refused: the challenger's shadow record has fewer labelled invoices than required. */
  TRIAGE_SHADOW_RECORD_INSUFFICIENT: { status: 409, title: 'Shadow record insufficient', retryable: false },
  /**
   * A model (or stored decision) was made with another feature schema than the running code's
   * `featureSchemaVersion()`. 409 Conflict: the request (load / promote / score with a model) is
   * well formed, but conflicts with the current state of the service (its feature code).
   */
  TRIAGE_MODEL_SCHEMA_MISMATCH: { status: 409, title: 'Model feature schema mismatch', retryable: false },
  /** A money text (e.g. `"12,34.5"`) could not be read as an amount. */
  TRIAGE_FEATURES_AMOUNT_UNPARSEABLE: { status: 422, title: 'Amount not parseable', retryable: false },
  /** A money text is valid under two decimal conventions (`"1,234"`) and no hint resolves it. */
  TRIAGE_FEATURES_AMOUNT_AMBIGUOUS: { status: 422, title: 'Amount ambiguous', retryable: false },
  /** A date text could not be read as a calendar date. */
  TRIAGE_FEATURES_DATE_UNPARSEABLE: { status: 422, title: 'Date not parseable', retryable: false },
  /** A date text (`"03/04/2018"`) reads as two dates and no ordering hint resolves it. */
  TRIAGE_FEATURES_DATE_AMBIGUOUS: { status: 422, title: 'Date ambiguous', retryable: false },
  /** A shipped feature artefact (IDF table) is missing or does not match its recorded hash. */
  TRIAGE_FEATURES_ARTIFACT_INVALID: { status: 500, title: 'Feature artefact invalid', retryable: false },
  TRIAGE_INTERNAL: { status: 500, title: 'Internal error', retryable: false },
  // Batches, jobs and limits.
  TRIAGE_BATCH_NOT_FOUND: { status: 404, title: 'Batch not found', retryable: false },
  TRIAGE_HISTORY_IMPORT_NOT_FOUND: { status: 404, title: 'History import not found', retryable: false },
  TRIAGE_IDEMPOTENCY_CONFLICT: {
    status: 409,
    title: 'Idempotency key reused with a different request',
    retryable: false,
  },
  TRIAGE_REQUEST_TIMEOUT: { status: 408, title: 'Request not received in time', retryable: true },
  TRIAGE_RATE_LIMITED: { status: 429, title: 'Too many requests', retryable: true },
  TRIAGE_DEADLINE_EXCEEDED: { status: 503, title: 'Scoring deadline exceeded', retryable: true },
  TRIAGE_OVERLOADED: { status: 503, title: 'Server at its scoring concurrency limit', retryable: true },
  TRIAGE_QUEUE_UNAVAILABLE: { status: 503, title: 'Job queue unavailable', retryable: true },
  TRIAGE_TRAINING_UNAVAILABLE: { status: 501, title: 'Training not available', retryable: false },
  /** The service was started without a retraining queue (`POST /v1/models/:name/train`). */
  TRIAGE_TRAINING_NOT_CONFIGURED: { status: 503, title: 'Training not configured', retryable: false },
  /**
   * A training run stopped because the process running it is shutting down; nothing was
   * registered. Retryable: a worker's queue runs the job again later.
   */
  TRIAGE_TRAINING_CANCELLED: { status: 503, title: 'Training cancelled', retryable: true },
  TRIAGE_JOB_NOT_FOUND: { status: 404, title: 'Job not found', retryable: false },
  TRIAGE_BATCH_ITEM_ABANDONED: {
    status: 500,
    title: 'Batch item abandoned after repeated failures',
    retryable: false,
  },
  TRIAGE_AUTH_REQUIRED: { status: 401, title: 'API key required', retryable: false },
  TRIAGE_AUTH_INVALID: { status: 401, title: 'API key invalid or revoked', retryable: false },
  TRIAGE_FORBIDDEN: { status: 403, title: 'Role not allowed', retryable: false },
  /**
   * A change of the models every tenant shares (promote, train, a retrain job) by a tenant other
   * than the deployment's operator tenant (`MODEL_OPERATOR_TENANT`).
   */
  TRIAGE_OPERATOR_ONLY: { status: 403, title: 'Operator tenant required', retryable: false },
  TRIAGE_ROUTE_ROLES_MISSING: { status: 500, title: 'Route declares no roles', retryable: false },
  TRIAGE_KEY_NOT_FOUND: { status: 404, title: 'API key not found', retryable: false },
  /** Revoking the tenant's last active admin key would leave nobody able to manage its keys. */
  TRIAGE_KEY_LAST_ADMIN: { status: 409, title: "Tenant's last admin key", retryable: false },
  TRIAGE_VENDOR_NOT_FOUND: { status: 404, title: 'Vendor profile not found', retryable: false },
  TRIAGE_REVIEW_INVALID: { status: 422, title: 'Review does not fit the decision', retryable: false },
  // Events out: webhooks and the event feed.
  TRIAGE_WEBHOOK_NOT_FOUND: { status: 404, title: 'Webhook subscription not found', retryable: false },
  TRIAGE_DELIVERY_NOT_FOUND: { status: 404, title: 'Webhook delivery not found', retryable: false },
  /** Only a delivered or dead delivery can be sent again (a pending one is still being sent). */
  TRIAGE_DELIVERY_NOT_REDELIVERABLE: {
    status: 409,
    title: 'Delivery is pending or cancelled',
    retryable: false,
  },
  TRIAGE_WEBHOOKS_NOT_CONFIGURED: { status: 500, title: 'Webhook delivery not configured', retryable: false },
  /** Another reviewer holds an unexpired claim on the worklist item (store/claims.ts). */
  TRIAGE_CLAIM_CONFLICT: {
    status: 409,
    title: 'Worklist item claimed by another reviewer',
    retryable: false,
  },
  /** An ERP load refers to a record that does not exist (a vendor without profile, a receipt's PO or PO line). */
  TRIAGE_ERP_REFERENCE_INVALID: {
    status: 422,
    title: 'ERP record refers to an unknown record',
    retryable: false,
  },
  /** A purchase order of an ERP load lists two lines with one line number. */
  TRIAGE_ERP_LINE_NUMBER_REPEATED: { status: 422, title: 'PO line number repeated', retryable: false },
  /** A contract of an ERP load ends before it starts. */
  TRIAGE_ERP_CONTRACT_DATES_INVALID: {
    status: 422,
    title: 'Contract ends before it starts',
    retryable: false,
  },
  /**
   * A goods receipt of an ERP load dated after the day of the load plus one day: it would count
   * as received before the goods arrived.
   */
  TRIAGE_ERP_RECEIPT_DATE_FUTURE: {
    status: 422,
    title: 'Goods receipt dated in the future',
    retryable: false,
  },
  /**
   * An ERP record's quantity or pack size contradicts its unit (core/units.ts): a `pack_qty`
   * other than a fixed-count unit's count (`DZ` with 10), or a fractional quantity of a count or
   * pack unit on a PO line or receipt (0.5 `EA`).
   */
  TRIAGE_ERP_UNIT_INVALID: {
    status: 422,
    title: 'Quantity or pack size contradicts the unit of measure',
    retryable: false,
  },
  /**
   * A goods receipt in another unit than its PO line where a side lacks the pack quantity that
   * converts it to each (a CS receipt without `pack_qty` against an EA line).
   */
  TRIAGE_ERP_RECEIPT_UNIT_UNCONVERTIBLE: {
    status: 422,
    title: 'Goods receipt unit does not convert to its PO line unit',
    retryable: false,
  },
  /** A new PO version drops a line that stored receipts were received against. */
  TRIAGE_ERP_RECEIPTS_ORPHANED: {
    status: 409,
    title: 'PO version drops lines with receipts',
    retryable: false,
  },
  /** An ERP record arrives with a version already stored (or sent twice) with other content. */
  TRIAGE_ERP_VERSION_CONFLICT: { status: 409, title: 'ERP record version conflict', retryable: false },
  /** An ERP status callback for an invoice already reported paid, with another status. */
  TRIAGE_ERP_STATUS_CONFLICT: { status: 409, title: 'ERP status conflicts with payment', retryable: false },
} as const satisfies Record<string, CatalogEntry>;

/** A stable error code from {@link ERROR_CATALOG}. */
export type ErrorCode = keyof typeof ERROR_CATALOG;

/** An expected, catalogued error. `errors` lists field-level problems for validation errors. */
export class TriageError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly retryable: boolean;
  readonly errors: FieldError[];

  constructor(code: ErrorCode, detail: string, errors: FieldError[] = [], options?: { cause?: unknown }) {
    super(detail, options);
    this.name = 'TriageError';
    const entry: CatalogEntry = ERROR_CATALOG[code];
    this.code = code;
    this.status = entry.status;
    this.title = entry.title;
    this.retryable = entry.retryable;
    this.errors = errors;
  }
}

/** True when `e` is a {@link TriageError}, optionally of the given code. */
export function isTriageError(e: unknown, code?: ErrorCode): e is TriageError {
  return e instanceof TriageError && (code === undefined || e.code === code);
}
