/**
 * Loader for the reference data shipped in `datasets/reference/`: the CMS HCPCS Level II code
 * set (January 2025) and the CMS 2025 fee schedules (DMEPOS, DMEPEN, PFS, CLFS, ASP).
 *
 * Everything is read synchronously from CSV files inside the package; nothing is fetched at run
 * time. Provenance, licences and checksums of the files are in `datasets/reference/README.md`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { TriageError } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';
import type { FeeScheduleEntry, FeeScheduleSource, HcpcsCode, ReferenceData } from '../core/reference.js';

/**
 * The package root: the nearest directory above this module holding `package.json` (re-exported
 * from `core/paths.ts`; works from source via tsx and from the compiled `dist/` tree).
 * @throws Error when no `package.json` is found.
 */
export { packageRoot };

/** Edition label of the shipped files, reported as {@link ReferenceData.version}. */
export const REFERENCE_DATA_VERSION = 'HCPCS 2025-01; DMEPOS 2025-01; PFS 2025-A; CLFS 2025-Q1; ASP 2025-Q1';

/**
 * File names inside the reference directory, relative to it. The version label above is only
 * true for these files; replace both together.
 */
export const REFERENCE_FILES = {
  hcpcs: 'hcpcs/hcpcs_level2_2025_jan.csv',
  fieldCodeTables: 'hcpcs/hcpcs_field_code_tables.csv',
  dmepos: 'cms/dmepos_fee_schedule_2025_jan.csv',
  dmepen: 'cms/dmepen_fee_schedule_2025_jan.csv',
  pfs: 'cms/pfs_rvu_2025_jan.csv',
  clfs: 'cms/clfs_2025_q1.csv',
  asp: 'cms/asp_drug_payment_limits_2025_q1.csv',
} as const;

/** The default reference directory: `<package root>/datasets/reference`. */
export function defaultReferenceDir(): string {
  return join(packageRoot(), 'datasets', 'reference');
}

/**
 * Parses a non-negative or negative decimal string (`"00720.00"`, `"146.312"`, `"-1.73"`, `"25"`)
 * into integer cents using string arithmetic only (no binary floating point), rounding half
 * away from zero on the third decimal (`"0.005"` → 1, `"-0.005"` → -1).
 * @returns the amount in cents, or `null` when `text` is not a plain decimal number.
 */
export function parseDecimalToCents(text: string): number | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) return null;
  const sign = m[1] === '-' ? -1 : 1;
  const whole = m[2] ?? '';
  const frac = m[3] ?? '';
  if (whole === '' && frac === '') return null;
  if (whole.replace(/^0+/, '').length > 13) return null; // beyond MAX_ABS_CENTS anyway
  const digits = (frac + '000').slice(0, 3);
  const roundUp = Number(digits[2]) >= 5 ? 1 : 0;
  const cents = Number(whole === '' ? '0' : whole) * 100 + Number(digits.slice(0, 2)) + roundUp;
  return cents === 0 ? 0 : sign * cents;
}

/** A CSV file read into a header index and string rows. */
interface CsvTable {
  file: string;
  header: string[];
  rows: string[][];
}

