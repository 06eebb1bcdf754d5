import { describe, expect, it } from 'vitest';
import { roundOrder, summariseRounds, type RoundSample } from './scale-rounds.js';

const sample = (
  point: number,
  round: number,
  cpuMs: number | null,
  latenciesMs: number[],
  load1 = 2,
): RoundSample => ({ point, round, invoices: latenciesMs.length, cpuMs, latenciesMs, load1 });

describe('roundOrder', () => {
  it('rotates the points by one per round', () => {
    expect([0, 1, 2, 3].map((r) => roundOrder(2, r))).toEqual([
      [0, 1],
      [1, 0],
      [0, 1],
      [1, 0],
    ]);
    expect([0, 1, 2].map((r) => roundOrder(3, r))).toEqual([
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
    ]);
  });

  it('rejects impossible shapes', () => {
    expect(() => roundOrder(0, 0)).toThrow(RangeError);
    expect(() => roundOrder(2, -1)).toThrow(RangeError);
    expect(() => roundOrder(1.5, 0)).toThrow(RangeError);
  });
});

describe('summariseRounds', () => {
  const samples = [
    sample(0, 0, 40, [10, 20, 30, 40], 3),
    sample(1, 0, 60, [20, 20, 40, 40], 5),
    sample(1, 1, 80, [30, 30, 30, 30], 7),
    sample(0, 1, 40, [10, 10, 10, 10], 1),
  ];

  it('gives per-round figures and ratios to point 0 of the same round', () => {
    const { rounds } = summariseRounds(samples, 2);
    expect(rounds).toHaveLength(2);
    const [a0, a1] = rounds[0]!;
    expect(a0).toMatchObject({
      point: 0,
      invoices: 4,
      cpuMsPerInvoice: 10,
      p50Ms: 25,
      cpuVsFirst: 1,
      load: [3, 3],
    });
    expect(a1).toMatchObject({ point: 1, cpuMsPerInvoice: 15, p50Ms: 30, load: [5, 5] });
    expect(a1!.cpuVsFirst).toBeCloseTo(1.5, 12);
    expect(a1!.p50VsFirst).toBeCloseTo(30 / 25, 12);
    const [b0, b1] = rounds[1]!;
    expect(b0!.p50Ms).toBe(10);
    expect(b1!.cpuVsFirst).toBeCloseTo(2, 12);
    expect(b1!.p50VsFirst).toBeCloseTo(3, 12);
  });

  it('pools CPU by sum and latencies before taking percentiles, not averaging rounds', () => {
    const { pooled } = summariseRounds(samples, 2);
    expect(pooled[0]).toMatchObject({ point: 0, invoices: 8, cpuMsPerInvoice: 10, load: [1, 3] });
    // Point 0's pooled latencies: 10,10,10,10,10,20,30,40 -> median 10.
    expect(pooled[0]!.p50Ms).toBe(10);
    // Point 1: (60 + 80) / 8 = 17.5 ms; latencies 20,20,30,30,30,30,40,40 -> median 30.
    expect(pooled[1]!.cpuMsPerInvoice).toBeCloseTo(17.5, 12);
    expect(pooled[1]!.cpuVsFirst).toBeCloseTo(1.75, 12);
    expect(pooled[1]!.p50VsFirst).toBeCloseTo(3, 12);
    expect(pooled[1]!.load).toEqual([5, 7]);
  });

  it('reports CPU as unknown when any block could not read it', () => {
    const s = [sample(0, 0, 10, [1]), sample(1, 0, null, [1])];
    const { pooled } = summariseRounds(s, 2);
    expect(pooled[1]!.cpuMsPerInvoice).toBeNull();
    expect(pooled[1]!.cpuVsFirst).toBeNull();
    expect(pooled[0]!.cpuVsFirst).toBe(1);
  });

  it('refuses bookkeeping with a missing, doubled or unknown block', () => {
    expect(() =>
      summariseRounds([sample(0, 0, 1, [1]), sample(1, 1, 1, [1]), sample(0, 1, 1, [1])], 2),
    ).toThrow('no sample of point 1 in round 0');
    expect(() => summariseRounds([sample(0, 0, 1, [1]), sample(0, 0, 1, [1])], 1)).toThrow('two samples');
    expect(() => summariseRounds([sample(2, 0, 1, [1])], 2)).toThrow('unknown point 2');
  });
});
