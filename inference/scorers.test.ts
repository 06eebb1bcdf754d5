import { describe, expect, it } from 'vitest';
import { codingReasonThreshold } from './scorers.js';

describe('codingReasonThreshold', () => {
  it('is min(card threshold, policy coding.review_at), naming which applied', () => {
    expect(codingReasonThreshold(0.2, 0.1)).toEqual({ value: 0.1, source: 'policy' });
    expect(codingReasonThreshold(0.2, 0.3)).toEqual({ value: 0.2, source: 'model-card' });
    expect(codingReasonThreshold(0.2, 0.2)).toEqual({ value: 0.2, source: 'model-card' });
    expect(codingReasonThreshold(0.2, undefined)).toEqual({ value: 0.2, source: 'model-card' });
  });
});
