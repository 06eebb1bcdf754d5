/**
 * How a benchmark vendor prints its invoice lines, applied to every invoice of the vendor as it
 * is written (every kind alike), from random streams of its own so the content drawn for every
 * kind stays the same as without it:
 *
 * - **Delivery reference** (`delivery_reference`): the vendor prints, per line, the packing-slip
 *   or delivery-note number of the shipment the line bills (UBL `cac:DespatchLineReference`, X12
 *   810 `REF*PK` in the IT1 loop), or never does. One delivery per invoice: its lines share one
 *   new number, except lines copied from an earlier invoice (a line-level duplicate bills the
 *   same delivery again) and whole re-submissions and credits of an earlier invoice, which keep
 *   the earlier invoice's numbers, as does a rebill after a credit (the credited delivery billed
 *   again). A re-order, a recurring month or a separate shipment is a new delivery and gets a
 *   new number.
 * - **Line service dates**: the vendor prints each line's service date, or prints none (the
 *   invoice date and service period stand for them) on all its invoices.
 *
 * Rates ({@link PRINT_FORMAT_RATES}) are assumptions of the benchmark, not measured shares:
 * despatch references are common on distributor invoices of shipped supplies and rare on
 * service bills, so about 60% of vendors print one; about a quarter print no line dates.
 */
import type { Invoice } from '../../core/invoice.js';
import { Rng } from '../synth.js';
import type { Draft } from './invoices.js';
import { subSeed } from './plan.js';

/** Share of vendors printing a delivery reference per line, and printing no line service dates. */
export const PRINT_FORMAT_RATES = { delivery_reference: 0.6, undated_lines: 0.25 } as const;

/** One vendor's line print format. */
export interface PrintFormat {
  deliveryReference: boolean;
  lineDates: boolean;
}

/**
 * The print formats of one benchmark's vendors and the delivery numbers they issue, keyed by
 * vendor id (each vendor its own streams, so the order vendors are met in changes nothing).
 */
export class PrintFormats {
  private readonly formats = new Map<string, { format: PrintFormat; numbers: Rng; next: number }>();

  constructor(private readonly seed: number) {}

  /** The vendor's format and its delivery-number stream. */
  private of(vendorId: string): { format: PrintFormat; numbers: Rng; next: number } {
    let f = this.formats.get(vendorId);
    if (!f) {
      const rng = new Rng(subSeed(this.seed, `print-format:${vendorId}`));
      f = {
        format: {
          deliveryReference: rng.chance(PRINT_FORMAT_RATES.delivery_reference),
          lineDates: !rng.chance(PRINT_FORMAT_RATES.undated_lines),
        },
        numbers: rng,
        next: rng.int(10_000, 899_999),
      };
      this.formats.set(vendorId, f);
    }
    return f;
  }

  /** The format of a vendor (by vendor-master id). */
  format(vendorId: string): PrintFormat {
    return this.of(vendorId).format;
  }

  /**
   * Prints a draft in its vendor's format. The draft's lines get their delivery numbers in place
   * (derived invoices copy them from it); the written copy drops them when the vendor prints
   * none, and drops line service dates when it prints no dates (the draft keeps its dates, so an
   * invoice derived for another vendor is printed in that vendor's format).
   * @returns the invoice to write and the label's duplicate with `lines:undated` added for a
   *   line-level duplicate of an undated vendor.
   */
  print(d: Draft): { invoice: Invoice; duplicate: Draft['duplicate'] } {
    const f = this.of(d.vendor.v.id);
    f.next += f.numbers.int(1, 40);
    const fresh = `DN${f.next}`;
    // Copies of an earlier invoice's lines keep its delivery; a new delivery gets a new number.
    const sameDelivery =
      d.duplicate !== null ||
      d.invoice.document_type === 'credit_memo' ||
      d.hardNegative?.kind === 'rebill_after_credit';
    d.invoice.lines.forEach((l, i) => {
      if (!(sameDelivery && l.delivery_reference)) l.delivery_reference = fresh;
      const clean = d.clean[i];
      if (clean) clean.delivery_reference = l.delivery_reference;
    });
    const invoice = structuredClone(d.invoice);
    for (const l of invoice.lines) {
      if (!f.format.deliveryReference) delete l.delivery_reference;
      if (!f.format.lineDates) delete l.service_date;
    }
    const undated = !f.format.lineDates && d.duplicate?.kind === 'line_level_duplicate';
    const duplicate = undated
      ? { ...d.duplicate!, changes: [...d.duplicate!.changes, 'lines:undated'] }
      : d.duplicate;
    return { invoice, duplicate };
  }
}
