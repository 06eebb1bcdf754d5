/**
 * Reads the review console needs beyond the decision itself: the invoice a decision was made
 * for (header and lines, as submitted) and the decision's history in the audit log.
 */
import type { Invoice } from '../core/invoice.js';
import { listAudit, type AuditRow } from './audit.js';
import type { SqlExecutor } from './sql.js';

/** Console reads of one store. */
export interface ConsoleStore {
  /** The invoice a decision of the tenant was made for, or null (unknown id, other tenant). */
  invoiceOf(tenantId: string, decisionId: string): Promise<Invoice | null>;
  /**
   * Audit entries about a decision and the reviews of it (scored, reviewed, and any later
   * status an area audits with the decision or a review as subject), in chain order; null
   * when the tenant has no such decision.
   */
  historyOf(tenantId: string, decisionId: string): Promise<AuditRow[] | null>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Entries a history returns at most (a decision gathers a handful). */
const HISTORY_LIMIT = 1000;

/** The console store over an opened, migrated database. */
export function createConsoleStore(db: SqlExecutor): ConsoleStore {
  return {
    async invoiceOf(tenantId, decisionId) {
      if (!UUID.test(decisionId)) return null;
      const rows = await db.query<{ payload: Invoice }>(
        `SELECT i.payload FROM decisions d JOIN invoices i ON i.pk = d.invoice_pk
         WHERE d.id = $1 AND d.tenant_id = $2`,
        [decisionId, tenantId],
      );
      return rows[0]?.payload ?? null;
    },
    async historyOf(tenantId, decisionId) {
      if (!UUID.test(decisionId)) return null;
      const found = await db.query('SELECT 1 FROM decisions WHERE id = $1 AND tenant_id = $2', [
        decisionId,
        tenantId,
      ]);
      if (found.length === 0) return null;
      const reviews = await db.query<{ id: string }>(
        'SELECT id::text AS id FROM reviews WHERE decision_id = $1 AND tenant_id = $2',
        [decisionId, tenantId],
      );
      return listAudit(db, tenantId, {
        subjectIds: [decisionId, ...reviews.map((r) => r.id)],
        limit: HISTORY_LIMIT,
      });
    },
  };
}
