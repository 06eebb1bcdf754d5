/**
 * API keys. A key is `itk_` + 43 base64url characters (32 random bytes, 256 bits); only its
 * sha256 is stored, with the first 12 characters (`prefix`) for people to recognise it. The
 * plain key is returned once, when it is created. Every create and revoke is audited in the
 * same transaction.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { sha256Hex } from '../core/canonical.js';
import type { Principal, Role } from '../core/auth.js';
import { TriageError } from '../core/errors.js';
import { appendAudit } from './audit.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';
import { lockForTransaction, lockKey } from './locks.js';

/** A stored key, without its secret. Dates ISO 8601. */
export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  roles: Role[];
  /** First 12 characters of the key, e.g. `itk_3fA9x0Qe`. */
  prefix: string;
  createdAt: string;
  createdBy: string | null;
  revokedAt: string | null;
}

/** A freshly created key: the record and the plain key (shown once, never stored). */
export interface CreatedApiKey {
  record: ApiKeyRecord;
  key: string;
}

/** What a new key is for. */
export interface NewApiKey {
  tenantId: string;
  name: string;
  roles: readonly Role[];
}

/** Length of the shown prefix. */
export const KEY_PREFIX_LENGTH = 12;

/** sha256 hex of a plain key. */
export function hashApiKey(key: string): string {
  return sha256Hex(key);
}

/** A new random key: `itk_` + base64url of 32 random bytes. */
export function generateApiKey(): string {
  return `itk_${randomBytes(32).toString('base64url')}`;
}

const COLUMNS = `id::text AS id, tenant_id, name, roles, prefix, created_at, created_by, revoked_at`;

const iso = (v: unknown): string | null =>
  v === null || v === undefined
    ? null
    : v instanceof Date
      ? v.toISOString()
      : new Date(String(v)).toISOString();

function toRecord(r: Record<string, unknown>): ApiKeyRecord {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    name: String(r.name),
    roles: r.roles as Role[],
    prefix: String(r.prefix),
    createdAt: iso(r.created_at)!,
    createdBy: (r.created_by as string | null) ?? null,
    revokedAt: iso(r.revoked_at),
  };
}

/** Inserts a key and its audit row inside `tx`. */
export async function insertApiKey(
  tx: SqlExecutor,
  spec: NewApiKey,
  actorKeyId: string | null,
): Promise<CreatedApiKey> {
  const key = generateApiKey();
  const id = randomUUID();
  const roles = [...new Set(spec.roles)];
  const rows = await tx.query(
    `INSERT INTO api_keys (id, tenant_id, name, roles, prefix, key_sha256, created_at, created_by)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING ${COLUMNS}`,
    [
      id,
      spec.tenantId,
      spec.name,
      roles,
      key.slice(0, KEY_PREFIX_LENGTH),
      hashApiKey(key),
      new Date().toISOString(),
      actorKeyId,
    ],
  );
  const record = toRecord(rows[0]!);
  await appendAudit(tx, {
    tenantId: spec.tenantId,
    actorKeyId,
    kind: 'key.created',
    subjectId: id,
    payload: { key_id: id, name: spec.name, prefix: record.prefix, roles },
  });
  return { record, key };
}

