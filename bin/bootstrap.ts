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
import { openStore, type StoreConfig, type TriageRepository } from '../store/index.js';

/** A wired service and the repository behind it (close it when done). */
export interface Wired {
  scoring: ScoringService;
  repo: TriageRepository;
}

/** Opens the store (applying migrations), loads the shipped reference data and builds the service. */
export async function wire(store: StoreConfig): Promise<Wired> {
  const reference = loadReferenceData();
  const index = buildReferenceIndex(reference);
  const repo = await openStore(store);
  const scoring = createScoringService({
    repo,
    coding: createHeuristicCodingScorer(index),
    duplicate: createHeuristicDuplicateScorer(),
    policy: DEFAULT_POLICY,
    referenceVersion: reference.version,
  });
  return { scoring, repo };
}
