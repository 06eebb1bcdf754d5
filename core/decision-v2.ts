/**
 * Version 2 of the decision representation: each reason once. Version 1 (`application/json`)
 * lists every line reason twice: in the line's `lines[].reasons` and, with the line's number
 * added to its evidence, in the invoice's `reasons` (inference/stages/rules.ts lifts it there).
 * Version 2 (`application/vnd.invoice-triage.decision.v2+json`, asked for with `Accept` on
 * `POST /v1/invoices/score` and `GET /v1/decisions/:id`) is the
 * same document with each line reason that is also an invoice reason replaced in
 * `lines[].reasons` by `{ "reason_ref": k }`: the reason is `reasons[k]`, whose evidence names
 * the line (`line_number`). Reasons of a line that are not invoice reasons (weight 0) stay in
 * full in the line. The stored form of a decision uses the same references
 * (store/stored-response.ts).
 */
import Type, { type Static } from 'typebox';
import { DecisionResponse, DecisionWithExplanation, LineResult, Reason } from './decision.js';

/** Media type of version 2 of the decision representation. */
export const DECISION_V2_MEDIA_TYPE = 'application/vnd.invoice-triage.decision.v2+json';

/** A line reason given as the index of the same reason in the decision's `reasons`. */
export const ReasonRef = Type.Object(
  { reason_ref: Type.Integer({ minimum: 0 }) },
  {
    additionalProperties: false,
    description: "The line's reason is reasons[reason_ref] of the decision (its evidence names this line).",
  },
);
export type ReasonRef = Static<typeof ReasonRef>;

/** A line result of version 2: its reasons in full or as {@link ReasonRef}s. */
export const LineResultV2 = Type.Object({
  ...LineResult.properties,
  reasons: Type.Array(Type.Union([ReasonRef, Reason]), {
    description:
      "The line's reasons, in order; a reason that is also in the decision's reasons is { reason_ref: k }.",
  }),
});

const V2_DESCRIPTION =
  'Version 2 (Accept: application/vnd.invoice-triage.decision.v2+json): as application/json, but a line ' +
  "reason that is also one of the decision's reasons is { reason_ref: k } in lines[].reasons.";

/** The decision of `POST /v1/invoices/score` in version 2 (see the module doc). */
export const DecisionResponseV2 = Type.Object(
  { ...DecisionResponse.properties, lines: Type.Array(LineResultV2) },
  { description: V2_DESCRIPTION },
);
export type DecisionResponseV2 = Static<typeof DecisionResponseV2>;

/** A stored decision with its explanation (`GET /v1/decisions/:id`) in version 2. */
export const DecisionWithExplanationV2 = Type.Object(
  { ...DecisionWithExplanation.properties, lines: Type.Array(LineResultV2) },
  { description: V2_DESCRIPTION },
);
export type DecisionWithExplanationV2 = Static<typeof DecisionWithExplanationV2>;

type ReasonV1 = DecisionResponse['reasons'][number];
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

/**
 * Which line reasons become references: `lifted`, those equal to an invoice reason but for the
 * `line_number` the lift adds to its evidence (the stored form: {@link expandReasonRefs} restores
 * them exactly); `copies`, also those whose evidence already named the line and that equal an
 * invoice reason as they are (version 2).
 */
export type ReasonRefMode = 'lifted' | 'copies';

/** True when invoice reason `top` is line `lineNumber`'s reason `line` (see {@link ReasonRefMode}). */
function isCopyOf(top: ReasonV1, line: ReasonV1, lineNumber: number, mode: ReasonRefMode): boolean {
  if (top.code !== line.code || top.weight !== line.weight || top.message !== line.message) return false;
  if (!isObject(line.evidence) || !isObject(top.evidence) || top.evidence.line_number !== lineNumber)
    return false;
  if (jsonKeyCount(top) !== 4 || jsonKeyCount(line) !== 4) return false;
  if (Object.hasOwn(line.evidence, 'line_number'))
    return mode === 'copies' && sameJson(top.evidence, line.evidence);
  return sameJson(top.evidence, line.evidence, 'line_number');
}

/**
 * The decision with each line reason that is an invoice reason (by `mode`) replaced by a
 * {@link ReasonRef} to it; the decision itself when no line reason is.
 */
export function withReasonRefs(d: DecisionResponse, mode: ReasonRefMode): DecisionResponseV2 {
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
      reasons: l.reasons.map((r): ReasonV1 | ReasonRef => {
        const k = byLine
          .get(`${l.line_number}\u0000${r.code}`)
          ?.find((i) => isCopyOf(d.reasons[i]!, r, l.line_number, mode));
        return k === undefined ? r : { reason_ref: k };
      }),
    })),
  };
}

/** True for a {@link ReasonRef}. */
export function isReasonRef(r: ReasonV1 | ReasonRef): r is ReasonRef {
  return typeof (r as Partial<ReasonRef>).reason_ref === 'number';
}

/**
 * Version 1 of a decision whose line reasons are references made in mode `lifted`
 * ({@link withReasonRefs}): each reference is its invoice reason without the `line_number` of
 * its evidence. A decision without references is returned as it is.
 * @throws Error when a reference points outside `reasons` (a corrupt document).
 */
export function expandReasonRefs(d: DecisionResponseV2): DecisionResponse {
  const lines = d.lines;
  if (!Array.isArray(lines) || !lines.some((l) => Array.isArray(l.reasons) && l.reasons.some(isReasonRef)))
    return d as DecisionResponse;
  return {
    ...d,
    lines: lines.map((l) => ({
      ...l,
      reasons: l.reasons.map((r): ReasonV1 => {
        if (!isReasonRef(r)) return r;
        const lifted = d.reasons[r.reason_ref];
        if (!lifted) throw new Error(`decision ${d.decision_id}: no reason ${r.reason_ref}`);
        const { line_number: _lifted, ...evidence } = lifted.evidence;
        return { ...lifted, evidence };
      }),
    })),
  };
}

/** A decision (with or without its explanation) in version 2 of its representation (see the module doc). */
export function decisionV2<D extends DecisionResponse>(d: D): Omit<D, 'lines'> & DecisionResponseV2 {
  return { ...d, lines: withReasonRefs(d, 'copies').lines };
}