/** Key operations over a database. */
export interface KeyStore {
  /**
   * Creates a key (audited as `key.created` in the key's tenant).
   * @returns the record and the plain key, which is not stored anywhere.
   */
  create(spec: NewApiKey, actorKeyId: string | null): Promise<CreatedApiKey>;
  /** Keys of a tenant (active and revoked), oldest first; never the secrets. */
  list(tenantId: string): Promise<ApiKeyRecord[]>;
  /** One key of a tenant, or null (also null for another tenant's key). */
  get(tenantId: string, keyId: string): Promise<ApiKeyRecord | null>;
  /**
   * Revokes a key of the tenant (audited as `key.revoked`); revoking a revoked key changes
   * nothing and returns it. @returns null when the tenant has no such key.
   * @throws TriageError `TRIAGE_KEY_LAST_ADMIN` (409) when the key is the tenant's last active
   *   admin key (nothing is revoked).
   */
  revoke(tenantId: string, keyId: string, actorKeyId: string | null): Promise<ApiKeyRecord | null>;
  /** The principal of an active key, or null for an unknown or revoked key. */
  authenticate(key: string): Promise<Principal | null>;
  /**
   * When no key exists at all, creates `specs` in one transaction (serialised by an advisory
   * lock so that replicas starting together create them once) and returns them; otherwise null.
   * `beforeCommit` runs inside the transaction with the new keys (e.g. to write them to a
   * file): if it throws, no key is created.
   */
  bootstrapIfEmpty(
    specs: readonly NewApiKey[],
    beforeCommit?: (keys: CreatedApiKey[]) => Promise<void>,
  ): Promise<CreatedApiKey[] | null>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The key store over an opened, migrated database. */
export function createKeyStore(db: SqlDatabase): KeyStore {
  const get = async (tenantId: string, keyId: string): Promise<ApiKeyRecord | null> => {
    if (!UUID.test(keyId)) return null;
    const rows = await db.query(`SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2`, [
      tenantId,
      keyId,
    ]);
    return rows[0] ? toRecord(rows[0]) : null;
  };
  return {
    create: (spec, actor) => db.transaction((tx) => insertApiKey(tx, spec, actor)),

    async list(tenantId) {
      const rows = await db.query(
        `SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id`,
        [tenantId],
      );
      return rows.map(toRecord);
    },

    get,

    async revoke(tenantId, keyId, actor) {
      if (!UUID.test(keyId)) return null;
      return db.transaction(async (tx) => {
        // The tenant's active admin keys, locked so that two admins revoking each other at once
        // cannot both pass the last-admin rule.
        const admins = await tx.query<{ id: string }>(
          `SELECT id::text AS id FROM api_keys
           WHERE tenant_id = $1 AND revoked_at IS NULL AND 'admin' = ANY(roles) ORDER BY id FOR UPDATE`,
          [tenantId],
        );
        if (admins.length === 1 && admins[0]!.id === keyId.toLowerCase())
          throw new TriageError(
            'TRIAGE_KEY_LAST_ADMIN',
            `key ${keyId} is the tenant's last active admin key; create another admin key before revoking it`,
            [{ path: '/id', message: "is the tenant's last active admin key" }],
          );
        const rows = await tx.query(
          `UPDATE api_keys SET revoked_at = $3, revoked_by = $4
           WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
          [tenantId, keyId, new Date().toISOString(), actor],
        );
        if (!rows[0]) {
          const existing = await tx.query(
            `SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2`,
            [tenantId, keyId],
          );
          return existing[0] ? toRecord(existing[0]) : null;
        }
        const rec = toRecord(rows[0]);
        await appendAudit(tx, {
          tenantId,
          actorKeyId: actor,
          kind: 'key.revoked',
          subjectId: keyId,
          payload: { key_id: keyId, prefix: rec.prefix, roles: rec.roles },
        });
        return rec;
      });
    },

    async authenticate(key) {
      if (key.length < 16 || key.length > 200) return null;
      const rows = await db.query<{ id: string; tenant_id: string; roles: Role[] }>(
        'SELECT id::text AS id, tenant_id, roles FROM api_keys WHERE key_sha256 = $1 AND revoked_at IS NULL',
        [hashApiKey(key)],
      );
      const r = rows[0];
      return r ? { keyId: r.id, tenantId: r.tenant_id, roles: r.roles } : null;
    },

    bootstrapIfEmpty: (specs, beforeCommit) =>
      db.transaction(async (tx) => {
        await lockForTransaction(tx, [lockKey('bootstrap-keys')]);
        const n = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys');
        if (n[0]!.n > 0) return null;
        const out: CreatedApiKey[] = [];
        for (const s of specs) out.push(await insertApiKey(tx, s, null));
        if (beforeCommit) await beforeCommit(out);
        return out;
      }),
  };
}
