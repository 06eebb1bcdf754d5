/**
 * ERP files for `npm run cli -- erp load FILE --tenant T` (core/erp.ts records):
 *
 * - `.json`: one load, `{ purchase_orders, receipts, contracts }` as `POST /v1/erp/load` takes it;
 * - `.jsonl`: one record a line with `"type": "purchase_order" | "receipt" | "contract"`;
 * - `.csv`: flat rows with `record_type` `po_line`, `receipt` or `contract_item` (one header
 *   row of known columns, each once; a file may mix the three; unused columns stay empty). Sample:
 *   `datasets/samples/erp/erp_load.csv`.
 *   - `po_line` rows carry the PO header (`po_number, vendor_id, facility_id, status,
 *     order_date, version`) and the line (`line_number, description, supplier_part,
 *     manufacturer_part, ndc, gtin, buyer_item, hcpcs, uom, pack_qty, quantity,
 *     unit_price_cents, contract_id`); rows of one PO are grouped, the header from its first row.
 *   - `receipt` rows: `receipt_id, po_number, po_line_number, quantity, uom, pack_qty,
 *     received_date, version`.
 *   - `contract_item` rows carry the contract (`contract_id, vendor_id, kind, tier,
 *     effective_date, end_date, facilities, version`; `facilities` separated by `;`, empty:
 *     every facility) and one priced item (`description, supplier_part, manufacturer_part, ndc,
 *     gtin, buyer_item, hcpcs, uom, pack_qty, price_cents`); rows of one contract are grouped.
 *     The `contract_id` column is the line's contract on a `po_line` row, the contract's id here.
 *
 * Problems name the file row: `line N, column X` for CSV (N is the file line the row starts on,
 * X the column's header), `line N` with the pointer inside the record for JSONL, the JSON pointer
 * for `.json`. A PO or contract header that differs between its rows names the later row.
 *
 * @throws TriageError `TRIAGE_FILE_INVALID` naming the line and field of the first problems.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { cellNumberError, intCell, numCell } from './csv-cells.js';
import { Compile } from 'typebox/compile';
import Type from 'typebox';
import { Contract, ErpLoad, GoodsReceipt, PurchaseOrder } from '../core/erp.js';
import { parseJsonRecord, parseJsonText } from '../api/body/json.js';
import { ownValue } from '../core/own.js';
import { isTriageError, TriageError, type FieldError } from '../core/errors.js';
import { checkStrings, toFieldErrors, type SchemaErrorLike } from '../core/validate.js';
import { checkErpLoad } from '../store/erp-checks.js';
import { lineOfOffset, notUtf8, withoutBom } from '../core/utf8.js';

const check = Compile(ErpLoad);
/** One record of a `.jsonl` file (its `type` aside): a purchase order, a receipt or a contract. */
const ErpRecord = Type.Union([PurchaseOrder, GoodsReceipt, Contract]);
const KINDS = { purchase_order: 'purchase_orders', receipt: 'receipts', contract: 'contracts' } as const;

/** Where a record (or a nested record) of the load came from in the file. */
interface Origin {
  line: number;
  /** CSV: field name (as it appears after the record's pointer) -> column header. */
  columns?: Readonly<Record<string, string>>;
}

/** An ERP file read into a load, with the file rows its records came from. */
export interface ErpFile {
  load: ErpLoad;
  /**
   * The same error with each field path naming the file row (`line N, column X` in a CSV) in
   * place of the JSON pointer into the load; for errors the store raises on this file's load.
   */
  locate(e: TriageError): TriageError;
}

const ID_COLUMNS = ['buyer_item', 'supplier_part', 'manufacturer_part', 'ndc', 'gtin', 'hcpcs'] as const;
const idColumns = (prefix: string) => Object.fromEntries(ID_COLUMNS.map((c) => [`${prefix}${c}`, c]));
const same = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, n]));
/**
 * How a CSV cell becomes a field: text, an integer, a decimal number (bin/csv-cells.ts: plain
 * decimal digits only, other text is refused naming the cell), or a `;`-separated list.
 */
