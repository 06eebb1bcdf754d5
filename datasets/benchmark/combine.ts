/**
 * Combined perturbations: real resubmissions are often re-keyed, re-dated and re-totalled at
 * once, so a share of the single-change duplicates (`deriveDuplicate`) receives one or two
 * further changes of other kinds. The extra draws come from their own random stream (keyed by
 * the original's id), so the rest of the benchmark (base invoices, other derived invoices,
 * coding labels) is the same as without combinations.
 *
 * Rates (documented in `datasets/benchmark/README.md`): {@link COMBINED_SHARE} of the
 * duplicates of the kinds in {@link COMBINABLE_KINDS} get extra changes; of those, 60% get one
 * and 40% two, drawn without replacement from {@link EXTRA_CHANGES} minus the base kind's own.
 * The label keeps the base kind and lists the extras in `duplicate.combined`
 * (e.g. `["date_shifted", "retotalled"]`); every change is in `duplicate.changes`.
 */
import { addDays, dayNumber, type Rng } from '../synth.js';
import type { Draft } from './invoices.js';
import { drawNumberEdits, formatNumberEdit } from './number-edits.js';
import type { DuplicateKind } from './types.js';

/** Share of the combinable duplicates that receive extra changes. */
export const COMBINED_SHARE = 0.4;

/** Duplicate kinds that may receive extra changes (those that copy the original whole). */
export const COMBINABLE_KINDS: readonly DuplicateKind[] = [
  'exact_resubmission',
  'rekeyed_number',
  'date_shifted',
  'vendor_variant',
  'amount_rounding_or_tax',
];

/**
 * The extra changes: `rekeyed_number` (1-2 number edits), `date_shifted` (invoice and due
 * date by 1-10 days either way), `retotalled` (total changed by 1-99 cents either way, or
 * rounded to whole dollars; the lines are left as they were), `vendor_variant` (an alternate
 * vendor-master id or a name variant).
 */
export const EXTRA_CHANGES = ['rekeyed_number', 'date_shifted', 'retotalled', 'vendor_variant'] as const;
export type ExtraChange = (typeof EXTRA_CHANGES)[number];

/** The extra change a base kind already is (not drawn again for it). */
const OWN: Partial<Record<DuplicateKind, ExtraChange>> = {
  rekeyed_number: 'rekeyed_number',
  date_shifted: 'date_shifted',
  amount_rounding_or_tax: 'retotalled',
  vendor_variant: 'vendor_variant',
};

function signed(n: number): string {
  return n >= 0 ? `+${n}` : String(n);
}

/** Applies one extra change to `d` (a duplicate draft), appending to `changes`. */
function applyExtra(x: ExtraChange, d: Draft, rng: Rng, window: { start: number }, changes: string[]): void {
  const inv = d.invoice;
  switch (x) {
    case 'rekeyed_number': {
      const { edits, result } = drawNumberEdits(inv.invoice_number, rng);
      inv.invoice_number = result;
      changes.push(...edits.map(formatNumberEdit));
      break;
    }
    case 'date_shifted': {
      let shift = rng.int(1, 10) * (rng.chance(0.5) ? 1 : -1);
      if (dayNumber(inv.invoice_date) + shift < window.start) shift = -shift;
      inv.invoice_date = addDays(inv.invoice_date, shift);
      changes.push(`invoice_date:${signed(shift)}d`);
      if (inv.due_date) {
        inv.due_date = addDays(inv.due_date, shift);
        changes.push(`due_date:${signed(shift)}d`);
      }
      break;
    }
    case 'retotalled': {
      const before = inv.total_cents;
      if (before % 100 !== 0 && rng.chance(0.3)) {
        inv.total_cents = Math.round(before / 100) * 100;
        changes.push(`total_cents:rounded:${before}>${inv.total_cents}`);
      } else {
        const delta = rng.int(1, 99) * (rng.chance(0.5) ? 1 : -1);
        inv.total_cents = before + delta > 0 ? before + delta : before - delta;
        changes.push(`total_cents:${before}>${inv.total_cents}`);
      }
      break;
    }
    case 'vendor_variant': {
      const v = d.vendor.v;
      if (v.alt_ids.length > 0 && rng.chance(0.5)) {
        const alt = rng.pick(v.alt_ids.filter((id) => id !== inv.vendor.id).concat(v.id));
        if (alt !== inv.vendor.id) {
          changes.push(`vendor.id:${JSON.stringify(inv.vendor.id)}>${JSON.stringify(alt)}`);
          inv.vendor.id = alt;
          break;
        }
      }
      const name = rng.pick(v.name_variants);
      if (name !== inv.vendor.name) {
        changes.push(`vendor.name:${JSON.stringify(inv.vendor.name)}>${JSON.stringify(name)}`);
        inv.vendor.name = name;
      }
      break;
    }
  }
}

/**
 * Gives a share of duplicates extra changes of other kinds (see the module doc). Mutates `d`
 * and its `changes`; returns the extras applied, sorted (empty when none: the duplicate stays
 * a single change).
 * @param rng the combination stream of this duplicate (not the split's main stream).
 */
export function combinePerturbations(
  kind: DuplicateKind,
  d: Draft,
  changes: string[],
  rng: Rng,
  window: { start: number },
): ExtraChange[] {
  if (!COMBINABLE_KINDS.includes(kind) || !rng.chance(COMBINED_SHARE)) return [];
  const pool = EXTRA_CHANGES.filter((x) => x !== OWN[kind]);
  const picked = rng.shuffle(pool).slice(0, rng.chance(0.6) ? 1 : 2);
  const applied: ExtraChange[] = [];
  for (const x of picked) {
    const before = changes.length;
    applyExtra(x, d, rng, window, changes);
    if (changes.length > before) applied.push(x);
  }
  return applied.sort();
}

/**
 * The combination label of a duplicate: the sorted set of changes it carries, its kind's own
 * (none for `exact_resubmission`) and its extras, e.g. `date_shifted+rekeyed_number+retotalled`;
 * null when it carries fewer than two (a single-change duplicate).
 */
export function combinationOf(kind: string, combined: readonly string[] | undefined): string | null {
  if (!combined || combined.length === 0) return null;
  const set = new Set(combined);
  if (kind !== 'exact_resubmission') set.add(kind);
  return set.size >= 2 ? [...set].sort().join('+') : null;
}
