/**
 * The scoring service as an evaluation detector (`npm run eval`, `npm run train` baselines):
 * wires the service over a fresh store, registers the benchmark's vendor master (as tenants do
 * with `PUT /v1/vendors/:id`) so the service sees the approved categories training saw, and
 * reads the routing thresholds the service will apply to the default tenant (the served default's:
 * the certified policy for its champions, a card for another model; or the `POLICY_FILE`'s).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readVendors } from '../datasets/benchmark/read.js';
import { BENCHMARK_FILES } from '../datasets/benchmark/types.js';
import { vendorMasterApprovals, type BenchmarkVendor } from '../datasets/benchmark/vendors.js';
import { DEFAULT_TENANT } from '../inference/index.js';
import type { StoreConfig, TriageRepository } from '../store/index.js';
import type { Detector } from '../training/eval/detector.js';
import { createServiceDetector } from '../training/eval/service-detector.js';
import { wire, type ModelsWiring } from './bootstrap.js';

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
  /** Routing policy file served as it is in place of the certified default (`POLICY_FILE`). */
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
  // The thresholds routing applies to the default tenant: the certified default's (its
  // champions), a served model's card for another model, or the POLICY_FILE's.
  const { policy, sources } = wired.scoring.effectiveThresholds(
    await wired.scoring.policyFor(DEFAULT_TENANT),
  );
  return createServiceDetector(wired.scoring, {
    ...(o.name ? { name: o.name } : {}),
    duplicateThreshold: policy.duplicateReview,
    codingThreshold: policy.codingReview,
    thresholdSources: sources,
    close: async () => {
      await wired.repo.close();
      await wired.closeModels();
      await o.afterClose?.();
    },
  });
}
