/**
 * Vendor master profiles of the tenant: `PUT /v1/vendors/:vendor_id` (admin, audited) and
 * `GET /v1/vendors/:vendor_id` (admin, reviewer, auditor). The profile's category drives
 * policy overrides; its approved categories drive `CODE_OUTSIDE_VENDOR_PROFILE` and restrict
 * suggested codes.
 */
import Type from 'typebox';
import { VendorProfile, VendorProfileInput } from '../../core/vendor.js';
import { VendorId } from '../../core/invoice.js';
import { TriageError } from '../../core/errors.js';
import { blankTextErrors, reorderingErrors, vendorIdErrors } from '../../core/validate.js';
import { principalOf } from '../auth.js';
import { problemResponses, PROTECTED, WITH_BODY, type RoutePlugin } from './common.js';
import type { ApiStore } from '../app.js';
import type { ScoringService } from '../../inference/pipeline.js';

const VendorParam = Type.Object({ vendor_id: VendorId });

/** Refuses a vendor id that no invoice could carry (400 naming `/params/vendor_id`). */
function checkVendorId(id: string): void {
  const errors = vendorIdErrors('/params/vendor_id', id);
  if (errors.length > 0) throw new TriageError('TRIAGE_REQUEST_INVALID', 'vendor id is not valid', errors);
}

/** What the vendor profiles routes use. */
export interface VendorRoutesOptions {
  scoring: Pick<ScoringService, 'unknownVendorCategories'>;
  store: Pick<ApiStore, 'vendors'>;
}

/** Registers the vendor profiles routes. */
export const vendorRoutes: RoutePlugin<VendorRoutesOptions> = async (app, deps) => {
  app.put(
    '/v1/vendors/:vendor_id',
    {
      config: { roles: ['admin'] },
      schema: {
        operationId: 'putVendorProfile',
        summary: 'Create or replace a vendor profile (audited): category and approved service categories',
        params: VendorParam,
        body: VendorProfileInput,
        response: { 200: VendorProfile, 201: VendorProfile, ...problemResponses(PROTECTED, WITH_BODY) },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      checkVendorId(req.params.vendor_id);
      const blank = blankTextErrors('/name', req.body.name);
      if (blank.length > 0)
        throw new TriageError('TRIAGE_INPUT_INVALID', 'vendor profile name is blank', blank);
      const reordered = reorderingErrors(req.body.name, '/name');
      if (reordered.length > 0)
        throw new TriageError(
          'TRIAGE_INPUT_INVALID',
          'vendor profile name would be shown reordered',
          reordered,
        );
      const unknown = deps.scoring.unknownVendorCategories(req.body);
      if (unknown.length > 0)
        throw new TriageError(
          'TRIAGE_INPUT_INVALID',
          `vendor profile names categories the HCPCS reference does not have: ${unknown.map((e) => e.path).join(', ')}`,
          unknown,
        );
      const out = await deps.store.vendors.put(p.tenantId, req.params.vendor_id, req.body, p.keyId);
      void reply.status(out.created ? 201 : 200);
      return out.profile;
    },
  );
  app.get(
    '/v1/vendors/:vendor_id',
    {
      config: { roles: ['admin', 'reviewer', 'auditor'] },
      schema: {
        operationId: 'getVendorProfile',
        summary: 'Read a vendor profile',
        params: VendorParam,
        response: { 200: VendorProfile, ...problemResponses(PROTECTED, 404) },
      },
    },
    async (req) => {
      checkVendorId(req.params.vendor_id);
      const profile = await deps.store.vendors.get(principalOf(req).tenantId, req.params.vendor_id);
      if (!profile)
        throw new TriageError('TRIAGE_VENDOR_NOT_FOUND', `no profile for vendor ${req.params.vendor_id}`);
      return profile;
    },
  );
};
