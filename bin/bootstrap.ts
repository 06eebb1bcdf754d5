/** Wires the scoring service from configuration: store, reference data, scorers, policy. */
import { loadReferenceData } from '../datasets/reference.js';
import {
  buildReferenceIndex,
  createHeuristicCodingScorer,
  createHeuristicDuplicateScorer,
  createScoringService,
  DEFAULT_POLICY,
  type ScoringService,
} from '../inference/index.js';
import {
  createBatchRepository,
  createRepository,
  openDatabase,
  type BatchRepository,
  type SqlDatabase,
  type StoreConfig,
  type TriageRepository,
} from '../store/index.js';

/** A wired service and the repository behind it (close it when done). */
export interface Wired {
  scoring: ScoringService;
  repo: TriageRepository;
  /** Batches (same database handle as `repo`; closing `repo` closes it). */
  batches: BatchRepository;
  /** The database handle behind both (for tests and tools). */
  db: SqlDatabase;
}

/** Opens the store (applying migrations), loads the shipped reference data and builds the service. */
export async function wire(store: StoreConfig): Promise<Wired> {
  const reference = loadReferenceData();
  const index = buildReferenceIndex(reference);
  const db = await openDatabase(store);
  const repo = createRepository(db);
  const scoring = createScoringService({
    repo,
    coding: createHeuristicCodingScorer(index),
    duplicate: createHeuristicDuplicateScorer(),
    policy: DEFAULT_POLICY,
    referenceVersion: reference.version,
  });
  return { scoring, repo, batches: createBatchRepository(db), db };
}
