/**
 * Types of the reference data the scorers consult. The data themselves are loaded by
 * `datasets/` (from files shipped in `datasets/reference/`, with provenance) and passed in.
 */

/** One HCPCS Level II procedure code. Source: CMS HCPCS Level II January 2025 file. */
export interface HcpcsCode {
  /** 5-character code, upper case, e.g. `E0601`. */
  code: string;
  shortDescription: string;
  longDescription: string;
  /** BETOS category, e.g. `D1E`; empty when CMS gives none. */
  betos: string;
  /** CMS coverage code (`C`, `D`, `I`, `M`, `S`); empty when none. */
  coverage: string;
  /** Date the code was added, `YYYY-MM-DD`. */
  addedDate: string | null;
  /** Date after which the code may not be billed, `YYYY-MM-DD`; null while active. */
  terminationDate: string | null;
  /**
   * CMS pricing indicators 1-4 that are set (e.g. `['51']` drugs, `['00']` not separately priced
   * by Part B, `['13']` carrier priced); see `hcpcs_field_code_tables.csv`. Optional: absent when
   * the loader or a test fixture does not provide them.
   */
  pricingIndicators?: readonly string[];
}

/** Which CMS fee schedule a price comes from. */
export type FeeScheduleSource = 'DMEPOS' | 'DMEPEN' | 'PFS' | 'CLFS' | 'ASP';

/**
 * A national reference price for one code (and pricing modifier, if any), in integer cents
 * per billing unit. Sources: CMS 2025 DMEPOS/PEN (median of the state non-rural fees),
 * PFS (national non-facility amount), CLFS (national rate), ASP (payment limit per billing unit).
 */
export interface FeeScheduleEntry {
  code: string;
  /** Pricing modifier (DMEPOS `NU`, `RR`, `UE`...), or empty. */
  modifier: string;
  source: FeeScheduleSource;
  /** Reference amount per billing unit, integer cents. */
  amountCents: number;
  /** Billing unit as CMS states it (ASP only), e.g. `10 MG`. */
  billingUnit: string | null;
}

/** Reference data handed to the scorers. */
export interface ReferenceData {
  /** Edition label, e.g. `HCPCS 2025-01; CMS fee schedules 2025`. */
  version: string;
  hcpcs: ReadonlyMap<string, HcpcsCode>;
  /** Fee schedule entries per code (several when modifiers or sources differ). */
  fees: ReadonlyMap<string, readonly FeeScheduleEntry[]>;
}