type ColumnKind = 'str' | 'int' | 'num' | 'list';
/** The CSV columns of each record kind and their kinds, in field order (identifier columns aside). */
const PO_HEADER = {
  po_number: 'str',
  vendor_id: 'str',
  facility_id: 'str',
  status: 'str',
  order_date: 'str',
  version: 'int',
} as const satisfies Record<string, ColumnKind>;
const PO_LINE = {
  line_number: 'int',
  description: 'str',
  uom: 'str',
  pack_qty: 'int',
  quantity: 'num',
  unit_price_cents: 'int',
  contract_id: 'str',
} as const satisfies Record<string, ColumnKind>;
const RECEIPT = {
  receipt_id: 'str',
  po_number: 'str',
  po_line_number: 'int',
  quantity: 'num',
  uom: 'str',
  pack_qty: 'int',
  received_date: 'str',
  version: 'int',
} as const satisfies Record<string, ColumnKind>;
const CONTRACT_HEADER = {
  contract_id: 'str',
  vendor_id: 'str',
  kind: 'str',
  tier: 'str',
  effective_date: 'str',
  end_date: 'str',
  facilities: 'list',
  version: 'int',
} as const satisfies Record<string, ColumnKind>;
const CONTRACT_ITEM = {
  description: 'str',
  uom: 'str',
  pack_qty: 'int',
  price_cents: 'int',
} as const satisfies Record<string, ColumnKind>;

const str = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
const defined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
/** The fields of `table`'s columns in row `r`; empty cells are left out (a list is never left out). */
const fieldsOf = (table: Record<string, ColumnKind>, r: Record<string, string>) =>
  defined(
    Object.fromEntries(
      Object.entries(table).map(([c, kind]) => [
        c,
        kind === 'int'
          ? intCell(r[c])
          : kind === 'num'
            ? numCell(r[c])
            : kind === 'list'
              ? (r[c] ?? '')
                  .split(';')
                  .map((f) => f.trim())
                  .filter((f) => f !== '')
              : str(r[c]),
      ]),
    ),
  );
/**
 * Each numeric cell of `tables`' columns in row `r` that is not written as its column's number
 * (`1e3`, `0x10`, `12.50 USD`), by file line and column, saying what the column takes: the
 * schema refuses the cell, and this message replaces its "must be number"; blank cells are left
 * to the schema.
 */
const numberCellErrors = (
  tables: readonly Record<string, ColumnKind>[],
  r: Record<string, string>,
  line: number,
): FieldError[] =>
  tables.flatMap((t) =>
    Object.entries(t).flatMap(([c, kind]) => {
      const why = kind === 'int' || kind === 'num' ? cellNumberError(r[c], kind) : null;
      return why ? [{ path: `line ${line}, column ${c}`, message: why }] : [];
    }),
  );
const identifiers = (r: Record<string, string>) => {
  const ids = defined(Object.fromEntries(ID_COLUMNS.map((c) => [c, str(r[c])])));
  return Object.keys(ids).length > 0 ? { identifiers: ids } : {};
};

class Origins {
  private readonly byPointer = new Map<string, Origin>();
  private readonly cellMessages = new Map<string, string>();
  /** What the cell at `at` (`line N, column X`) takes, said instead of the schema's message there. */
  sayAt(at: string, message: string): void {
    this.cellMessages.set(at, message);
  }
  /** The message {@link sayAt} set for `at`, if any. */
  said(at: string): string | undefined {
    return this.cellMessages.get(at);
  }
  set(pointer: string, origin: Origin): void {
    this.byPointer.set(pointer, origin);
  }
  /** `line N, column X` (or `line N` and the rest of the pointer) for a pointer into the load. */
  name(pointer: string): string | null {
    let prefix = pointer;
    for (;;) {
      const o = this.byPointer.get(prefix);
      if (o) {
        const rest = pointer.slice(prefix.length).replace(/^\//, '');
        if (rest === '') return `line ${o.line}`;
        if (o.columns) {
          const column = o.columns[rest] ?? o.columns[rest.split('/')[0]!];
          if (column) return `line ${o.line}, column ${column}`;
        }
        return `line ${o.line}, /${rest}`;
      }
      const cut = prefix.lastIndexOf('/');
      if (cut <= 0) return null;
      prefix = prefix.slice(0, cut);
    }
  }
}

function fromJsonl(text: string, fail: (errors: FieldError[]) => never, origins: Origins) {
  const out: Record<string, unknown[]> = {};
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const read = parseJsonRecord(line, ErpRecord);
    if ('fieldErrors' in read)
      fail(read.fieldErrors.map((e) => ({ path: `line ${i + 1}${e.path}`, message: e.message })));
    if ('parseError' in read)
      fail([
        {
          path: `line ${i + 1}`,
          message: read.parseError === 'not valid JSON' ? 'is not JSON' : read.parseError,
        },
      ]);
    const rec = read.value;
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec))
      fail([{ path: `line ${i + 1}`, message: 'must be a JSON object with a type' }]);
    const { type, ...body } = rec as Record<string, unknown>;
    const kind = typeof type === 'string' ? ownValue(KINDS, type) : undefined;
    if (!kind) fail([{ path: `line ${i + 1}/type`, message: 'must be purchase_order, receipt or contract' }]);
    const list = (out[kind] ??= []);
    origins.set(`/${kind}/${list.length}`, { line: i + 1 });
    list.push(body);
  });
  return out;
}

