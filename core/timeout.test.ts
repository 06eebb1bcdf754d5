import { describe, expect, it } from 'vitest';
import { timeoutSignal, untilAborted, withTimeout } from './timeout.js';

describe('untilAborted', () => {
  it('settles like the work while the signal stays quiet, and stops listening afterwards', async () => {
    const c = new AbortController();
    await expect(untilAborted(Promise.resolve(7), c.signal)).resolves.toBe(7);
    await expect(untilAborted(Promise.reject(new Error('work failed')), c.signal)).rejects.toThrow(
      'work failed',
    );
    // An abort after the work settled changes nothing (and nothing is left unhandled).
    c.abort(new Error('late'));
  });

  it("rejects with the signal's reason when it aborts first, or at once when it already has", async () => {
    const c = new AbortController();
    let finish!: (v: number) => void;
    const work = new Promise<number>((r) => (finish = r));
    const given = untilAborted(work, c.signal);
    c.abort(new Error('deadline'));
    await expect(given).rejects.toThrow('deadline');
    finish(1);
    await expect(untilAborted(Promise.resolve(2), c.signal)).rejects.toThrow('deadline');
    const late = untilAborted(Promise.reject(new Error('late failure')), c.signal);
    await expect(late).rejects.toThrow('deadline');
  });
});

describe('timeoutSignal and withTimeout', () => {
  it('aborts with the given reason after the time limit, and not once cleared', async () => {
    const t = timeoutSignal(20, () => new Error('too slow'));
    await new Promise((r) => setTimeout(r, 60));
    expect(t.signal.aborted).toBe(true);
    expect((t.signal.reason as Error).message).toBe('too slow');
    const cleared = timeoutSignal(20, () => new Error('too slow'));
    cleared.clear();
    await new Promise((r) => setTimeout(r, 60));
    expect(cleared.signal.aborted).toBe(false);
    await expect(withTimeout(new Promise(() => undefined), 20, () => new Error('timed out'))).rejects.toThrow(
      'timed out',
    );
    await expect(withTimeout(Promise.resolve('done'), 1000, () => new Error('timed out'))).resolves.toBe(
      'done',
    );
  });
});
