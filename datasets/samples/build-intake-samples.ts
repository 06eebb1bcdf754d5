/**
 * Builds `datasets/samples/intake/` from `hcpcs_invoices.jsonl` plus one credit note (a full
 * reversal of `hc-2025-0001`): the same 61 invoices in each intake format, with their JSON
 * twins (what converting each document must give, `source` aside):
 *
 * - `hcpcs_invoices.x12`: one ASC X12 810 interchange (61 transaction sets; separators
 *   `*` element, `|` component, `^` repetition, `~` segment terminator);
 *   `hcpcs_invoices.x12.twin.jsonl`: its twins (invoice ids `<ISA06>-<ISA13>-<ST02>`).
 * - `ubl/<invoice_id>.xml`: one UBL 2.1 Invoice (or CreditNote) per invoice.
 * - `hcpcs_invoices.fhir.json`: a FHIR R4 Bundle of 61 Invoice resources.
 * - `hcpcs_invoices.twin.jsonl`: the twins of the UBL and FHIR documents (original ids).
 *
 * Run: `npx tsx datasets/samples/build-intake-samples.ts` (deterministic; `intake.test.ts`
 * checks the committed files equal a rebuild).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Invoice } from '../../core/invoice.js';
import {
  writeFhirBundle,
  writeUbl,
  writeX12,
  x12InvoiceId,
  type X12WriteOptions,
} from '../intake-writers.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Envelope of the sample interchange. */
export const SAMPLE_X12: X12WriteOptions = {
  sender: 'HCEXCHANGE',
  control: 17,
  element: '*',
  component: '|',
  repetition: '^',
  terminator: '~',
  newline: '\n',
};

/** A credit memo fully reversing the first sample invoice. */
export function sampleCreditNote(first: Invoice): Invoice {
  return {
    ...first,
    invoice_id: 'hc-2025-cm-0001',
    invoice_number: `CM-${first.invoice_number}`,
    invoice_date: '2025-01-20',
    due_date: '2025-02-19',
    document_type: 'credit_memo',
    total_cents: -first.total_cents,
    lines: first.lines.map((l) => ({ ...l, quantity: -l.quantity, amount_cents: -l.amount_cents })),
  };
}

/** The 61 invoices the intake samples carry: the HCPCS samples and the credit note. */
export function intakeSampleInvoices(dir = here): Invoice[] {
  const base = readFileSync(join(dir, 'hcpcs_invoices.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Invoice);
  return [...base, sampleCreditNote(base[0]!)];
}

/** Every file of `intake/` by relative path -> content. */
export function buildIntakeSamples(dir = here): Map<string, string> {
  const invoices = intakeSampleInvoices(dir);
  const files = new Map<string, string>();
  const jsonl = (xs: readonly Invoice[]): string => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';
  files.set('hcpcs_invoices.x12', writeX12(invoices, SAMPLE_X12));
  files.set(
    'hcpcs_invoices.x12.twin.jsonl',
    jsonl(invoices.map((inv, i) => ({ ...inv, invoice_id: x12InvoiceId(SAMPLE_X12, i + 1) }))),
  );
  for (const inv of invoices) files.set(`ubl/${inv.invoice_id}.xml`, writeUbl(inv));
  files.set('hcpcs_invoices.fhir.json', writeFhirBundle(invoices) + '\n');
  files.set('hcpcs_invoices.twin.jsonl', jsonl(invoices));
  return files;
}

function main(): void {
  const out = join(here, 'intake');
  mkdirSync(join(out, 'ubl'), { recursive: true });
  const files = buildIntakeSamples();
  for (const [name, content] of files) writeFileSync(join(out, name), content);
  console.log(`wrote ${files.size} files to ${out}`);
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) main();