/** Every column an ERP CSV may have: the record type, the columns of the five tables and the identifiers. */
const CSV_COLUMNS: ReadonlySet<string> = new Set([
  'record_type',
  ...[PO_HEADER, PO_LINE, RECEIPT, CONTRACT_HEADER, CONTRACT_ITEM].flatMap((t) => Object.keys(t)),
  ...ID_COLUMNS,
]);

/**
 * The errors of a CSV header (at `line 1, column X`): a column named twice (which of its cells
 * would be the value?) and a column no record kind reads (a misspelt `po_numbr` would otherwise be
 * dropped unseen, as the API refuses an unknown field rather than ignore it).
 */
function csvHeaderErrors(header: readonly string[]): FieldError[] {
  const errors: FieldError[] = [];
  header.forEach((h, i) => {
    if (header.indexOf(h) !== i)
      errors.push({ path: `line 1, column ${h}`, message: `is named more than once (column ${i + 1})` });
    else if (!CSV_COLUMNS.has(h))
      errors.push({
        path: `line 1, column ${h}`,
        message: `is not a column of an ERP CSV; the columns are ${[...CSV_COLUMNS].join(', ')}`,
      });
  });
  return errors;
}

function fromCsv(text: string, fail: (errors: FieldError[]) => never, origins: Origins) {
  let rows: { record: Record<string, string>; info: { lines: number } }[];
  let headerErrors: FieldError[] = [];
  const columns = (header: string[]): string[] => {
    headerErrors = csvHeaderErrors(header);
    return header;
  };
  try {
    rows = parse(text, { columns, skip_empty_lines: true, bom: true, info: true }) as typeof rows;
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    fail([{ path: line ? `line ${line}` : '/', message: `is not CSV: ${(e as Error).message}` }]);
  }
  if (headerErrors.length > 0) fail(headerErrors.slice(0, 20));
  /** A header record (PO, contract) built from the first row of its key, with its children. */
  interface Group {
    rec: { children: unknown[]; fields: Record<string, unknown> };
    index: number;
    row: Record<string, string>;
    line: number;
  }
  const pos = new Map<string, Group>();
  const contracts = new Map<string, Group>();
  const receipts: unknown[] = [];
  const errors: FieldError[] = [];
  /** A header column that differs from the group's first row. */
  const differs = (
    cols: readonly string[],
    r: Record<string, string>,
    first: { row: Record<string, string>; line: number },
    line: number,
  ) => {
    for (const c of cols)
      if ((r[c] ?? '') !== (first.row[c] ?? ''))
        errors.push({
          path: `line ${line}, column ${c}`,
          message: `differs from line ${first.line} of the same record`,
        });
  };
  /**
   * The group of a child row: created from the first row of its key (header fields from
   * `cols.header`, origin at `base/index`), later rows checked against that row's header columns.
   * The child's origin is recorded at `base/index/childKey/n`.
   */
  const groupRow = (
    groups: Map<string, Group>,
    key: string,
    cols: { header: Record<string, ColumnKind>; child: Record<string, ColumnKind> },
    paths: { base: string; childKey: string },
    r: Record<string, string>,
    line: number,
  ): Group => {
    let g = groups.get(key);
    if (g) differs(Object.keys(cols.header), r, g, line);
    else {
      g = { rec: { fields: fieldsOf(cols.header, r), children: [] }, index: groups.size, row: r, line };
      groups.set(key, g);
      origins.set(`${paths.base}/${g.index}`, { line, columns: same(Object.keys(cols.header)) });
    }
    origins.set(`${paths.base}/${g.index}/${paths.childKey}/${g.rec.children.length}`, {
      line,
      columns: { ...same(Object.keys(cols.child)), ...idColumns('identifiers/') },
    });
    return g;
  };
  for (const { record: r, info } of rows) {
    // info.lines is the line the row ends on; a quoted value may span lines.
    const line = info.lines - Object.values(r).reduce((n, v) => n + (v.match(/\n/g)?.length ?? 0), 0);
    const numberErrors = numberCellErrors(
      r.record_type === 'receipt'
        ? [RECEIPT]
        : r.record_type === 'po_line'
          ? [PO_HEADER, PO_LINE]
          : r.record_type === 'contract_item'
            ? [CONTRACT_HEADER, CONTRACT_ITEM]
            : [],
      r,
      line,
    );
    for (const e of numberErrors) origins.sayAt(e.path, e.message);
    if (r.record_type === 'receipt') {
      origins.set(`/receipts/${receipts.length}`, { line, columns: same(Object.keys(RECEIPT)) });
      receipts.push(fieldsOf(RECEIPT, r));
    } else if (r.record_type === 'po_line') {
      const po = groupRow(
        pos,
        r.po_number ?? '',
        { header: PO_HEADER, child: PO_LINE },
        { base: '/purchase_orders', childKey: 'lines' },
        r,
        line,
      );
      po.rec.children.push({ ...fieldsOf(PO_LINE, r), ...identifiers(r) });
    } else if (r.record_type === 'contract_item') {
      const c = groupRow(
        contracts,
        r.contract_id ?? '',
        { header: CONTRACT_HEADER, child: CONTRACT_ITEM },
        { base: '/contracts', childKey: 'items' },
        r,
        line,
      );
      c.rec.children.push({ ...fieldsOf(CONTRACT_ITEM, r), identifiers: identifiers(r).identifiers ?? {} });
    } else
      errors.push({
        path: `line ${line}, column record_type`,
        message: 'must be po_line, receipt or contract_item',
      });
  }
  if (errors.length > 0) fail(errors.slice(0, 20));
  return {
    ...(pos.size > 0
      ? { purchase_orders: [...pos.values()].map((p) => ({ ...p.rec.fields, lines: p.rec.children })) }
      : {}),
    ...(receipts.length > 0 ? { receipts } : {}),
    ...(contracts.size > 0
      ? { contracts: [...contracts.values()].map((c) => ({ ...c.rec.fields, items: c.rec.children })) }
      : {}),
  };
}

