/** Builders for reasons and suggestions in the response's shape. */
import { REASON_CODES, type Reason, type ReasonCode } from '../core/decision.js';

export type { Reason };

/** A suggested replacement code for a line. */
export interface SuggestedCode {
  system: 'HCPCS';
  value: string;
  description: string;
  similarity: number;
}

/** Rounds a probability or weight to 3 decimals for stable output. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** A reason with its catalogue summary as message unless one is given. */
export function reason(
  code: ReasonCode,
  weight: number,
  evidence: Record<string, unknown>,
  message?: string,
): Reason {
  return {
    code,
    message: message ?? REASON_CODES[code].summary,
    weight: round3(Math.min(1, Math.max(0, weight))),
    evidence,
  };
}
