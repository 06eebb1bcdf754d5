/**
 * The decision response as stored in `decisions.response`, and back. The rules stage lifts
 * each line reason to the invoice's `reasons` with the line's number added to its evidence
 * (inference/stages/rules.ts), so a served response carries every such reason twice, about
 * half of its bytes. Stored, a line reason equal to a lifted one is the index of that reason:
 * `{ "reason_ref": k }`. Reading expands it back into the same JSON value, so what
 * `GET /v1/decisions/:id`, replays and every other reader serve is unchanged. Rows stored
 * without references read back as they are.
 */
import type { DecisionResponse } from '../core/decision.js';

type Reason = DecisionResponse['reasons'][number];

/** A line reason stored as the index `reason_ref` of its lifted copy in the response's `reasons`. */
export interface ReasonRef {
  reason_ref: number;
}

/** A decision response as stored: line reasons may be {@link ReasonRef}s. */
export type StoredResponse = Omit<DecisionResponse, 'lines'> & {
  lines: (Omit<DecisionResponse['lines'][number], 'reasons'> & { reasons: (Reason | ReasonRef)[] })[];
};

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keys of `o` that JSON keeps (an `undefined` value is dropped by JSON.stringify), but `skip`. */
function jsonKeyCount(o: Record<string, Json>, skip?: string): number {
  let n = 0;
  for (const k in o) if (k !== skip && Object.hasOwn(o, k) && o[k] !== undefined) n++;
  return n;
}

/**
 * True when `a` and `b` serialise to the same JSON value (object key order aside), `a`'s key
 * `skipKeyOfA` left out. A lifted reason shares its values with the line's, so most
 * comparisons end at `===`.
 */
function sameJson(a: Json, b: Json, skipKeyOfA?: string): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (!isObject(a) || !isObject(b)) return false;
  for (const k in b)
    if (Object.hasOwn(b, k) && b[k] !== undefined && (k === skipKeyOfA || !sameJson(a[k], b[k])))
      return false;
  return jsonKeyCount(a, skipKeyOfA) === jsonKeyCount(b);
}

/** True when `lifted` is `line`'s reason lifted to the invoice for line `lineNumber`. */
function isLiftedFrom(lifted: Reason, line: Reason, lineNumber: number): boolean {
  if (lifted.code !== line.code || lifted.weight !== line.weight || lifted.message !== line.message)
    return false;
  if (!isObject(line.evidence) || Object.hasOwn(line.evidence, 'line_number')) return false;
  if (!isObject(lifted.evidence) || lifted.evidence.line_number !== lineNumber) return false;
  if (jsonKeyCount(lifted) !== 4 || jsonKeyCount(line) !== 4) return false;
  return sameJson(lifted.evidence, line.evidence, 'line_number');
}

/**
 * The response as stored: each line reason that equals a lifted invoice reason (same JSON but
 * for the `line_number` the lift adds to its evidence) replaced by a {@link ReasonRef}.
 * Lossless: {@link unpackResponse} gives back the same JSON value.
 */
export function packResponse(d: DecisionResponse): StoredResponse {
  const byLine = new Map<string, number[]>();
  d.reasons.forEach((r, k) => {
    const n = isObject(r.evidence) ? r.evidence.line_number : undefined;
    if (typeof n !== 'number') return;
    const key = `${n}\u0000${r.code}`;
    const ks = byLine.get(key);
    if (ks) ks.push(k);
    else byLine.set(key, [k]);
  });
  if (byLine.size === 0) return d;
  return {
    ...d,
    lines: d.lines.map((l) => ({
      ...l,
      reasons: l.reasons.map((r): Reason | ReasonRef => {
        const k = byLine
          .get(`${l.line_number}\u0000${r.code}`)
          ?.find((i) => isLiftedFrom(d.reasons[i]!, r, l.line_number));
        return k === undefined ? r : { reason_ref: k };
      }),
    })),
  };
}

function isRef(r: Reason | ReasonRef): r is ReasonRef {
  return typeof (r as Partial<ReasonRef>).reason_ref === 'number';
}

/**
 * The served response of a stored one (see {@link packResponse}); a response stored without
 * references is returned as it is.
 * @throws Error when a reference points outside `reasons` (a corrupt row).
 */
export function unpackResponse(stored: StoredResponse): DecisionResponse {
  const lines = stored.lines;
  if (!Array.isArray(lines) || !lines.some((l) => Array.isArray(l.reasons) && l.reasons.some(isRef)))
    return stored as DecisionResponse;
  return {
    ...stored,
    lines: lines.map((l) => ({
      ...l,
      reasons: l.reasons.map((r): Reason => {
        if (!isRef(r)) return r;
        const lifted = stored.reasons[r.reason_ref];
        if (!lifted) throw new Error(`stored decision ${stored.decision_id}: no reason ${r.reason_ref}`);
        const { line_number: _lifted, ...evidence } = lifted.evidence;
        return { ...lifted, evidence };
      }),
    })),
  };
}