/**
 * Reads and validates an ERP file, keeping where each record came from (see the module doc).
 * @param now the time of the load: a receipt dated after its day plus one day is refused.
 */
export function openErpFile(path: string, now = new Date()): ErpFile {
  const bytes = readFileSync(path);
  const file = basename(path);
  const ext = extname(path).toLowerCase();
  const origins = new Origins();
  const named = (errors: readonly FieldError[]): FieldError[] =>
    errors.map((e) => {
      const at = origins.name(e.path);
      return at ? { path: at, message: `${origins.said(at) ?? e.message} (${e.path})` } : e;
    });
  const describe = (errors: readonly FieldError[]) =>
    errors.map((e) => `${file} ${e.path}: ${e.message}`).join('; ');
  const fail = (errors: FieldError[]): never => {
    throw new TriageError('TRIAGE_FILE_INVALID', describe(errors), errors);
  };
  // Strict UTF-8 (core/utf8.ts), as the invoice files: a byte that is not UTF-8 refuses the file
  // at its line rather than reach the store as U+FFFD.
  const bad = notUtf8(bytes);
  if (bad !== undefined) fail([{ path: `line ${lineOfOffset(bytes, bad.offset)}`, message: bad.message }]);
  const text = withoutBom(bytes.toString('utf8'));
  let value: unknown;
  if (ext === '.jsonl' || ext === '.ndjson') value = fromJsonl(text, fail, origins);
  else if (ext === '.csv') value = fromCsv(text, fail, origins);
  else
    try {
      value = parseJsonText(text, ErpLoad);
    } catch (e) {
      if (!isTriageError(e)) throw e;
      const at = e.errors[0];
      fail(
        e.code === 'TRIAGE_INPUT_INVALID' || (at && at.path !== '/')
          ? e.errors
          : [{ path: '', message: 'is not JSON' }],
      );
    }
  if (!check.Check(value))
    fail(named(toFieldErrors([...check.Errors(value)] as SchemaErrorLike[]).slice(0, 20)));
  // Text the API's input guard refuses in a body (NUL, other C0 controls, lone surrogates).
  const textErrors: FieldError[] = [];
  checkStrings(value, '', textErrors, 20);
  if (textErrors.length > 0) fail(named(textErrors));
  const load = value as ErpLoad;
  const locate = (e: TriageError): TriageError => {
    const errors = named(e.errors);
    return new TriageError(e.code, `${describe(errors)}; nothing was stored`, errors, { cause: e });
  };
  try {
    checkErpLoad(load, now.toISOString().slice(0, 10));
  } catch (e) {
    if (isTriageError(e)) {
      const errors = named(e.errors);
      throw new TriageError('TRIAGE_FILE_INVALID', describe(errors), errors, { cause: e });
    }
    throw e;
  }
  return { load, locate };
}

/** Reads and validates an ERP file (see the module doc). */
export function readErpFile(path: string): ErpLoad {
  return openErpFile(path).load;
}
