import { describe, expect, it } from 'vitest';
import { chunkJobsInFlight } from './chunk-jobs-in-flight.js';

describe('chunkJobsInFlight', () => {
  it('averages the jobs running from the enqueue to the last end, and times the slots left empty', () => {
    // Enqueued at 1,000 ms; two slots; jobs [1,000-11,000], [1,000-11,000], [11,000-16,000].
    const spans = [
      { start: 1_000, end: 11_000 },
      { start: 1_000, end: 11_000 },
      { start: 11_000, end: 16_000 },
    ];
    expect(chunkJobsInFlight(spans, 1_000, 2)).toEqual({
      mean: 25_000 / 15_000,
      firstEndSeconds: 10,
      lastEndSeconds: 15,
      belowSlotsSeconds: 5,
    });
  });

  it('counts the wait before the first job starts as time below the slots', () => {
    const r = chunkJobsInFlight([{ start: 2_000, end: 4_000 }], 1_000, 1);
    expect(r.mean).toBeCloseTo(2 / 3, 12);
    expect(r.belowSlotsSeconds).toBe(1);
  });
});
