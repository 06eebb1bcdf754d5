/**
 * Procurement tolerances per tenant: the optional `procurement` section of a policy document
 * (`PUT /v1/policy`, versioned and audited as `policy.changed` like every policy change).
 *
 * Price checks (unit price vs PO, vs contract) have two tolerances, as accounts payable applies
 * them: a **line** tolerance on the extended variance (billed line amount minus quantity x
 * expected unit price, in cents: the net-to-net tolerance for rounding) and a **unit**
 * tolerance (the larger of `abs` cents and `percent` % of the expected unit price). A price is
 * an exception only when it exceeds both: a few cents of rounding on a line pass whatever the
 * percent, and a variance within the percent per unit passes whatever the line total
 * ({@link priceExceeds}). The quantity check has one tolerance: the larger of `abs` base units
 * and `percent` % of the available quantity ({@link exceeds}).
 *
 * Defaults (no `procurement` section, or a check the section leaves out): price vs PO and vs
 * contract 5 cents per line and 0.5 % per unit (`abs` 0 cents per unit), so 84 cents billed
 * per each against 79 (+6.3 %) is an exception while 1 288 against 1 285 (+0.23 %) is not;
 * quantity vs received-minus-invoiced 0 base units or 0 %; the invoice is held in the
 * `procurement` queue on any exception (`hold: true`); lines match PO lines at the line
 * matcher's card threshold (else 0.5); a cited PO missing from the ERP data is `PO_UNKNOWN`
 * only when the invoice's vendor has POs loaded (`unknown_po: 'vendor'`), so a tenant that
 * syncs some vendors' POs does not hold the others' invoices. A price tolerance stored without
 * `line_cents` (written before it existed) keeps its unit tolerance and gets the default line
 * tolerance.
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

const PriceToleranceSchema = Type.Object(
  {
    abs: Type.Integer({
      minimum: 0,
      maximum: 10_000_000,
      description: 'Unit tolerance, whole cents per unit (the larger of this and `percent` applies).',
    }),
    percent: Type.Number({
      minimum: 0,
      maximum: 100,
      description: 'Unit tolerance, percent of the expected unit price.',
    }),
    line_cents: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 10_000_000,
        description:
          'Line tolerance, cents on the extended variance (billed amount minus quantity x expected unit price); ' +
          'default 5. A price is an exception only beyond both the unit and the line tolerance.',
      }),
    ),
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
    price_po: Type.Optional(PriceToleranceSchema),
    price_contract: Type.Optional(PriceToleranceSchema),
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

/** A price tolerance: per unit (the larger of `abs` cents and `percent` %) and per line (`lineCents`). */
export interface PriceTolerance extends Tolerance {
  /** Cents on the extended line variance (net-to-net). */
  lineCents: number;
}

/** Tolerances in effect (defaults filled in). */
export interface ProcurementTolerances {
  hold: boolean;
  /** Undefined: the matcher's card threshold. */
  matchThreshold?: number;
  /** Scope of `PO_UNKNOWN`: the invoice's vendor has POs loaded ('vendor') or the tenant has any ('tenant'). */
  unknownPo: 'vendor' | 'tenant';
  pricePo: PriceTolerance;
  priceContract: PriceTolerance;
  quantity: Tolerance;
}

/** The documented defaults (see the module doc). */
export const DEFAULT_PROCUREMENT_TOLERANCES: ProcurementTolerances = {
  hold: true,
  unknownPo: 'vendor',
  pricePo: { abs: 0, percent: 0.5, lineCents: 5 },
  priceContract: { abs: 0, percent: 0.5, lineCents: 5 },
  quantity: { abs: 0, percent: 0 },
};

/** The tolerances of a policy section (defaults for what it leaves out). */
export function procurementTolerances(p: ProcurementPolicy | undefined): ProcurementTolerances {
  const d = DEFAULT_PROCUREMENT_TOLERANCES;
  return {
    hold: p?.hold ?? d.hold,
    ...(p?.match_threshold !== undefined ? { matchThreshold: p.match_threshold } : {}),
    unknownPo: p?.unknown_po ?? d.unknownPo,
    pricePo: priceTolerance(p?.price_po, d.pricePo),
    priceContract: priceTolerance(p?.price_contract, d.priceContract),
    quantity: p?.quantity ?? d.quantity,
  };
}

function priceTolerance(
  t: Static<typeof PriceToleranceSchema> | undefined,
  d: PriceTolerance,
): PriceTolerance {
  return t ? { abs: t.abs, percent: t.percent, lineCents: t.line_cents ?? d.lineCents } : d;
}

/** True when `actual` exceeds `expected` by more than the tolerance. */
export function exceeds(actual: number, expected: number, t: Tolerance): boolean {
  return actual - expected > Math.max(t.abs, (Math.abs(expected) * t.percent) / 100) + 1e-9;
}

/** A billed price against the expected one, per unit and on the line (cents). */
export interface PriceVariance {
  /** Billed minus expected unit price, cents per billed unit. */
  perUnitCents: number;
  /** Billed line amount minus quantity x expected unit price, cents (signed by the quantity). */
  lineCents: number;
}

/**
 * The variance of a billed line against an expected unit price in the billed unit.
 * @param line - quantity, unit price and extended amount as billed (cents).
 * @param expectedUnitCents - the PO or contract price converted to the billed unit.
 */
export function priceVariance(
  line: { quantity: number; unit_price_cents: number; amount_cents: number },
  expectedUnitCents: number,
): PriceVariance {
  return {
    perUnitCents: line.unit_price_cents - expectedUnitCents,
    lineCents: Math.sign(line.quantity) * (line.amount_cents - line.quantity * expectedUnitCents),
  };
}

/**
 * True when a billed price exceeds both the unit and the line tolerance (see the module doc).
 * @param billedUnitCents - billed unit price, cents, in the unit `expectedUnitCents` is in.
 * @param expectedUnitCents - PO or contract unit price, cents.
 * @param lineVarianceCents - {@link PriceVariance.lineCents} of the line.
 */
export function priceExceeds(
  billedUnitCents: number,
  expectedUnitCents: number,
  lineVarianceCents: number,
  t: PriceTolerance,
): boolean {
  return exceeds(billedUnitCents, expectedUnitCents, t) && lineVarianceCents > t.lineCents + 1e-9;
}
