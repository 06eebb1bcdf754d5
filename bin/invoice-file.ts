/**
 * Reading invoice files for the CLI: JSON Lines (one invoice per line, API shape), CSV
 * (one row per invoice line, invoice columns repeated; see README "CSV format"), or a document
 * of `intake/` (X12 810 interchange, UBL 2.1 Invoice / CreditNote, FHIR R4 Invoice or Bundle).
 * Rows are returned unvalidated, each with its source location, so the caller can report
 * every bad row and go on.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { TriageError, isTriageError } from '../core/errors.js';
import { Invoice } from '../core/invoice.js';
import { parseJsonRecord } from '../api/body/json.js';
import { decodeUtf8, notUtf8, withoutBom, type NotUtf8Error } from '../core/utf8.js';
import { cellNumberError, intCell, numCell, textCell } from './csv-cells.js';
import { INTAKE_EXTENSIONS, convertDocument, type DocumentFormat } from '../intake/index.js';

/** One invoice candidate read from a file. `location` is `line 12` (JSONL) or `rows 4-6` (CSV). */
export interface FileRecord {
  location: string;
  value: unknown;
  /** Set when the row could not even be parsed (bad JSON). */
  parseError?: string;
}

/** CSV columns; invoice-level ones repeat on every line row of the invoice. */
export const CSV_COLUMNS = [
  'invoice_id',
  'vendor_id',
  'vendor_name',
  'vendor_tax_id',
  'vendor_npi',
  'invoice_number',
  'invoice_date',
  'due_date',
  'currency',
  'total_cents',
  'document_type',
  'po_number',
  'facility_id',
  'service_period_start',
  'service_period_end',
  'line_number',
  'description',
  'code_system',
  'code',
  'modifiers',
  'quantity',
  'unit_price_cents',
  'amount_cents',
  'service_date',
] as const;

/** File formats the CLI reads: its own two and the intake documents. */
export type FileFormat = 'jsonl' | 'csv' | 'x12' | 'ubl' | 'fhir';

const DOCUMENT_FORMATS: Readonly<Record<'x12' | 'ubl' | 'fhir', DocumentFormat>> = {
  x12: 'x12-810',
  ubl: 'ubl-2.1',
  fhir: 'fhir-r4',
};

/** The intake format of a file: from `format`, else from its extension (`.x12`/`.edi`/`.810`, `.xml`, `.fhir.json`). */
function documentFormatOf(path: string, format?: FileFormat): DocumentFormat | null {
  if (format === 'jsonl' || format === 'csv') return null;
  if (format) return DOCUMENT_FORMATS[format];
  const lower = path.toLowerCase();
  const ext = Object.keys(INTAKE_EXTENSIONS)
    .sort((a, b) => b.length - a.length)
    .find((e) => lower.endsWith(e));
  return ext ? INTAKE_EXTENSIONS[ext]! : null;
}

/**
 * Reads invoice files in order: JSONL/CSV rows as {@link readInvoiceFile} (located
 * `<file> line 4`, `<file> rows 2-3`), intake documents
 * converted (one record per invoice they carry, located `<file> <document ref>`). A document
 * that does not convert is one record with `parseError` naming the segment, element or pointer:
 * none of its invoices is scored.
 */
