/**
 * Intake: documents in the formats integrators send (ASC X12 810, UBL 2.1 / Peppol BIS 3.0,
 * FHIR R4 Invoice) converted to canonical invoices (core/invoice.ts), each stamped with its
 * `source` (format, sha256 of the document). The API registers a body parser per media type
 * ({@link INTAKE_MEDIA_TYPES}); the CLI picks the format from the file extension.
 */
import type { Invoice, SourceFormat } from '../core/invoice.js';
import { parseJsonBody, type InexactNumbers } from '../api/body/json.js';
import { documentSha256, finishDocument, type ConvertedInvoice } from './document.js';
import { convertFhir } from './fhir.js';
import { convertUbl, ublText } from './ubl.js';
import { convertX12 } from './x12.js';

export { MAX_DOCUMENT_BYTES } from './document.js';

/** Formats an intake adapter reads (every {@link SourceFormat} but JSON). */
export type DocumentFormat = Exclude<SourceFormat, 'json'>;

/** Request media types -> document format. */
export const INTAKE_MEDIA_TYPES: Readonly<Record<string, DocumentFormat>> = {
  'application/edi-x12': 'x12-810',
  'application/xml': 'ubl-2.1',
  'application/fhir+json': 'fhir-r4',
};

/** File extensions (lower case) -> document format, for the CLI. */
export const INTAKE_EXTENSIONS: Readonly<Record<string, DocumentFormat>> = {
  '.x12': 'x12-810',
  '.edi': 'x12-810',
  '.810': 'x12-810',
  '.xml': 'ubl-2.1',
  '.fhir.json': 'fhir-r4',
};

/** Options of {@link convertDocument}. */
export interface ConvertOptions {
  /** Most invoices one document may carry (400 beyond); default unlimited. */
  maxInvoices?: number;
}

/**
 * Converts one document to validated canonical invoices, in document order. All or nothing:
 * any malformed part rejects the whole document.
 * Text is decoded strictly as UTF-8 (core/utf8.ts): a byte that is not UTF-8 refuses the
 * document, naming its byte offset and the segment (X12), line (UBL) or `/` (FHIR).
 * @throws TriageError 400 `TRIAGE_INPUT_INVALID` / `TRIAGE_REQUEST_INVALID` naming the segment
 *   and element (X12), the element path (UBL) or the JSON pointer (FHIR).
 */
export async function convertDocument(
  format: DocumentFormat,
  doc: Buffer,
  opts: ConvertOptions = {},
): Promise<Invoice[]> {
  const sha256 = documentSha256(doc);
  const max = opts.maxInvoices ?? Number.MAX_SAFE_INTEGER;
  let converted: ConvertedInvoice[];
  switch (format) {
    case 'x12-810':
      converted = await convertX12(doc, max);
      break;
    case 'ubl-2.1':
      converted = [convertUbl(ublText(doc), sha256)];
      break;
    case 'fhir-r4': {
      // Numbers the parser rounds are kept as written, so a rounded Money.value is refused.
      const inexact: InexactNumbers = new Map();
      converted = convertFhir(parseJsonBody(doc, undefined, inexact), sha256, max, inexact);
      break;
    }
  }
  return finishDocument(format, sha256, converted);
}
