/**
 * The PO match in a decision response (`procurement`, inference/stages/procurement.ts): which
 * PO, how it was chosen, each line's match and the cents at risk.
 */
import Type from 'typebox';

/** A line's expected values from the PO, contract or receipt (suggested; never applied). */
const SuggestedLine = Type.Object({
  quantity: Type.Number(),
  uom: Type.String(),
  unit_price_cents: Type.Integer(),
  amount_cents: Type.Integer(),
  text: Type.String({ description: 'e.g. "bill 10 EA at 412 cents, not 10 BX at 41200 cents".' }),
  basis: Type.Union([Type.Literal('po'), Type.Literal('contract'), Type.Literal('receipt')]),
});

/** The PO match of a PO-backed invoice (inference/stages/procurement.ts); absent without ERP data. */
export const ProcurementMatch = Type.Object({
  po_number: Type.String(),
  chosen_by: Type.Union([Type.Literal('cited'), Type.Literal('only_open_po'), Type.Literal('matcher')], {
    description:
      "cited: the invoice's po_number; only_open_po: the vendor's one open PO; matcher: the vendor's open PO whose lines the invoice's lines matched clearly best.",
  }),
  matcher_version: Type.String(),
  all_lines_matched: Type.Boolean({ description: 'Every line matched a PO line within tolerance.' }),
  amount_at_risk_cents: Type.Integer({
    description: 'Cents at risk over the lines: overbilled, unreceived (NO_RECEIPT) or not on the PO.',
  }),
  lines: Type.Array(
    Type.Object({
      line_number: Type.Integer(),
      po_line_numbers: Type.Array(Type.Integer()),
      match_score: Type.Number({ minimum: 0, maximum: 1 }),
      conversion: Type.Union([Type.String(), Type.Null()]),
      reason_codes: Type.Array(Type.String()),
      suggested: Type.Union([SuggestedLine, Type.Null()]),
      amount_at_risk_cents: Type.Integer(),
    }),
  ),
});
