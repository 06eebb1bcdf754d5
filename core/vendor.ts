/**
 * Vendor master profile, kept per tenant by admins (`PUT /v1/vendors/:vendor_id`): the
 * vendor's category (used by routing-policy overrides) and the service categories it is
 * approved to bill. A line billed outside the approved categories gets the reason
 * `CODE_OUTSIDE_VENDOR_PROFILE`, and suggested codes are restricted to the approved
 * categories.
 *
 * Categories are either CMS BETOS codes (`D1E` = DME, `D1C` = oxygen and supplies, ...; the
 * `betos` field of the HCPCS Level II file) or HCPCS sections given as code prefixes (`E` =
 * durable medical equipment, `A4` = medical and surgical supplies, `L` = orthotics and
 * prosthetics, `J` = drugs administered other than oral method, ...). A code is approved when
 * its BETOS code is listed or it starts with a listed prefix.
 */
import Type, { type Static } from 'typebox';

/** Body of `PUT /v1/vendors/:vendor_id`. */
export const VendorProfileInput = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Vendor master name.' })),
    category: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9][a-z0-9_-]{0,63}$',
        description: 'Vendor category used by policy overrides, e.g. dme, lab, pharmacy.',
      }),
    ),
    approved_betos: Type.Array(Type.String({ pattern: '^[A-Z0-9]{2,3}$' }), {
      maxItems: 200,
      uniqueItems: true,
      description: 'BETOS codes the vendor may bill, e.g. D1E (DME).',
    }),
    approved_hcpcs_prefixes: Type.Array(Type.String({ pattern: '^[A-Z][0-9A-Z]{0,4}$' }), {
      maxItems: 200,
      uniqueItems: true,
      description: 'HCPCS sections as code prefixes the vendor may bill, e.g. E, A4, L.',
    }),
  },
  { additionalProperties: false },
);
export type VendorProfileInput = Static<typeof VendorProfileInput>;

/** A stored vendor profile. */
export const VendorProfile = Type.Object({
  vendor_id: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  category: Type.Union([Type.String(), Type.Null()]),
  approved_betos: Type.Array(Type.String()),
  approved_hcpcs_prefixes: Type.Array(Type.String()),
  version: Type.Integer({ minimum: 1, description: 'Incremented on every change.' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type VendorProfile = Static<typeof VendorProfile>;

/**
 * True when a code falls inside the vendor's approved categories. A profile that lists no
 * category at all approves nothing (an explicit "no coded services" vendor).
 * @param code upper-case HCPCS code; @param betos its BETOS code ('' when CMS gives none).
 */
export function codeApproved(
  profile: Pick<VendorProfile, 'approved_betos' | 'approved_hcpcs_prefixes'>,
  code: string,
  betos: string,
): boolean {
  return (
    (betos !== '' && profile.approved_betos.includes(betos)) ||
    profile.approved_hcpcs_prefixes.some((p) => code.startsWith(p))
  );
}
