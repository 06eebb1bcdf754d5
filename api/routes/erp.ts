/**
 * ERP reference data and status callbacks (role `erp`, audited): `POST /v1/erp/load` upserts
 * purchase orders, goods receipts and contracts (all or nothing; versioned, so re-sending a load
 * is harmless); `POST /v1/erp/callbacks` records that the ERP posted, rejected or paid a scored
 * invoice. See core/erp.ts for the records and store/erp.ts for the rules.
 */
import { ErpCallback, ErpCallbackResult, ErpLoad, ErpLoadResult } from '../../core/erp.js';
import { TriageError } from '../../core/errors.js';
import { displayTextErrors } from '../../core/validate.js';
import { principalOf } from '../auth.js';
import {
  errorCodeOf,
  rewordErrors,
  problemResponses,
  PROTECTED,
  WITH_BODY,
  nowOf,
  type ClockOption,
  type RoutePlugin,
} from './common.js';
import type { ApiStore } from '../app.js';

/** What the ERP routes use. */
export interface ErpRoutesOptions extends ClockOption {
  store: Pick<ApiStore, 'erp'>;
}

/** Registers the ERP routes. */
export const erpRoutes: RoutePlugin<ErpRoutesOptions> = async (app, deps) => {
  // The app's body limit (BODY_LIMIT_BYTES); a larger load goes through the CLI, which reads the file.
  const bodyLimit = app.initialConfig.bodyLimit ?? 1024 * 1024;
  app.post(
    '/v1/erp/load',
    {
      config: { roles: ['erp', 'admin'] },
      errorHandler: rewordErrors(
        (e) => errorCodeOf(e) === 'FST_ERR_CTP_BODY_TOO_LARGE',
        () =>
          new TriageError(
            'TRIAGE_PAYLOAD_TOO_LARGE',
            `an ERP load body is limited to ${bodyLimit} bytes (BODY_LIMIT_BYTES); send a larger load in several requests, or from a file with npm run cli -- erp load FILE --tenant T`,
            [{ path: '/', message: `is over ${bodyLimit} bytes` }],
          ),
      ),
      schema: {
        operationId: 'loadErpData',
        summary: 'Upsert purchase orders, goods receipts and contracts (all or nothing; audited)',
        description:
          'Each record carries the ERP version; an older version than the stored one is ignored (stale), the same ' +
          'version with the same content is unchanged, the same version with other content is a 409. A vendor ' +
          'without a profile, a receipt for a PO line that does not exist, a receipt dated after the day of the load ' +
          'plus one day, a receipt in another unit than its PO line without the pack_qty converting it, a pack_qty ' +
          'contradicting a fixed-count unit (DZ with 10) or a fractional quantity of a count unit (0.5 EA) is a 422 ' +
          'naming the record; nothing is stored.',
        body: ErpLoad,
        response: { 200: ErpLoadResult, ...problemResponses(PROTECTED, WITH_BODY, 409, 422) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return deps.store.erp.load(p.tenantId, req.body, p.keyId, nowOf(deps));
    },
  );
  app.post(
    '/v1/erp/callbacks',
    {
      config: { roles: ['erp'] },
      schema: {
        operationId: 'postErpCallback',
        summary: 'Record that the ERP posted, rejected or paid a scored invoice (idempotent; audited)',
        description:
          'posted and paid close the decision’s worklist item; rejected reopens it. A rejection whose reason_code ' +
          'is a reason the decision raised confirms that flag. A blank reason_code or reason_text is a 400.',
        body: ErpCallback,
        response: { 200: ErpCallbackResult, ...problemResponses(PROTECTED, WITH_BODY, 404, 409, 422) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const blank = [
        ...displayTextErrors('/reason_code', req.body.reason_code),
        ...displayTextErrors('/reason_text', req.body.reason_text),
      ];
      if (blank.length > 0)
        throw new TriageError(
          'TRIAGE_INPUT_INVALID',
          'the ERP reason is blank or would be shown reordered',
          blank,
        );
      return deps.store.erp.callback(p.tenantId, req.body, p.keyId, nowOf(deps));
    },
  );
};
