/**
 * The decision response as stored in `decisions.response`, and back. The rules stage lifts
 * each line reason to the invoice's `reasons` with the line's number added to its evidence
 * (inference/stages/rules.ts), so a decision in version 1 carries every such reason twice, about
 * half of its bytes. Stored, a line reason equal to a lifted one is the index of that reason:
 * `{ "reason_ref": k }`, the references of version 2 of the representation
 * (core/decision-v2.ts). Reading expands it back into the same JSON value, so what
 * `GET /v1/decisions/:id`, replays and every other reader serve is unchanged. Rows stored
 * without references read back as they are.
 */
import type { DecisionResponse } from '../core/decision.js';
import { expandReasonRefs, withReasonRefs, type DecisionResponseV2 } from '../core/decision-v2.js';

export type { ReasonRef } from '../core/decision-v2.js';

/** A decision response as stored: line reasons may be {@link ReasonRef}s. */
export type StoredResponse = DecisionResponseV2;

/**
 * The response as stored: each line reason that equals a lifted invoice reason (same JSON but
 * for the `line_number` the lift adds to its evidence) replaced by a {@link ReasonRef}.
 * Lossless: {@link unpackResponse} gives back the same JSON value.
 */
export function packResponse(d: DecisionResponse): StoredResponse {
  return withReasonRefs(d, 'lifted');
}

/**
 * The served response of a stored one (see {@link packResponse}); a response stored without
 * references is returned as it is.
 * @throws Error when a reference points outside `reasons` (a corrupt row).
 */
export function unpackResponse(stored: StoredResponse): DecisionResponse {
  return expandReasonRefs(stored);
}
