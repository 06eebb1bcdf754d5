/** The one time limit on a promise. */

/**
 * Settles like `work`, or rejects with `onTimeout()` when `work` has not settled after `ms`
 * milliseconds. The work is not cancelled; its late outcome is dropped (a late rejection is
 * never reported as unhandled). The timer is cleared as soon as either side settles.
 * @param ms time limit, milliseconds.
 * @param onTimeout the error to reject with (e.g. a `TriageError` with a 503 code).
 */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  work.catch(() => undefined);
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}
