/**
 * Audit log (auditor): `GET /v1/audit/verify` recomputes the tenant's hash chain and names the
 * first bad sequence number; `GET /v1/audit` pages through the entries.
 */
import Type, { type Static } from 'typebox';
import type { AuditRow } from '../../store/audit.js';
import { principalOf } from '../auth.js';
import { problemResponses, PROTECTED, type RoutePlugin } from './common.js';
import type { ApiStore } from '../app.js';

/** Result of a verification. */
export const AuditVerificationResponse = Type.Object({
  tenant_id: Type.String(),
  ok: Type.Boolean(),
  rows_checked: Type.Integer(),
  head: Type.Object({ seq: Type.Integer(), hash: Type.String() }),
  first_bad_seq: Type.Union([Type.Integer(), Type.Null()]),
  problem: Type.Union([Type.String(), Type.Null()], {
    description: 'altered, payload_altered, gap (deleted row), broken_link, truncated, head_mismatch',
  }),
});

/** One audit entry. */
export const AuditEntryResponse = Type.Object({
  seq: Type.Integer(),
  ts: Type.String({ format: 'date-time' }),
  actor_key_id: Type.Union([Type.String(), Type.Null()]),
  kind: Type.String(),
  subject_id: Type.String(),
  payload: Type.Unknown({ description: 'The audited facts (canonical JSON; no invoice text).' }),
  payload_sha256: Type.String(),
  prev_hash: Type.String(),
  hash: Type.String(),
});

/** An audit row as the API returns it (payload parsed). */
export function auditEntryOf(r: AuditRow): Static<typeof AuditEntryResponse> {
  return {
    seq: r.seq,
    ts: r.ts,
    actor_key_id: r.actorKeyId,
    kind: r.kind,
    subject_id: r.subjectId,
    payload: JSON.parse(r.payload) as unknown,
    payload_sha256: r.payloadSha256,
    prev_hash: r.prevHash,
    hash: r.hash,
  };
}

/** What the audit routes use: the audit log reads, verification and export (api/routes/audit-export.ts). */
export interface AuditRoutesOptions {
  store: Pick<ApiStore, 'audit'>;
}

/** Registers the audit log reads and verification routes. */
export const auditRoutes: RoutePlugin<AuditRoutesOptions> = async (app, deps) => {
  app.get(
    '/v1/audit/verify',
    {
      config: { roles: ['auditor'] },
      schema: {
        operationId: 'verifyAuditChain',
        summary: "Verify the tenant's hash-chained audit log",
        description:
          'hash = sha256(prev_hash || canonical row); reports the first altered, deleted (gap) or missing ' +
          '(truncated) entry. Record head.hash elsewhere to detect a rewrite of the whole chain.',
        response: { 200: AuditVerificationResponse, ...problemResponses(PROTECTED) },
      },
    },
    async (req) => {
      const v = await deps.store.audit.verify(principalOf(req).tenantId);
      return {
        tenant_id: v.tenantId,
        ok: v.ok,
        rows_checked: v.rowsChecked,
        head: v.head,
        first_bad_seq: v.firstBadSeq,
        problem: v.problem,
      };
    },
  );
  app.get(
    '/v1/audit',
    {
      config: { roles: ['auditor'] },
      schema: {
        operationId: 'listAuditEntries',
        summary: "Entries of the tenant's audit log in sequence order",
        querystring: Type.Object(
          {
            after_seq: Type.Optional(
              // Bounded: beyond 2^53 - 1 the number is not exact, beyond 2^63 - 1 not a bigint.
              Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 }),
            ),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            subject_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(AuditEntryResponse),
            next_after_seq: Type.Union([Type.Integer(), Type.Null()]),
          }),
          ...problemResponses(PROTECTED),
        },
      },
    },
    async (req) => {
      const limit = req.query.limit ?? 100;
      const rows = await deps.store.audit.list(principalOf(req).tenantId, {
        afterSeq: req.query.after_seq ?? 0,
        limit,
        ...(req.query.subject_id ? { subjectId: req.query.subject_id } : {}),
      });
      return {
        items: rows.map(auditEntryOf),
        next_after_seq: rows.length === limit ? rows[rows.length - 1]!.seq : null,
      };
    },
  );
};