function invalid(message: string, cause?: unknown): TriageError {
  return new TriageError(
    'TRIAGE_REFERENCE_DATA_INVALID',
    message,
    [],
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Reads a CSV file with a header row.
 * @throws TriageError `TRIAGE_REFERENCE_DATA_INVALID` when the file is missing or malformed.
 */
function readCsv(dir: string, relative: string): CsvTable {
  const file = join(dir, relative);
  if (!existsSync(file)) throw invalid(`Reference data file is missing: ${file}`);
  let records: string[][];
  try {
    records = parse(readFileSync(file, 'utf8'), {
      bom: true,
      skip_empty_lines: true,
      trim: true,
    }) as string[][];
  } catch (e) {
    throw invalid(`Reference data file ${file} is not valid CSV: ${(e as Error).message}`, e);
  }
  const [header, ...rows] = records;
  if (!header) throw invalid(`Reference data file ${file} is empty`);
  return { file, header, rows };
}

/**
 * Index of a required column, matched case-insensitively.
 * @throws TriageError `TRIAGE_REFERENCE_DATA_INVALID` naming the column and file when absent.
 */
function column(table: CsvTable, name: string): number {
  const i = table.header.findIndex((h) => h.toLowerCase() === name.toLowerCase());
  if (i < 0) throw invalid(`Reference data file ${table.file} lacks required column "${name}"`);
  return i;
}

function cell(row: readonly string[], index: number): string {
  return row[index] ?? '';
}

/** `YYYYMMDD` → `YYYY-MM-DD`; blank → null. */
function toIsoDate(table: CsvTable, value: string, code: string): string | null {
  if (value === '') return null;
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!m) throw invalid(`Reference data file ${table.file}: bad date "${value}" for code ${code}`);
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/** True for a HCPCS Level II code (letter + 4 alphanumerics); CPT codes start with a digit. */
export function isLevel2Code(code: string): boolean {
  return /^[A-Z][0-9A-Z]{4}$/.test(code);
}

/** Parses the HCPCS code table, keeping `record_type = procedure` rows only. */
function loadHcpcs(dir: string): Map<string, HcpcsCode> {
  const t = readCsv(dir, REFERENCE_FILES.hcpcs);
  const col = {
    code: column(t, 'hcpcs_code'),
    type: column(t, 'record_type'),
    long: column(t, 'long_description'),
    short: column(t, 'short_description'),
    betos: column(t, 'betos_code'),
    coverage: column(t, 'coverage_code'),
    added: column(t, 'code_added_date'),
    terminated: column(t, 'termination_date'),
    pricing: [1, 2, 3, 4].map((i) => column(t, `pricing_indicator_${i}`)),
  };
  const out = new Map<string, HcpcsCode>();
  for (const row of t.rows) {
    if (cell(row, col.type) !== 'procedure') continue;
    const code = cell(row, col.code).toUpperCase();
    out.set(code, {
      code,
      shortDescription: cell(row, col.short),
      longDescription: cell(row, col.long),
      betos: cell(row, col.betos),
      coverage: cell(row, col.coverage),
      addedDate: toIsoDate(t, cell(row, col.added), code),
      terminationDate: toIsoDate(t, cell(row, col.terminated), code),
      pricingIndicators: col.pricing.map((i) => cell(row, i)).filter((v) => v !== ''),
    });
  }
  if (out.size === 0) throw invalid(`Reference data file ${t.file} holds no procedure codes`);
  return out;
}

/** Amount column value in cents; throws on a non-numeric value. */
function amountCents(t: CsvTable, value: string, code: string, columnName: string): number {
  const cents = parseDecimalToCents(value);
  if (cents === null)
    throw invalid(`Reference data file ${t.file}: bad ${columnName} "${value}" for code ${code}`);
  return cents;
}

/** Median of integer cents, the mean of the two middle values rounded half up when even. */
export function medianCents(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? 0;
  if (sorted.length % 2 === 1) return hi;
  const lo = sorted[mid - 1] ?? 0;
  return Math.floor((lo + hi + 1) / 2);
}

/**
 * DMEPOS / DMEPEN: one entry per (code, first modifier). When CMS lists several rows for the
 * same pair (second modifier `KU`, `KE`, `QB`...), the row without a second modifier wins,
 * else the first row in file order. Amount = median of the state non-rural `XX (NR)` fees > 0.
 */
function loadDmeFees(dir: string, relative: string, source: FeeScheduleSource): FeeScheduleEntry[] {
  const t = readCsv(dir, relative);
  const col = { code: column(t, 'HCPCS'), mod: column(t, 'Mod'), mod2: column(t, 'Mod2') };
  const nr = t.header.flatMap((h, i) => (/^[A-Z]{2} \(NR\)$/.test(h) ? [i] : []));
  if (nr.length === 0) throw invalid(`Reference data file ${t.file} lacks the state "XX (NR)" fee columns`);
  const chosen = new Map<string, { row: string[]; hasMod2: boolean }>();
  for (const row of t.rows) {
    const code = cell(row, col.code).toUpperCase();
    if (!isLevel2Code(code)) continue;
    const key = `${code}\u0000${cell(row, col.mod).toUpperCase()}`;
    const hasMod2 = cell(row, col.mod2) !== '';
    const prev = chosen.get(key);
    if (!prev || (prev.hasMod2 && !hasMod2)) chosen.set(key, { row, hasMod2 });
  }
  const out: FeeScheduleEntry[] = [];
  for (const { row } of chosen.values()) {
    const code = cell(row, col.code).toUpperCase();
    const fees = nr.map((i) => amountCents(t, cell(row, i), code, t.header[i] ?? '')).filter((c) => c > 0);
    if (fees.length === 0) continue;
    const modifier = cell(row, col.mod).toUpperCase();
    out.push({ code, modifier, source, amountCents: medianCents(fees), billingUnit: null });
  }
  return out;
}

/** Generic single-amount schedule (PFS, CLFS, ASP): keeps Level II codes with an amount > 0. */
function loadSimpleFees(
  dir: string,
  relative: string,
  source: FeeScheduleSource,
  columns: { amount: string; modifier?: string; billingUnit?: string },
): FeeScheduleEntry[] {
  const t = readCsv(dir, relative);
  const code = column(t, 'hcpcs');
  const amount = column(t, columns.amount);
  const modifier = columns.modifier === undefined ? -1 : column(t, columns.modifier);
  const unit = columns.billingUnit === undefined ? -1 : column(t, columns.billingUnit);
  const out: FeeScheduleEntry[] = [];
  for (const row of t.rows) {
    const c = cell(row, code).toUpperCase();
    if (!isLevel2Code(c)) continue;
    const raw = cell(row, amount);
    // ASP prints `N/A` where CMS sets no limit (A9606); such rows carry no price.
    if (raw === 'N/A' || raw === '') continue;
    const cents = amountCents(t, raw, c, columns.amount);
    if (cents <= 0) continue;
    out.push({
      code: c,
      modifier: modifier < 0 ? '' : cell(row, modifier).toUpperCase(),
      source,
      amountCents: cents,
      billingUnit: unit < 0 ? null : cell(row, unit) || null,
    });
  }
  return out;
}

/**
 * Reads every fee schedule and groups the entries by code, in source order DMEPOS, DMEPEN,
 * PFS, CLFS, ASP (file order within a source).
 */
function loadFees(dir: string): Map<string, FeeScheduleEntry[]> {
  const all = [
    ...loadDmeFees(dir, REFERENCE_FILES.dmepos, 'DMEPOS'),
    ...loadDmeFees(dir, REFERENCE_FILES.dmepen, 'DMEPEN'),
    ...loadSimpleFees(dir, REFERENCE_FILES.pfs, 'PFS', {
      amount: 'national_nonfacility_amount_derived',
      modifier: 'modifier',
    }),
    ...loadSimpleFees(dir, REFERENCE_FILES.clfs, 'CLFS', { amount: 'rate', modifier: 'modifier' }),
    ...loadSimpleFees(dir, REFERENCE_FILES.asp, 'ASP', {
      amount: 'payment_limit',
      billingUnit: 'hcpcs_code_dosage',
    }),
  ];
  const byCode = new Map<string, FeeScheduleEntry[]>();
  for (const entry of all) {
    const list = byCode.get(entry.code);
    if (list) list.push(entry);
    else byCode.set(entry.code, [entry]);
  }
  return byCode;
}

/**
 * Loads the HCPCS Level II code set and the CMS fee schedules.
 *
 * - `hcpcs`: the 8,259 procedure codes of the CMS January 2025 HCPCS file (modifier records are
 *   skipped), keyed by upper-case code; dates converted from `YYYYMMDD` to `YYYY-MM-DD`.
 * - `fees`: national reference prices per code, **integer cents per billing unit**, Level II
 *   codes only (CPT codes are dropped):
 *   DMEPOS and DMEPEN = median of the state non-rural fees > 0, one entry per (code, modifier);
 *   PFS = national non-facility amount (total RVU × 2025 conversion factor) per (code, modifier);
 *   CLFS = national rate per (code, modifier); ASP = payment limit per billing unit, with
 *   `billingUnit` set to the CMS dosage (e.g. `10 MG`). Zero amounts are skipped.
 *
 * Decimal strings are converted to cents by string arithmetic, rounding half up on the third
 * decimal (ASP limits have three decimals), so no floating-point drift enters the amounts.
 *
 * @param dir directory holding `hcpcs/` and `cms/` as in {@link REFERENCE_FILES}; defaults to
 *   `<package root>/datasets/reference` (works from source and from `dist/`).
 * @returns the reference data, with `version` = {@link REFERENCE_DATA_VERSION}.
 * @throws TriageError `TRIAGE_REFERENCE_DATA_INVALID` when a file is missing, is not CSV, lacks a
 *   required column or holds an unparsable amount or date.
 */
export function loadReferenceData(dir: string = defaultReferenceDir()): ReferenceData {
  return { version: REFERENCE_DATA_VERSION, hcpcs: loadHcpcs(dir), fees: loadFees(dir) };
}

let shipped: ReferenceData | undefined;

/**
 * The shipped reference data ({@link loadReferenceData} of the package's directory), read on
 * the first call and the same object for every later call in this process, so that
 * `features/reference-index.ts` `referenceIndex` builds its index once per process.
 * @throws TriageError `TRIAGE_REFERENCE_DATA_INVALID` as {@link loadReferenceData}.
 */
export function sharedReferenceData(): ReferenceData {
  shipped ??= loadReferenceData();
  return shipped;
}

/**
 * Loads the CMS code tables transcribed from the HCPCS record layout (`hcpcs_field_code_tables.csv`):
 * field name (`betos_code`, `pricing_indicator`, `coverage_code`, `action_code`,
 * `multiple_pricing_indicator`, `type_of_service`) → code → description.
 * Used to label BETOS categories and coverage codes for humans (reports, sample building).
 * @throws TriageError `TRIAGE_REFERENCE_DATA_INVALID` when the file or a column is missing.
 */
export function loadFieldCodeTables(dir: string = defaultReferenceDir()): Map<string, Map<string, string>> {
  const t = readCsv(dir, REFERENCE_FILES.fieldCodeTables);
  const col = { field: column(t, 'field'), code: column(t, 'code'), description: column(t, 'description') };
  const out = new Map<string, Map<string, string>>();
  for (const row of t.rows) {
    const field = cell(row, col.field);
    let table = out.get(field);
    if (!table) {
      table = new Map();
      out.set(field, table);
    }
    table.set(cell(row, col.code), cell(row, col.description));
  }
  return out;
}
