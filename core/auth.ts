/**
 * Roles and principals. Every API key belongs to one tenant and carries one or more roles;
 * every route declares the roles it admits.
 *
 * | role             | may                                                        |
 * | ---------------- | ---------------------------------------------------------- |
 * | `workflow`       | score invoices, submit batches, read decisions it scored   |
 * | `reviewer`       | read the worklist, post reviews, read decisions            |
 * | `data-scientist` | models, training, promotion                                |
 * | `auditor`        | read decisions, the audit log and its verification         |
 * | `admin`          | API keys, routing policy, vendor profiles                  |
 * | `erp`            | load ERP reference data (POs, receipts, contracts), post ERP status callbacks |
 */
import Type, { type Static } from 'typebox';

/** Every role, in the order the docs list them. */
export const ROLES = ['workflow', 'reviewer', 'data-scientist', 'auditor', 'admin', 'erp'] as const;

/** A role (TypeBox schema). */
export const Role = Type.Enum(ROLES, {
  description: 'workflow | reviewer | data-scientist | auditor | admin | erp',
});
/** A role. */
export type Role = (typeof ROLES)[number];

/** True when `x` names a role. */
export function isRole(x: unknown): x is Role {
  return typeof x === 'string' && (ROLES as readonly string[]).includes(x);
}

/** The authenticated caller of a request: the key's id (never the key), tenant and roles. */
export interface Principal {
  keyId: string;
  tenantId: string;
  roles: readonly Role[];
}

/**
 * The tenant of the bootstrap keys of a new installation, and by default the operator tenant
 * whose keys may change the shared models (`MODEL_OPERATOR_TENANT`).
 */
export const DEFAULT_TENANT = 'default';

/** Tenant ids: 1-64 characters of letters, digits, `.`, `_`, `-`. */
export const TenantId = Type.String({
  pattern: '^[A-Za-z0-9._-]{1,64}$',
  description: 'Tenant id: 1-64 letters, digits, ".", "_" or "-".',
});
export type TenantId = Static<typeof TenantId>;
