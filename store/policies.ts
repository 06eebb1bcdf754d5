/**
 * Routing-policy versions per tenant. Version 1 of every tenant is the default the service
 * starts with (built in, or the policy file); each change stored here gets the next version
 * (2, 3, ...) and is audited as `policy.changed` in the same transaction. The document itself
 * is validated by `inference/policy.ts` before it gets here; the store keeps it as JSON.
 */
import { appendAudit } from './audit.js';
import type { SqlDatabase } from './sql.js';
import { lockForTransaction, lockKey } from './locks.js';

/** A stored policy version. */
export interface StoredPolicy {
  tenantId: string;
  version: number;
  /** `<name>@<version>`, recorded in every decision made under it. */
  label: string;
  document: unknown;
  sha256: string;
  createdAt: string;
  createdBy: string | null;
}

/** Policy operations. */
export interface PolicyStore {
  /** The tenant's latest stored version, or null when it runs on the default (version 1). */
  latest(tenantId: string): Promise<StoredPolicy | null>;
  /** The latest version number only (cheap; 1 when nothing is stored). */
  latestVersion(tenantId: string): Promise<number>;
  /**
   * Stores a new version (previous + 1, at least 2) with label `<name>@<version>` and audits it.
   * Concurrent changes of one tenant are serialised.
   */
  put(
    tenantId: string,
    change: { name: string; document: unknown; sha256: string },
    actorKeyId: string | null,
  ): Promise<StoredPolicy>;
}

function toStored(r: Record<string, unknown>): StoredPolicy {
  return {
    tenantId: String(r.tenant_id),
    version: Number(r.version),
    label: String(r.label),
    document: r.document,
    sha256: String(r.sha256),
    createdAt: r.created_at instanceof Date ? r.created_at.toISOString() : String(r.created_at),
    createdBy: (r.created_by as string | null) ?? null,
  };
}

/** The policy store over an opened, migrated database. */
export function createPolicyStore(db: SqlDatabase): PolicyStore {
  return {
    async latest(tenantId) {
      const rows = await db.query(
        'SELECT * FROM policies WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1',
        [tenantId],
      );
      return rows[0] ? toStored(rows[0]) : null;
    },

    async latestVersion(tenantId) {
      const rows = await db.query<{ v: number | null }>(
        'SELECT max(version) AS v FROM policies WHERE tenant_id = $1',
        [tenantId],
      );
      return rows[0]?.v ?? 1;
    },

    put: (tenantId, change, actor) =>
      db.transaction(async (tx) => {
        await lockForTransaction(tx, [lockKey('policy', tenantId)]);
        const cur = await tx.query<{ v: number | null }>(
          'SELECT max(version) AS v FROM policies WHERE tenant_id = $1',
          [tenantId],
        );
        const version = (cur[0]?.v ?? 1) + 1;
        const label = `${change.name}@${version}`;
        const rows = await tx.query(
          `INSERT INTO policies (tenant_id, version, label, document, sha256, created_at, created_by)
           VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING *`,
          [
            tenantId,
            version,
            label,
            JSON.stringify(change.document),
            change.sha256,
            new Date().toISOString(),
            actor,
          ],
        );
        await appendAudit(tx, {
          tenantId,
          actorKeyId: actor,
          kind: 'policy.changed',
          subjectId: label,
          payload: { label, version, sha256: change.sha256, document: change.document },
        });
        return toStored(rows[0]!);
      }),
  };
}
