/** Test helper: the catalogued error code a function throws. */
import { isTriageError } from '../core/errors.js';

/**
 * Runs `f` and returns the `TriageError` code it throws, null when it returns, or
 * `'not a TriageError'` for any other throw (so a test can never pass on the wrong kind).
 */
export function thrownCode(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    return isTriageError(e) ? e.code : 'not a TriageError';
  }
}
