/** Test support for the intake adapters: the field errors a conversion is refused with. */
import { isTriageError } from '../core/errors.js';
import { convertDocument, type DocumentFormat } from './index.js';

/**
 * The field errors of the 400 that converting `doc` (UTF-8 text) as `format` fails with.
 * @throws Error when the document converts without error; the error itself when it is not a 400.
 */
export async function refusal(
  format: DocumentFormat,
  doc: string,
): Promise<{ path: string; message: string }[]> {
  try {
    await convertDocument(format, Buffer.from(doc, 'utf8'));
  } catch (e) {
    if (isTriageError(e) && e.status === 400) return e.errors;
    throw e;
  }
  throw new Error('converted without error');
}
