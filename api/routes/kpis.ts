/**
 * Operations KPIs as JSON, one route per figure of the console's dashboard:
 * `GET /v1/kpis/{straight-through|first-pass-match|manual-touch|exception-aging|discount-capture|
 * blocked-by-reason|review-load|auto-approve|score-distributions}` (reviewer, auditor,
 * data-scientist, admin). Each takes the same query (`from`, `to`, `bucket`, `group_by`,
 * `date_field`) and answers `{ figure, title, definition, query, periods, points, ... }`; the
 * definitions and arithmetic are in store/kpis.ts.
 */
import Type from 'typebox';
import { DEFAULT_SLA_DAYS } from '../../inference/policy.js';
import type { ModelCard } from '../../models/card.js';
import { TriageError } from '../../core/errors.js';
import {
  autoApproveSeries,
  blockedByReason,
  daysBetween,
  discountCapture,
  exceptionAging,
  periodsBetween,
  RATE_KPIS,
  rateSeries,
  reviewLoad,
  scoreDistributions,
  type Bucket,
  type CertifiedBound,
  type DecisionFact,
  type GroupBy,
} from '../../store/kpis.js';
import type { ScoringService } from '../../inference/pipeline.js';
import { principalOf } from '../auth.js';
import { problemResponses, PROTECTED, nowOf, type ClockOption, type RoutePlugin } from './common.js';
import type { ApiStore } from '../app.js';

/** Longest range one request may span, days. */
export const KPI_MAX_DAYS = 731;
/** Range when the request names no `from`: this many days up to `to`. */
const DEFAULT_DAYS = 90;

const KpiQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date', description: 'First day (default to - 89 days).' })),
    to: Type.Optional(Type.String({ format: 'date', description: 'Last day (default today, UTC).' })),
    bucket: Type.Optional(
      Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month')], { default: 'week' }),
    ),
    group_by: Type.Optional(
      Type.Union([Type.Literal('none'), Type.Literal('facility'), Type.Literal('vendor')], {
        default: 'none',
        description: 'Split rate and discount figures per facility or vendor.',
      }),
    ),
    date_field: Type.Optional(
      Type.Union([Type.Literal('received'), Type.Literal('invoice')], {
        default: 'received',
        description: "Which date puts an invoice in a period: the day AP received it, or the invoice's date.",
      }),
    ),
  },
  { additionalProperties: false },
);

const KpiResponse = Type.Object({
  figure: Type.String(),
  title: Type.String(),
  definition: Type.String(),
  query: Type.Object({
    from: Type.String({ format: 'date' }),
    to: Type.String({ format: 'date' }),
    bucket: Type.String(),
    group_by: Type.String(),
    date_field: Type.String(),
  }),
  periods: Type.Array(Type.String({ format: 'date' }), { description: 'First day of each period.' }),
  points: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  note: Type.Union([Type.String(), Type.Null()], { description: 'Why a figure is n/a, when it is.' }),
  sla_days: Type.Optional(Type.Integer()),
  bounds: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()))),
});

/** What a figure's handler gets. */
interface FigureInput {
  facts: DecisionFact[];
  periods: string[];
  bucket: Bucket;
  groupBy: GroupBy;
  today: string;
  slaDays: number;
  bounds: CertifiedBound[];
}

interface Figure {
  title: string;
  definition: string;
  compute(x: FigureInput): { points: object[]; note?: string | null; extra?: Record<string, unknown> };
}

const rateFigure = (kpi: keyof typeof RATE_KPIS): Figure => ({
  title: RATE_KPIS[kpi].title,
  definition: RATE_KPIS[kpi].definition,
  compute: (x) => ({ points: rateSeries(x.facts, kpi, x.bucket, x.groupBy) }),
});