export async function readInvoiceFiles(paths: readonly string[], format?: FileFormat): Promise<FileRecord[]> {
  const out: FileRecord[] = [];
  for (const path of paths) {
    const doc = documentFormatOf(path, format);
    if (doc === null) {
      for (const r of readInvoiceFile(path, format as 'jsonl' | 'csv' | undefined))
        out.push({ ...r, location: `${path} ${r.location}` });
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new TriageError(
        'TRIAGE_FILE_INVALID',
        `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    try {
      for (const inv of await convertDocument(doc, bytes))
        out.push({ location: `${path} ${inv.source?.document_ref ?? ''}`.trim(), value: inv });
    } catch (e) {
      if (!isTriageError(e)) throw e;
      const where = e.errors.map((x) => `${x.path} ${x.message}`).join('; ');
      out.push({ location: path, value: null, parseError: where || e.message });
    }
  }
  return out;
}

/**
 * Why a file that holds no invoice record is refused (`score` and `import` exit 2): an empty
 * file, blank lines only, or a CSV header without rows is more likely a failed export than a
 * batch of nothing, and a run that reports 0 invoices and succeeds would hide it.
 */
export const NO_INVOICE =
  'holds no invoice (empty, blank lines only, or a CSV header without rows); nothing was scored or imported';

/**
 * Reads a `.jsonl`/`.ndjson` or `.csv` file (format from `format` or the extension).
 * @throws TriageError `TRIAGE_FILE_INVALID` naming the file when it cannot be read, its CSV
 *   header is wrong ({@link parseCsv}) or it holds no invoice record ({@link NO_INVOICE}).
 */
export function readInvoiceFile(path: string, format?: 'jsonl' | 'csv'): FileRecord[] {
  const fmt = format ?? (/\.csv$/i.test(path) ? 'csv' : 'jsonl');
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new TriageError(
      'TRIAGE_FILE_INVALID',
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const bad = notUtf8Lines(bytes);
  // Only lines named in `bad` differ from their bytes (each bad byte decoded as U+FFFD), and
  // the records they fall in are refused, so no replaced text is ever read as data.
  const text = withoutBom(bad.size === 0 ? decodeUtf8(bytes) : bytes.toString('utf8'));
  try {
    const records = fmt === 'csv' ? parseCsv(text, bad) : parseJsonl(text, bad);
    if (records.length === 0) throw new TriageError('TRIAGE_FILE_INVALID', NO_INVOICE);
    return records;
  } catch (e) {
    // A file-level refusal (a CSV header) names the file among several given.
    if (!isTriageError(e, 'TRIAGE_FILE_INVALID')) throw e;
    throw new TriageError('TRIAGE_FILE_INVALID', `${path}: ${e.message}`, e.errors, { cause: e });
  }
}

/** Why a line with a byte that is not UTF-8 is not read, by 1-based line ({@link notUtf8Lines}). */
export type NotUtf8Lines = ReadonlyMap<number, string>;

/** Why a line is not read: `byte 7 of the line (0xe9) is not UTF-8` (`e` found in the line's bytes). */
export const notUtf8LineReason = (e: NotUtf8Error): string =>
  `byte ${e.offset} of the line (${e.hex}) is not UTF-8`;

/** The lines of a file (1-based, ending at LF) holding a byte that is not UTF-8, each with why; empty for a UTF-8 file. */
export function notUtf8Lines(bytes: Buffer): NotUtf8Lines {
  const out = new Map<number, string>();
  if (notUtf8(bytes) === undefined) return out;
  for (let start = 0, line = 1; start < bytes.length; line++) {
    const lf = bytes.indexOf(0x0a, start);
    const end = lf < 0 ? bytes.length : lf;
    const bad = notUtf8(bytes.subarray(start, end));
    if (bad !== undefined) out.set(line, notUtf8LineReason(bad));
    start = end + 1;
  }
  return out;
}

/**
 * Parses JSON Lines as strictly as the API parses a body (api/body/json.ts: repeated keys,
 * cents written with a fraction or exponent...); blank lines are skipped.
 * @param bad lines holding a byte that is not UTF-8 ({@link notUtf8Lines}): records with `parseError`.
 */
export function parseJsonl(text: string, bad: NotUtf8Lines = new Map()): FileRecord[] {
  const out: FileRecord[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const notUtf8 = bad.get(i + 1);
    if (notUtf8 !== undefined) {
      out.push({ location: `line ${i + 1}`, value: null, parseError: `${notUtf8}; the record is not read` });
      return;
    }
    if (line.trim() === '') return;
    const read = parseJsonRecord(line, Invoice);
    const parseError =
      'fieldErrors' in read
        ? read.fieldErrors.map((e) => `${e.path} ${e.message}`).join('; ')
        : 'parseError' in read
          ? read.parseError
          : undefined;
    out.push({
      location: `line ${i + 1}`,
      value: read.value,
      ...(parseError === undefined ? {} : { parseError }),
    });
  });
  return out;
}

/** A CSV row with the file line it starts on. */
interface CsvRow {
  line: number;
  /** The file line it ends on (a quoted value may span lines). */
  end: number;
  row: Record<string, string>;
}

/** A row the CSV parser could not read: its file line, why, and its invoice id when it can be told. */
interface BrokenRow {
  line: number;
  reason: string;
  invoiceId: string | undefined;
}

/**
 * Errors of csv-parse that concern one row, by code, with the reason reported for the row
 * (`columns`: the header's number of fields). Any other parser error refuses the file.
 * The parser's `skip_records_with_error` is not used: after a bad closing quote it stays inside
 * the quoted field and folds the rows that follow into the skipped record without naming them.
 */
const AFTER_CLOSING_QUOTE =
  'a quoted field is followed by a character other than a comma or the end of the line; the row is not read';
const afterClosingQuote = (): string => AFTER_CLOSING_QUOTE;
const ROW_ERRORS: Readonly<Record<string, (columns: number) => string>> = {
  CSV_QUOTE_NOT_CLOSED: () => 'a quoted field opened on this line is not closed; the row is not read',
  CSV_INVALID_CLOSING_QUOTE: afterClosingQuote,
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: afterClosingQuote,
  INVALID_OPENING_QUOTE: () => 'a quote appears inside an unquoted field; the row is not read',
  CSV_RECORD_INCONSISTENT_COLUMNS: (columns) =>
    `the row has another number of fields than the header (${columns}); it is not read`,
};

/**
 * Reads the rows of a CSV with the file line each starts on, going on past a row the parser
 * cannot read. A quote that is never closed would swallow the rest of the file into one field,
 * so that row alone is set aside (its line, and its invoice id read without quoting) and the
 * parse resumes at the next line; so is a row with a quote the parser refuses (a closing quote
 * followed by other text, a quote inside an unquoted field); a row with another number of fields than the header is set
 * aside the same way. Rows of an invoice with a row set aside are not used (the invoice would be
 * read with lines missing).
 */
function csvRows(text: string): { header: string[]; rows: CsvRow[]; broken: BrokenRow[] } {
  const rows: CsvRow[] = [];
  const broken: BrokenRow[] = [];
  const all = text.split('\n');
  const headerText = all[0] ?? '';
  const header = ((parse(headerText, { bom: true, relax_quotes: true }) as string[][])[0] ?? []).map(
    (h) => h,
  );
  let chunk = text;
  // File line of chunk line k is k + delta.
  let delta = 0;
  for (;;) {
    const got: { record: Record<string, string>; info: { lines: number } }[] = [];
    try {
      parse(chunk, {
        columns: true,
        skip_empty_lines: true,
        trim: false,
        bom: true,
        info: true,
        on_record: (rec: { record: Record<string, string>; info: { lines: number } }) => {
          got.push(rec);
          return rec;
        },
      });
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      const reason = ROW_ERRORS[code];
      if (reason === undefined)
        throw new TriageError(
          'TRIAGE_FILE_INVALID',
          `CSV line ${((e as { lines?: number }).lines ?? 0) + delta}: ${(e as Error).message}`,
        );
      for (const g of got) rows.push(toRow(g, delta));
      const lines = chunk.split('\n');
      let start = (got.at(-1)?.info.lines ?? 1) + 1;
      while (start <= lines.length && lines[start - 1]!.trim() === '') start++;
      // A quoting error may have read past the row it started on: resume at the next line.
      const end =
        code === 'CSV_RECORD_INCONSISTENT_COLUMNS' ? Math.max(start, (e as { lines: number }).lines) : start;
      const raw = lines[start - 1] ?? '';
      const loose = (parse(raw, { quote: false, relax_column_count: true }) as string[][])[0] ?? [];
      const id = loose[header.indexOf('invoice_id')]?.trim();
      // A quote left open at the end of its row makes the parser read on into the next rows and
      // stop at a later quote as a bad closing quote: the row holds an odd number of quotes.
      const unterminated =
        reason === ROW_ERRORS.CSV_INVALID_CLOSING_QUOTE && (raw.match(/"/g)?.length ?? 0) % 2 === 1;
      broken.push({
        line: start + delta,
        reason: (unterminated ? ROW_ERRORS.CSV_QUOTE_NOT_CLOSED! : reason)(header.length),
        invoiceId: id === '' ? undefined : id,
      });
      chunk = [headerText, ...lines.slice(end)].join('\n');
      delta += end - 1;
      continue;
    }
    for (const g of got) rows.push(toRow(g, delta));
    return { header, rows, broken };
  }
}

/** The row with the file line it starts on (info.lines is where it ends; quoted values may span lines). */
function toRow(g: { record: Record<string, string>; info: { lines: number } }, delta: number): CsvRow {
  const inner = Object.values(g.record).reduce((n, v) => n + (v.match(/\n/g)?.length ?? 0), 0);
  return { line: g.info.lines - inner + delta, end: g.info.lines + delta, row: g.record };
}

/**
 * Parses the CSV format into invoice objects (rows grouped by `invoice_id`, in order of first
 * appearance; locations are file lines). Numbers that do not parse are left as strings so
 * validation names the field. A row the parser cannot read (a quote never closed, a wrong number
 * of fields) or on a line of `bad` (a byte that is not UTF-8, {@link notUtf8Lines}) makes a
 * record with `parseError` naming its line, and its invoice's other rows are not used; the rows
 * after it are read.
 * @throws TriageError `TRIAGE_FILE_INVALID` when the header lacks a required column, names a
 *   column twice or a column not in {@link CSV_COLUMNS}, or is not UTF-8.
 */
export function parseCsv(text: string, bad: NotUtf8Lines = new Map()): FileRecord[] {
  const header1 = bad.get(1);
  if (header1 !== undefined)
    throw new TriageError('TRIAGE_FILE_INVALID', `CSV line 1 (the header): ${header1}`);
  const { header, rows, broken } = csvRows(text);
  // A header is checked whether or not rows follow it: a misspelt column is as wrong in a file
  // whose rows are missing (which readInvoiceFile then refuses as carrying no invoice).
  if (header.length > 0) {
    const missing = ['invoice_id', 'line_number', 'description'].filter((c) => !header.includes(c));
    if (missing.length > 0)
      throw new TriageError('TRIAGE_FILE_INVALID', `CSV header lacks column(s): ${missing.join(', ')}`);
    const headerError = csvHeaderError(header);
    if (headerError) throw new TriageError('TRIAGE_FILE_INVALID', headerError);
  }
  const groups = new Map<
    string,
    { first: number; last: number; rows: Record<string, string>[]; lines: number[]; broken: BrokenRow[] }
  >();
  const group = (id: string, line: number) => {
    const g = groups.get(id) ?? { first: line, last: line, rows: [], lines: [], broken: [] };
    g.first = Math.min(g.first, line);
    g.last = Math.max(g.last, line);
    groups.set(id, g);
    return g;
  };
  // A row on a line with a byte that is not UTF-8 is set aside like a row the parser cannot read.
  const unread = new Set(bad.keys());
  for (const r of rows) {
    const lines = [...bad.keys()].filter((l) => l >= r.line && l <= r.end);
    lines.forEach((l) => unread.delete(l));
    if (lines.length === 0) {
      const g = group(r.row.invoice_id ?? '', r.line);
      g.rows.push(r.row);
      g.lines.push(r.line);
    } else broken.push(...lines.map((l) => ({ line: l, reason: bad.get(l)!, invoiceId: r.row.invoice_id })));
  }
  for (const l of unread) broken.push({ line: l, reason: bad.get(l)!, invoiceId: undefined });
  broken.forEach((b, i) => group(b.invoiceId ?? `\u0000unknown ${i}`, b.line).broken.push(b));
  const where = (g: { first: number; last: number }) =>
    g.first === g.last ? `row ${g.first}` : `rows ${g.first}-${g.last}`;
  return [...groups.values()]
    .sort((a, b) => a.first - b.first)
    .map((g) => {
      if (g.broken.length > 0)
        return {
          location: where(g),
          value: null,
          // A record of one row is located by `where` alone; a longer one names each broken line.
          parseError:
            g.broken.map((b) => (g.first === g.last ? b.reason : `line ${b.line}: ${b.reason}`)).join('; ') +
            (g.rows.length > 0 ? '; the invoice is not read' : ''),
        };
      const disagreement = invoiceColumnsDisagree(g) ?? numberCellsError(g);
      if (disagreement) return { location: where(g), value: null, parseError: disagreement };
      return read(g);
    });
}

/**
 * Why a CSV header cannot be read, or null: a column named twice (which of its cells would be
 * the value?) or a column that is not one of {@link CSV_COLUMNS} (a misspelt `po_numbr`, or a
 * field CSV does not carry such as `received_date`, would otherwise be dropped unseen, as the
 * API refuses an unknown field rather than ignore it).
 */
function csvHeaderError(header: readonly string[]): string | null {
  const twice = header.find((h, i) => header.indexOf(h) !== i);
  if (twice !== undefined) {
    const at = header.flatMap((h, i) => (h === twice ? [i + 1] : []));
    return `CSV header names column ${JSON.stringify(twice)} more than once (columns ${at.join(', ')})`;
  }
  const known = new Set<string>(CSV_COLUMNS);
  const unknown = header.filter((h) => !known.has(h));
  if (unknown.length === 0) return null;
  return (
    `CSV header has unknown column(s): ${unknown.map((h) => JSON.stringify(h)).join(', ')}; ` +
    `the columns are ${CSV_COLUMNS.join(', ')}`
  );
}

/** The invoice-level columns of {@link CSV_COLUMNS}: every row of an invoice repeats them. */
const INVOICE_COLUMNS = CSV_COLUMNS.slice(1, CSV_COLUMNS.indexOf('line_number'));

/**
 * Why the rows of one invoice cannot be read as one invoice: the first invoice-level column
 * in which a row differs from the invoice's first row (cells compared as read: blank = absent),
 * naming the invoice, the column, the two rows (file lines) and their values; null when they agree.
 */
function invoiceColumnsDisagree(g: { rows: Record<string, string>[]; lines: number[] }): string | null {
  const first = g.rows[0]!;
  for (const column of INVOICE_COLUMNS)
    for (let i = 1; i < g.rows.length; i++) {
      const a = textCell(first[column]);
      const b = textCell(g.rows[i]![column]);
      if (a !== b)
        return (
          `invoice ${JSON.stringify(first.invoice_id ?? '')}: column ${column} is ${JSON.stringify(a ?? '')} on line ${g.lines[0]} ` +
          `but ${JSON.stringify(b ?? '')} on line ${g.lines[i]}; every row of an invoice repeats its invoice columns; the invoice is not read`
        );
    }
  return null;
}

/** The numeric columns of the invoice CSV: integers (cents, line numbers) and decimals (quantity). */
const NUMBER_COLUMNS: Readonly<Record<string, 'int' | 'num'>> = {
  total_cents: 'int',
  line_number: 'int',
  quantity: 'num',
  unit_price_cents: 'int',
  amount_cents: 'int',
};

/**
 * Why the numeric cells of one invoice's rows cannot be read, or null: each cell not written as
 * its column's number (`1e2`, `12.50 USD`, `one`), by file line and column, saying what the
 * column takes (a schema's "must be number" would not).
 */
function numberCellsError(g: { rows: Record<string, string>[]; lines: number[] }): string | null {
  const errors = g.rows.flatMap((r, i) =>
    Object.entries(NUMBER_COLUMNS).flatMap(([column, kind]) => {
      const why = cellNumberError(r[column], kind);
      return why ? [`line ${g.lines[i]}, column ${column}: ${why}`] : [];
    }),
  );
  return errors.length > 0 ? `${errors.join('; ')}; the invoice is not read` : null;
}

/** The invoice of a group of readable rows. */
function read(g: { first: number; last: number; rows: Record<string, string>[] }): FileRecord {
  const h = g.rows[0]!;
  const vendor: Record<string, unknown> = { id: textCell(h.vendor_id), name: textCell(h.vendor_name) };
  if (textCell(h.vendor_tax_id)) vendor.tax_id = textCell(h.vendor_tax_id);
  if (textCell(h.vendor_npi)) vendor.npi = textCell(h.vendor_npi);
  const inv: Record<string, unknown> = {
    invoice_id: textCell(h.invoice_id),
    vendor,
    invoice_number: textCell(h.invoice_number),
    invoice_date: textCell(h.invoice_date),
    currency: textCell(h.currency),
    total_cents: intCell(h.total_cents),
    document_type: textCell(h.document_type) ?? 'invoice',
  };
  for (const k of ['due_date', 'po_number', 'facility_id'] as const)
    if (textCell(h[k])) inv[k] = textCell(h[k]);
  if (textCell(h.service_period_start) || textCell(h.service_period_end)) {
    inv.service_period = { start: textCell(h.service_period_start), end: textCell(h.service_period_end) };
  }
  inv.lines = g.rows.map((r) => {
    const line: Record<string, unknown> = {
      line_number: intCell(r.line_number),
      description: textCell(r.description),
      quantity: numCell(r.quantity),
      unit_price_cents: intCell(r.unit_price_cents),
      amount_cents: intCell(r.amount_cents),
    };
    if (textCell(r.code)) line.code = { system: textCell(r.code_system) ?? 'HCPCS', value: textCell(r.code) };
    if (textCell(r.modifiers)) line.modifiers = textCell(r.modifiers)!.split(/[\s,;]+/);
    if (textCell(r.service_date)) line.service_date = textCell(r.service_date);
    return line;
  });
  return {
    location: g.first === g.last ? `row ${g.first}` : `rows ${g.first}-${g.last}`,
    value: stripUndefined(inv),
  };
}

function stripUndefined(o: unknown): unknown {
  if (Array.isArray(o)) return o.map(stripUndefined);
  if (o !== null && typeof o === 'object') {
    return Object.fromEntries(
      Object.entries(o as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, stripUndefined(v)]),
    );
  }
  return o;
}
