/**
 * The scoring service as an evaluation detector (`npm run eval`, `npm run train` baselines):
 * wires the service over a fresh store, registers the benchmark's vendor master (as tenants do
 * with `PUT /v1/vendors/:id`) so the service sees the approved categories training saw, and
 * reads the routing thresholds the service will apply (the champions' card thresholds, else the
 * default policy's).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readVendors } from '../datasets/benchmark/read.js';
import { BENCHMARK_FILES } from '../datasets/benchmark/types.js';
import { vendorMasterApprovals, type BenchmarkVendor } from '../datasets/benchmark/vendors.js';
import { DEFAULT_POLICY, DEFAULT_TENANT, effectivePolicy, withCardThresholds } from '../inference/index.js';
import type { StoreConfig, TriageRepository } from '../store/index.js';
import type { Detector } from '../training/eval/detector.js';
import { createServiceDetector } from '../training/eval/service-detector.js';
import { cardThresholds } from '../inference/model-scorers.js';
import type { ChampionModel } from '../inference/onnx-champion.js';
import type { CardThresholds } from '../inference/scorers.js';
import { loadPolicyFile, wire, type ModelsWiring } from './bootstrap.js';

/** Options of {@link serviceDetector}. */
export interface ServiceDetectorWiring {
  store: StoreConfig;
  /** Models to serve (default the shipped champions); null: the heuristic scorers. */
  models?: ModelsWiring | null;
  /** Benchmark directory whose `vendors.json` is registered as the vendor master; null: none. */
  dataDir?: string | null;
  /** Detector name in reports (default `current`). */
  name?: string;
  /** Called after the store is closed (e.g. drops a PostgreSQL schema). */
  afterClose?: () => Promise<void>;
  /** Routing policy file the service uses in place of the card thresholds (`POLICY_FILE`). */
  policyFile?: string;
}

/**
 * Registers a benchmark's vendor master for a tenant (default `default`): each vendor (and its
 * alternate ids) approved for the BETOS codes of its approved categories. @returns vendors registered.
 */
export async function registerBenchmarkVendors(
  repo: TriageRepository,
  dataDir: string,
  tenantId = DEFAULT_TENANT,
): Promise<number> {
  if (!existsSync(join(dataDir, BENCHMARK_FILES.vendors))) return 0;
  return registerVendorMaster(repo, readVendors(dataDir), tenantId);
}

/**
 * Registers benchmark vendors (`vendors.json` entries) as the default tenant's vendor master, in
 * order: each vendor id and alternate id approved for the BETOS codes of its approved categories
 * (HCPCS prefixes for categories without a BETOS code). @returns vendor ids registered.
 */
export async function registerVendorMaster(
  repo: TriageRepository,
  vendors: readonly BenchmarkVendor[],
  tenantId = DEFAULT_TENANT,
): Promise<number> {
  let n = 0;
  for (const v of vendors) {
    const approvals = vendorMasterApprovals(v);
    for (const id of [v.id, ...v.alt_ids]) {
      await repo.vendors.put(tenantId, id, { name: v.name, ...approvals }, null);
      n++;
    }
  }
  return n;
}

/** The scoring service as a detector over a fresh store (closed, then `afterClose`, on close). */
export async function serviceDetector(o: ServiceDetectorWiring): Promise<Detector> {
  const wired = await wire(o.store, {
    models: o.models === undefined ? { reloadMs: null } : o.models,
    ...(o.policyFile ? { policyFile: o.policyFile } : {}),
  });
  if (o.dataDir) await registerBenchmarkVendors(wired.repo, o.dataDir);
  const { policy } = o.policyFile
    ? { policy: effectivePolicy(loadPolicyFile(o.policyFile), { vendorCategory: null, facilityId: null }) }
    : withCardThresholds(
        { ...DEFAULT_POLICY },
        true,
        thresholdsOf(wired.served.get('coding-mismatch')),
        thresholdsOf(wired.served.get('duplicate')),
      );
  return createServiceDetector(wired.scoring, {
    ...(o.name ? { name: o.name } : {}),
    duplicateThreshold: policy.duplicateReview,
    codingThreshold: policy.codingReview,
    close: async () => {
      await wired.repo.close();
      await wired.closeModels();
      await o.afterClose?.();
    },
  });
}

/** The card thresholds of a served champion, or null when the task is served by its heuristic. */
function thresholdsOf(m: ChampionModel | undefined): CardThresholds | null {
  return m ? cardThresholds(m.current) : null;
}