/** The dashboard's figures by route name. */
export const FIGURES: Record<string, Figure> = {
  'straight-through': rateFigure('straight-through'),
  'first-pass-match': rateFigure('first-pass-match'),
  'manual-touch': rateFigure('manual-touch'),
  'exception-aging': {
    title: 'Exception aging',
    definition:
      "Exceptions open at each period's end by days since received (0-2, 3-5, 6-10, 11+); past_sla counts those older than the tenant's SLA (policy priority.sla_days).",
    compute: (x) => ({
      points: exceptionAging(x.facts, x.periods, x.bucket, x.groupBy, x.slaDays, x.today),
      extra: { sla_days: x.slaDays },
    }),
  },
  'discount-capture': {
    title: 'Discount capture',
    definition:
      'Of invoices with early-payment terms, those cleared for payment by the discount deadline (auto-approved on or before it, or closed as a false alarm on or before it), by count and cents.',
    compute: (x) => {
      const points = discountCapture(x.facts, x.bucket, x.groupBy);
      const offered = points.some((p) => p.offered > 0);
      return {
        points,
        note: offered
          ? null
          : 'n/a: no invoice in the range has early-payment terms (payment_terms.discount_percent and discount_days).',
      };
    },
  },
  'blocked-by-reason': {
    title: 'Blocked invoices by root cause',
    definition:
      'Invoices not auto-approved (REVIEW or HOLD), per reason code; an invoice counts once per code.',
    compute: (x) => ({ points: blockedByReason(x.facts, x.bucket) }),
  },
  'review-load': {
    title: 'Review load per queue',
    definition:
      "Per queue: exceptions received in the period, items closed by a review in it, and items open at the period's end.",
    compute: (x) => ({ points: reviewLoad(x.facts, x.periods, x.bucket) }),
  },
  'auto-approve': {
    title: 'Auto-approve rate vs certified bound',
    definition:
      "Share of invoices auto-approved; among auto-approved invoices a reviewer labelled, the share confirmed as exceptions, beside each served model card's Learn-then-Test bound (at most alpha, with probability 1 - delta).",
    compute: (x) => ({
      points: autoApproveSeries(x.facts, x.bucket),
      note:
        x.bounds.length === 0 ? 'No served model card certifies a bound (heuristic scorers serve).' : null,
      extra: { bounds: x.bounds },
    }),
  },
  'score-distributions': {
    title: 'Model score distributions',
    definition: 'Counts of coding-mismatch and duplicate scores in ten bins of width 0.1, per period.',
    compute: (x) => ({ points: scoreDistributions(x.facts, x.bucket) }),
  },
};

/** The auto-approve guarantee a trained model's card certifies, or null (external card, none feasible). */
export function certifiedBoundOf(card: ModelCard): CertifiedBound | null {
  const t = card.training?.thresholds.autoApprove;
  if (!t || !t.feasible) return null;
  return {
    model: `${card.name}@${card.version}`,
    alpha: t.alpha,
    delta: t.delta,
    threshold: t.threshold,
    coverage_test: t.coverageTest,
    risk_test: t.riskTest,
  };
}

const operationId = (figure: string) =>
  `getKpi${figure.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())}`;

/** What the KPI routes use. */
export interface KpiRoutesOptions extends ClockOption {
  scoring: Pick<ScoringService, 'policyFor'>;
  store: Pick<ApiStore, 'decisionFacts'>;
  /** Auto-approve bounds of the served model cards; default none. */
  certifiedBounds?: () => CertifiedBound[];
}

/** Registers the routes. */
export const kpiRoutes: RoutePlugin<KpiRoutesOptions> = async (app, deps) => {
  for (const [name, figure] of Object.entries(FIGURES)) {
    app.get(
      `/v1/kpis/${name}`,
      {
        config: { roles: ['reviewer', 'auditor', 'data-scientist', 'admin'] },
        schema: {
          operationId: operationId(name),
          summary: figure.title,
          description: `${figure.definition} At most ${KPI_MAX_DAYS} days per request.`,
          querystring: KpiQuery,
          response: { 200: KpiResponse, ...problemResponses(PROTECTED) },
        },
      },
      async (req) => {
        const p = principalOf(req);
        const today = nowOf(deps).toISOString().slice(0, 10);
        const to = req.query.to ?? today;
        const from =
          req.query.from ??
          new Date(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_DAYS - 1) * 86_400_000)
            .toISOString()
            .slice(0, 10);
        const span = daysBetween(from, to);
        if (span < 0 || span >= KPI_MAX_DAYS)
          throw new TriageError(
            'TRIAGE_REQUEST_INVALID',
            `from..to must span 1 to ${KPI_MAX_DAYS} days (from on or before to, at most ${KPI_MAX_DAYS - 1} days earlier)`,
            [
              {
                path: '/querystring/from',
                message: `must be on or before to, at most ${KPI_MAX_DAYS - 1} days earlier`,
              },
            ],
          );
        const bucket = req.query.bucket ?? 'week';
        const groupBy = req.query.group_by ?? 'none';
        const dateField = req.query.date_field ?? 'received';
        const [facts, policy] = await Promise.all([
          deps.store.decisionFacts({ tenantId: p.tenantId, from, to, dateField }),
          deps.scoring.policyFor(p.tenantId),
        ]);
        const out = figure.compute({
          facts,
          periods: periodsBetween(from, to, bucket),
          bucket,
          groupBy,
          today,
          slaDays: policy.document.priority.sla_days ?? DEFAULT_SLA_DAYS,
          bounds: deps.certifiedBounds?.() ?? [],
        });
        return {
          figure: name,
          title: figure.title,
          definition: figure.definition,
          query: { from, to, bucket, group_by: groupBy, date_field: dateField },
          periods: periodsBetween(from, to, bucket),
          points: out.points as Record<string, unknown>[],
          note: out.note ?? null,
          ...out.extra,
        };
      },
    );
  }
};
