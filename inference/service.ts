/**
 * The scoring service's contract: what it needs ({@link ScoringDeps}) and what it answers
 * ({@link ScoringService}); inference/pipeline.ts implements it.
 */
import type { DecisionResponse, Versions } from '../core/decision.js';
import type { FieldError } from '../core/errors.js';
import type { Invoice } from '../core/invoice.js';
import type { TriageRepository } from '../store/repository.js';
import type {
  CodingMismatchScorer,
  DuplicatePairScorer,
  LineScore,
  MaybePromise,
  PairScore,
  ReasonFloor,
} from './scorers.js';
import type { PolicyDefinition } from './policy.js';
import type { ReferenceIndex } from '../features/reference-index.js';
import type { SourcedPolicy, ReferenceCodeInfo } from './stages/index.js';
import type { ProcurementMatcher } from './procurement/matcher.js';
import type { ScoringMonitor } from '../monitoring/hooks.js';
import type { ChunkScorer } from './chunk-scoring.js';

/** Dependencies of the scoring service (all injected; nothing here reads the environment). */
export interface ScoringDeps {
  repo: TriageRepository;
  /** Heuristic (sync) or trained ONNX (async) coding scorer. */
  coding: CodingMismatchScorer<MaybePromise<LineScore[]>>;
  /** Heuristic (sync) or trained ONNX (async) pair scorer. */
  duplicate: DuplicatePairScorer<MaybePromise<PairScore>>;
  /**
   * When true (default), the queue thresholds of an unbound default policy yield to the served
   * models' cards; a default with `certifiedFor` keeps its own for its certified champions.
   * Stored policies always win (inference/stages/thresholds.ts); false for an operator's POLICY_FILE.
   */
  thresholdsFromCards?: boolean;
  /** Version 1 of every tenant's routing policy; default the hand-set `policy-default@1`. */
  defaultPolicy?: PolicyDefinition;
  /** Told once per served model the default is not certified for (fields without invoice contents). */
  warn?: (fields: Record<string, unknown>, message: string) => void;
  /** HCPCS reference index, for explanations (CMS descriptions) and vendor-profile checks. */
  reference?: ReferenceIndex;
  /** Reference data edition, recorded in every decision. */
  referenceVersion: string;
  /** Nearest neighbours fetched per invoice; default `DEFAULT_CANDIDATE_K` (inference/stages). */
  candidateK?: number;
  /** Candidates scoring below this are not reported; default `DEFAULT_REPORT_DUPLICATE_AT` (inference/stages). */
  reportDuplicateAt?: number;
  clock?: () => Date;
  /** Decision ids; default `randomUUID` (golden runs pass a sequence). */
  newId?: () => string;
  /** Model monitoring (drift, shadow challengers, audit sample); absent: none. See monitoring/. */
  monitor?: ScoringMonitor;
  /** Line matcher of the PO match and its card threshold; default the identifier rule at 0.5. */
  lineMatcher?: { matcher: ProcurementMatcher; threshold: number | null };
}

/** Outcome of scoring one invoice. */
export interface ScoreOutcome {
  decision: DecisionResponse;
  /** False when the invoice id had been scored before and the stored decision was returned. */
  created: boolean;
}

/** Options of {@link ScoringService.score}. */
export interface ScoreOptions {
  /**
   * Stops the work when it aborts (e.g. at the request's deadline, api/limits.ts `withDeadline`):
   * scoring checks it between its stages and before every statement of its transaction, which
   * then rolls back, so nothing of the invoice is stored and a retry scores it again. Work that
   * had committed before the abort stays stored (a retry replays it).
   */
  signal?: AbortSignal;
}

/** The scoring service used by the API, the CLI and batch jobs. */
export interface ScoringService {
  /**
   * Scores and indexes a validated invoice for a tenant, or returns the stored decision for a
   * re-sent one. `actorKeyId` (the API key that scored it) is stored and audited.
   * @throws TriageError `TRIAGE_INVOICE_CONFLICT` when the invoice id was used for other content.
   * @throws the abort reason of `opts.signal` when it aborts before the transaction commits.
   */
  score(
    invoice: Invoice,
    tenantId?: string,
    actorKeyId?: string | null,
    opts?: ScoreOptions,
  ): Promise<ScoreOutcome>;
  /**
   * Scores validated invoices of one tenant in order, a group of them per transaction, with the
   * decisions `score` would make one by one (inference/chunk-scoring.ts).
   */
  scoreChunk?: ChunkScorer;
  /** The routing policy currently in effect for a tenant (its latest version, or the default). */
  policyFor(tenantId: string): Promise<PolicyDefinition>;
  /**
   * Version 1 of every tenant's policy: the served default (with `certifiedFor` when it is the
   * shipped certified policy, bin/served-policy.ts).
   */
  readonly defaultPolicy: PolicyDefinition;
  /** A policy version's thresholds as routing applies them now (no override matched), with sources. */
  effectiveThresholds(policyDef: PolicyDefinition): SourcedPolicy;
  /**
   * The reason floor of the coding model serving new calls (a coding review threshold at or
   * below it cannot apply, see `stages/thresholds.ts`); null when the scorer has none (a heuristic).
   */
  codingReasonFloor(): ReasonFloor | null;
  /** CMS reference text of a HCPCS code, or null when unknown (or no reference is loaded). */
  referenceCode(code: string): ReferenceCodeInfo | null;
  /**
   * Vendor-profile categories that name nothing in the HCPCS reference: a BETOS code no HCPCS
   * code carries, or a prefix no code starts with (none when no reference is loaded).
   * @returns one error per bad entry, at `/approved_betos/<i>` or `/approved_hcpcs_prefixes/<i>`.
   */
  unknownVendorCategories(input: {
    approved_betos: readonly string[];
    approved_hcpcs_prefixes: readonly string[];
  }): FieldError[];
  /** Versions of models (the versions serving new calls), feature schema, default policy and reference data. */
  readonly versions: Versions;
}
