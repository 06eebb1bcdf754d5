/**
 * The scoring service's cache of routing policies and vendor profiles, keyed by version. Each
 * score reads the current versions (one statement, `repo.configVersions`) and a document is read
 * only when its version changed, so a change made through any process is used by the next score
 * of every process.
 */
import type { VendorProfile } from '../core/vendor.js';
import type { TriageRepository } from '../store/repository.js';
import { parsePolicyDocument, policyDefinition, type PolicyDefinition } from './policy.js';

/** Entries of each cache before it is emptied. */
const CACHE_MAX = 10_000;

/** Version-checked reads of policies and vendor profiles. */
export interface ConfigCache {
  /** The tenant's policy of version `v` (its latest; `v <= 1`: the default policy). */
  policyAt(tenantId: string, v: number): Promise<PolicyDefinition>;
  /** The vendor's profile of version `v`; null when `v` is null (no profile registered). */
  profileAt(tenantId: string, vendorId: string, v: number | null): Promise<VendorProfile | null>;
}

/**
 * Creates the cache over a repository.
 * @param defaultPolicy - the policy of tenants that never stored one (version 1).
 */
export function createConfigCache(
  repo: Pick<TriageRepository, 'policies' | 'vendors'>,
  defaultPolicy: PolicyDefinition,
): ConfigCache {
  const policies = new Map<string, PolicyDefinition>();
  const profiles = new Map<string, VendorProfile>();
  return {
    async policyAt(tenantId, v) {
      if (v <= 1) return defaultPolicy;
      const cached = policies.get(tenantId);
      if (cached && cached.label.endsWith(`@${v}`)) return cached;
      const stored = await repo.policies.latest(tenantId);
      if (!stored) return defaultPolicy;
      const def: PolicyDefinition = {
        ...policyDefinition(parsePolicyDocument(stored.document), stored.version),
        label: stored.label,
      };
      if (policies.size >= CACHE_MAX) policies.clear();
      policies.set(tenantId, def);
      return def;
    },
    async profileAt(tenantId, vendorId, v) {
      if (v === null) return null;
      const key = `${tenantId}\u0000${vendorId}`;
      const cached = profiles.get(key);
      if (cached && cached.version === v) return cached;
      const read = await repo.vendors.get(tenantId, vendorId);
      if (profiles.size >= CACHE_MAX) profiles.clear();
      if (read) profiles.set(key, read);
      return read;
    },
  };
}
