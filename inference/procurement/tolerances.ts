/**
 * Procurement tolerances per tenant: the optional `procurement` section of a policy document
 * (`PUT /v1/policy`, versioned and audited as `policy.changed` like every policy change). A
 * variance is an exception when it exceeds the larger of the absolute and the percent
 * tolerance (`max(abs, percent x expected / 100)`).
 *
 * Defaults (no `procurement` section): unit price vs PO and vs contract 5 cents or 0.5 % per unit
 * (a net-to-net tolerance of a few cents on cheap items), quantity vs received-minus-invoiced 0 base units or 0 %; the invoice is held
 * in the `procurement` queue on any exception (`hold: true`); lines match PO lines at the line
 * matcher's card threshold (else 0.5); a cited PO missing from the ERP data is `PO_UNKNOWN` only
 * when the invoice's vendor has POs loaded (`unknown_po: 'vendor'`), so a tenant that syncs some
 * vendors' POs does not hold the others' invoices.
 */
import Type, { type Static } from 'typebox';

const Tolerance = (what: string) =>
  Type.Object(
    {
      abs: Type.Number({ minimum: 0, maximum: 10_000_000, description: `Absolute tolerance, ${what}.` }),
      percent: Type.Number({ minimum: 0, maximum: 100, description: 'Percent of the expected value.' }),
    },
    { additionalProperties: false },
  );

/** The `procurement` section of a policy document. */
export const ProcurementPolicy = Type.Object(
  {
    hold: Type.Optional(
      Type.Boolean({
        description: 'Hold the payment on a procurement exception (true, default) or only send it to review.',
      }),
    ),
    match_threshold: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: 'P(same item) at which an invoice line matches a PO line.',
      }),
    ),
    unknown_po: Type.Optional(
      Type.Union([Type.Literal('vendor'), Type.Literal('tenant')], {
        description:
          "When a cited PO is not in the ERP data: 'vendor' (default) raises PO_UNKNOWN only when the " +
          "invoice's vendor has POs loaded (vendors not synced keep the non-PO path); 'tenant' raises it " +
          'whenever the tenant has any PO loaded.',
      }),
    ),
    price_po: Type.Optional(Tolerance('cents per unit')),
    price_contract: Type.Optional(Tolerance('cents per unit')),
    quantity: Type.Optional(Tolerance('base units (each)')),
  },
  { additionalProperties: false },
);
export type ProcurementPolicy = Static<typeof ProcurementPolicy>;

/** One tolerance: absolute (cents per unit or base units) and percent of the expected value. */
export interface Tolerance {
  abs: number;
  percent: number;
}

/** Tolerances in effect (defaults filled in). */
export interface ProcurementTolerances {
  hold: boolean;
  /** Undefined: the matcher's card threshold. */
  matchThreshold?: number;
  /** Scope of `PO_UNKNOWN`: the invoice's vendor has POs loaded ('vendor') or the tenant has any ('tenant'). */
  unknownPo: 'vendor' | 'tenant';
  pricePo: Tolerance;
  priceContract: Tolerance;
  quantity: Tolerance;
}

/** The documented defaults (see the module doc). */
export const DEFAULT_PROCUREMENT_TOLERANCES: ProcurementTolerances = {
  hold: true,
  unknownPo: 'vendor',
  pricePo: { abs: 5, percent: 0.5 },
  priceContract: { abs: 5, percent: 0.5 },
  quantity: { abs: 0, percent: 0 },
};

/** The tolerances of a policy section (defaults for what it leaves out). */
export function procurementTolerances(p: ProcurementPolicy | undefined): ProcurementTolerances {
  const d = DEFAULT_PROCUREMENT_TOLERANCES;
  return {
    hold: p?.hold ?? d.hold,
    ...(p?.match_threshold !== undefined ? { matchThreshold: p.match_threshold } : {}),
    unknownPo: p?.unknown_po ?? d.unknownPo,
    pricePo: p?.price_po ?? d.pricePo,
    priceContract: p?.price_contract ?? d.priceContract,
    quantity: p?.quantity ?? d.quantity,
  };
}

/** True when `actual` exceeds `expected` by more than the tolerance. */
export function exceeds(actual: number, expected: number, t: Tolerance): boolean {
  return actual - expected > Math.max(t.abs, (Math.abs(expected) * t.percent) / 100) + 1e-9;
}
