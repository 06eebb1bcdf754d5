/**
 * Wires the scoring service from configuration: store, reference data, scorers, policy; and
 * creates the bootstrap API keys of a new installation.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadReferenceData } from '../datasets/reference.js';
import { TriageError, isTriageError } from '../core/errors.js';
import {
  buildReferenceIndex,
  createHeuristicCodingScorer,
  createHeuristicDuplicateScorer,
  createScoringService,
  DEFAULT_POLICY_DEFINITION,
  parsePolicyDocument,
  policyDefinition,
  type PolicyDefinition,
  type ScoringService,
} from '../inference/index.js';
import {
  createBatchRepository,
  createRepository,
  openDatabase,
  type BatchRepository,
  type SqlDatabase,
  type CandidateSearchOptions,
  type CreatedApiKey,
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

/** Options of {@link wire}. */
export interface WireOptions {
  /** Routing policy JSON file used as version 1 of every tenant; default the shipped default. */
  policyFile?: string;
  /** Tuning of the duplicate-candidate search. */
  search?: CandidateSearchOptions;
  /** Clock of the scoring service (decision times, "today" of priorities); default the system clock. */
  clock?: () => Date;
}

/**
 * Reads and validates a policy file.
 * @throws TriageError `TRIAGE_CONFIG_INVALID` naming the file and each bad field.
 */
export function loadPolicyFile(path: string): PolicyDefinition {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TriageError('TRIAGE_CONFIG_INVALID', `POLICY_FILE ${path}: ${(e as Error).message}`, [
      { path: 'POLICY_FILE', message: 'is not a readable JSON file' },
    ]);
  }
  try {
    return policyDefinition(parsePolicyDocument(json), 1);
  } catch (e) {
    if (!isTriageError(e)) throw e;
    throw new TriageError(
      'TRIAGE_CONFIG_INVALID',
      `POLICY_FILE ${path}: ${e.message}`,
      e.errors.map((x) => ({ path: `POLICY_FILE${x.path}`, message: x.message })),
    );
  }
}

/** Opens the store (applying migrations), loads the shipped reference data and builds the service. */
export async function wire(store: StoreConfig, opts: WireOptions = {}): Promise<Wired> {
  const defaultPolicy = opts.policyFile ? loadPolicyFile(opts.policyFile) : DEFAULT_POLICY_DEFINITION;
  const reference = loadReferenceData();
  const index = buildReferenceIndex(reference);
  const db = await openDatabase(store);
  const repo = createRepository(db, opts.search ?? {});
  const scoring = createScoringService({
    repo,
    coding: createHeuristicCodingScorer(index),
    duplicate: createHeuristicDuplicateScorer(),
    defaultPolicy,
    reference: index,
    referenceVersion: reference.version,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return { scoring, repo, batches: createBatchRepository(db), db };
}

/** Tenant of the bootstrap keys. */
export const BOOTSTRAP_TENANT = 'default';

/**
 * On a store without any API key, creates an `admin` and a `workflow` key for tenant
 * `default` and writes them, once, to `file` (mode 0600, written before the keys commit, so a
 * failed write creates no key). @returns the file path when keys were created, else null.
 */
export async function ensureBootstrapKeys(repo: TriageRepository, file: string): Promise<string | null> {
  const created = await repo.keys.bootstrapIfEmpty(
    [
      { tenantId: BOOTSTRAP_TENANT, name: 'bootstrap admin', roles: ['admin'] },
      { tenantId: BOOTSTRAP_TENANT, name: 'bootstrap workflow', roles: ['workflow'] },
    ],
    async (keys: CreatedApiKey[]) => {
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      const body = {
        note:
          'Bootstrap API keys of tenant "default", written once. Send as "Authorization: Bearer <key>". ' +
          'Create more keys with POST /v1/keys (admin) or the CLI (keys create), then delete this file.',
        created_at: new Date().toISOString(),
        tenant_id: BOOTSTRAP_TENANT,
        keys: keys.map((k) => ({
          id: k.record.id,
          name: k.record.name,
          roles: k.record.roles,
          prefix: k.record.prefix,
          key: k.key,
        })),
      };
      writeFileSync(tmp, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, file);
    },
  );
  return created ? file : null;
}
