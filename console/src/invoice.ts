/**
 * One decision: the invoice header and lines with each line's coding score and suggested codes
 * (CMS descriptions), the model's attribution per line as a chart (base value + contributions +
 * gap = logit), duplicates side by side with the earlier invoice (differing fields highlighted,
 * the invoice-number edit spelled out), PO-matching results when the explanation carries them,
 * the versions that decided, and (reviewers) claim and label buttons.
 */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, apiPath } from './api.js';
import { ChartFigure, PALETTE } from './charts.js';
import { scoreOfReason, tasksWithFindings, type LabelTask } from '../../core/review-tasks.js';
import { money, pct, priorityMoney, text } from './format.js';
import { submitLabel, type ReviewBody } from './labels.js';
import type { Claim, Decision, DuplicateMatch, Invoice, ModelAttribution, Session } from './types.js';

/** Explanation parts this view draws itself; any other part (e.g. PO matching) is rendered generically. */
const KNOWN_PARTS = new Set([
  'reasons',
  'coding_mismatch',
  'duplicate',
  'evidence',
  'routing',
  'priority',
  'versions',
]);

export function InvoiceView({ id, session }: { id: string; session: Session }) {
  const [decision, setDecision] = useState<Decision | null>(null);
  const [invoice, setInvoice] = useState<Invoice | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [claim, setClaim] = useState<Claim | null>(null);
  const [claimError, setClaimError] = useState<string | null>(null);
  const reviewer = session.roles.includes('reviewer');

  useEffect(() => {
    // Inside the promise: an id apiPath refuses is shown as the page's error.
    Promise.resolve()
      .then(() =>
        Promise.all([
          api<Decision>(apiPath`/v1/decisions/${id}`),
          api<Invoice>(apiPath`/v1/decisions/${id}/invoice`),
        ]),
      )
      .then(([d, i]) => {
        setDecision(d);
        setInvoice(i);
      })
      .catch((e: Error) => setError(e.message));
    if (!reviewer) return;
    Promise.resolve()
      .then(() => api<Claim>(apiPath`/v1/worklist/${id}/claim`, { method: 'POST' }))
      .then(setClaim)
      .catch(async (e: ApiError) => {
        if (e.code !== 'TRIAGE_CLAIM_CONFLICT') return setClaimError(e.status === 404 ? null : e.message);
        const held = (await api<{ items: Claim[] }>('/v1/worklist/claims')).items.find(
          (c) => c.decision_id === id,
        );
        setClaimError(
          `Claimed by ${held?.key_name ?? 'another reviewer'} until ${held?.expires_at ?? '?'}: read only.`,
        );
      });
  }, [id]);

  if (error) return html`<p role="alert" class="error">${error}</p>`;
  if (!decision || !invoice) return html`<p>Loading…</p>`;
  const release = async () => {
    await api(apiPath`/v1/worklist/${id}/claim`, { method: 'DELETE' });
    location.hash = '#/worklist';
  };
  const extraParts = Object.entries(decision.explanation ?? {}).filter(([k]) => !KNOWN_PARTS.has(k));
  return html`<article aria-labelledby="inv-title">
    <h1 id="inv-title">
      Invoice ${invoice.invoice_number}
      <span class=${`badge ${decision.decision.toLowerCase()}`}
        >${decision.decision}${decision.queue ? ` · ${decision.queue}` : ''}</span
      >
    </h1>
    ${
      reviewer &&
      html`<p class="claim-status" role="status">
        ${claim ? html`Claimed by you until ${claim.expires_at.slice(11, 16)} UTC. <button type="button" class="secondary" onClick=${release}>Release</button>` : null}
        ${claimError ? html`<span class="badge claimed">${claimError}</span>` : null}
      </p>`
    }
    <${Header} invoice=${invoice} decision=${decision} />
    <${Lines} invoice=${invoice} decision=${decision} />
    <${Reasons} decision=${decision} />
    ${decision.duplicates.length > 0 && html`<${Duplicates} invoice=${invoice} dup=${decision.duplicates[0]!} />`}
    ${extraParts.map(
      ([k, v]) =>
        html`<section aria-labelledby=${`part-${k}`}>
          <h2 id=${`part-${k}`}>${k.replace(/_/g, ' ')}</h2>
          <${Generic} value=${v} />
        </section>`,
    )}
    <${Versions} decision=${decision} />
    ${reviewer && !claimError && decision.decision !== 'AUTO_APPROVE' && html`<${LabelForm} decision=${decision} invoice=${invoice} />`}
  </article>`;
}

function Header({ invoice, decision }: { invoice: Invoice; decision: Decision }) {
  const rows: [string, string][] = [
    [
      'Vendor',
      `${invoice.vendor.name} (${invoice.vendor.id})${invoice.vendor.npi ? `, NPI ${invoice.vendor.npi}` : ''}`,
    ],
    ['Invoice date', invoice.invoice_date],
    ['Received', invoice.received_date ?? '—'],
    ['Due', invoice.due_date ?? '—'],
    ['Document', invoice.document_type],
    ['PO', invoice.po_number ?? '—'],
    ['Facility', invoice.facility_id ?? '—'],
    ['Total', money(invoice.total_cents, invoice.currency)],
    ['Priority', `${priorityMoney(decision.priority, invoice.currency)} expected cost`],
    [
      'Scores',
      `coding mismatch ${pct(decision.scores.coding_mismatch)}, duplicate ${pct(decision.scores.duplicate)}`,
    ],
  ];
  return html`<section aria-labelledby="hdr-title">
    <h2 id="hdr-title">Header</h2>
    <dl class="facts">
      ${rows.map(
        ([k, v]) =>
          html`<div>
            <dt>${k}</dt>
            <dd>${v}</dd>
          </div>`,
      )}
    </dl>
  </section>`;
}

function Lines({ invoice, decision }: { invoice: Invoice; decision: Decision }) {
  const byLine = new Map(decision.lines.map((l) => [l.line_number, l]));
  return html`<section aria-labelledby="lines-title">
    <h2 id="lines-title">Lines</h2>
    <table class="lines">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Code</th>
          <th scope="col">Description</th>
          <th scope="col">Qty</th>
          <th scope="col">Unit price</th>
          <th scope="col">Amount</th>
          <th scope="col">Coding score</th>
          <th scope="col">Suggested codes (CMS)</th>
        </tr>
      </thead>
      <tbody>
        ${invoice.lines.map((l) => {
          const r = byLine.get(l.line_number);
          const risky = (r?.coding_mismatch ?? 0) >= 0.5;
          return html`<tr>
            <td>${l.line_number}</td>
            <td>
              ${l.code ? `${l.code.value}${l.modifiers?.length ? `-${l.modifiers.join('-')}` : ''}` : '—'}
            </td>
            <td class="desc">${l.description}</td>
            <td class="num">${l.quantity}</td>
            <td class="num">${money(l.unit_price_cents, invoice.currency)}</td>
            <td class="num">${money(l.amount_cents, invoice.currency)}</td>
            <td class=${`num ${risky ? 'risky' : ''}`}>
              ${r?.coding_mismatch === null || r === undefined ? 'n/a' : pct(r.coding_mismatch)}
            </td>
            <td>
              ${(r?.suggested_codes ?? []).slice(0, 3).map((s) => html`<div><b>${s.value}</b> ${s.description}</div>`)}
            </td>
          </tr>`;
        })}
      </tbody>
    </table>
  </section>`;
}

function Reasons({ decision }: { decision: Decision }) {
  const explained = (decision.explanation?.coding_mismatch.lines ?? []).filter(
    // Lines worth explaining: a score of at least 5 % with a model attribution or checks to split it over.
    (l) => (l.score ?? 0) >= 0.05 && (l.model !== undefined || l.checks.length > 0),
  );
  const top = [...explained].sort((a, b) => (b.score ?? 0) - (a.score ?? 0)).slice(0, 2);
  return html`<section aria-labelledby="why-title">
    <h2 id="why-title">Reasons</h2>
    <ul class="reasons">
      ${decision.reasons.map(
        (r) => html`<li><b>${r.code}</b> (weight ${r.weight.toFixed(2)}): ${r.message}</li>`,
      )}${decision.reasons.length === 0 ? html`<li>No reason raised.</li>` : null}
    </ul>
    <div class="chart-row">
      ${top.map((l) =>
        l.model
          ? html`<${Attribution} line=${l.line_number} score=${l.score} m=${l.model} />`
          : html`<${CheckShares} line=${l.line_number} score=${l.score} checks=${l.checks} />`,
      )}
    </div>
  </section>`;
}

function Attribution({ line, score, m }: { line: number; score: number | null; m: ModelAttribution }) {
  const parts = [...m.contributions].sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, 8);
  const rest = m.contributions.filter((c) => !parts.includes(c)).reduce((a, c) => a + c.value, 0);
  const labels = ['base value', ...parts.map((c) => c.group), ...(rest !== 0 ? ['other groups'] : []), 'gap'];
  const values = [
    m.base_value,
    ...parts.map((c) => c.value),
    ...(rest !== 0 ? [rest] : []),
    m.completeness_gap,
  ];
  const sum = values.reduce((a, v) => a + v, 0);
  return html`<${ChartFigure}
    id=${`attr-${line}`}
    title=${`Line ${line}: contributions to the ${m.model} logit`}
    caption=${`base ${m.base_value.toFixed(2)} + contributions + gap = ${sum.toFixed(2)} = logit ${m.logit.toFixed(2)} (line score ${pct(score)}). Largest: ${parts
      .slice(0, 3)
      .map((c) => `${c.group} ${c.value >= 0 ? '+' : ''}${c.value.toFixed(2)}`)
      .join(', ')}.`}
    config=${{
      type: 'bar',
      data: {
        labels,
        datasets: [
          {
            label: 'logit contribution',
            data: values,
            backgroundColor: values.map((v) => (v >= 0 ? PALETTE[1] : PALETTE[0])),
          },
        ],
      },
      options: { indexAxis: 'y', plugins: { legend: { display: false } } },
    }}
  />`;
}

/** A heuristic line score split over its checks: the shares add up to the line score. */
function CheckShares({
  line,
  score,
  checks,
}: {
  line: number;
  score: number | null;
  checks: { code: string; share_of_score: number }[];
}) {
  const sum = checks.reduce((a, c) => a + c.share_of_score, 0);
  return html`<${ChartFigure}
    id=${`attr-${line}`}
    title=${`Line ${line}: contributions to the coding score`}
    caption=${`${checks.map((c) => `${c.code} ${pct(c.share_of_score)}`).join(' + ')} = ${pct(sum)} (line score ${pct(score)}).`}
    config=${{
      type: 'bar',
      data: {
        labels: checks.map((c) => c.code),
        datasets: [
          {
            label: 'share of the line score',
            data: checks.map((c) => c.share_of_score),
            backgroundColor: PALETTE[1],
          },
        ],
      },
      options: {
        indexAxis: 'y',
        plugins: { legend: { display: false } },
        scales: { x: { min: 0, max: 1, ticks: { format: { style: 'percent' } } } },
      },
    }}
  />`;
}

function Duplicates({ invoice, dup }: { invoice: Invoice; dup: DuplicateMatch }) {
  const [earlier, setEarlier] = useState<Invoice | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<Invoice>(apiPath`/v1/decisions/${dup.decision_id}/invoice`)
      .then(setEarlier)
      .catch((e: Error) => setError(e.message));
  }, [dup.decision_id]);
  const differs = new Set(dup.differences.map((d) => d.field));
  const edit = dup.differences.find((d) => d.field === 'invoice_number');
  const fields: [string, (i: Invoice) => string][] = [
    ['invoice_id', (i) => i.invoice_id],
    ['invoice_number', (i) => i.invoice_number],
    ['vendor', (i) => `${i.vendor.name} (${i.vendor.id})`],
    ['invoice_date', (i) => i.invoice_date],
    ['total_cents', (i) => money(i.total_cents, i.currency)],
    ['po_number', (i) => i.po_number ?? '—'],
    ['facility_id', (i) => i.facility_id ?? '—'],
    [
      'service_period',
      (i) => (i.service_period ? `${i.service_period.start} – ${i.service_period.end}` : '—'),
    ],
    ['document_type', (i) => i.document_type],
    ['lines', (i) => i.lines.map((l) => `${l.code?.value ?? '—'} × ${l.quantity}`).join(', ')],
  ];
  return html`<section aria-labelledby="dup-title">
    <h2 id="dup-title">Possible duplicate of ${dup.invoice_id}</h2>
    <p>
      ${`Duplicate score ${pct(dup.score)}; the earlier invoice was ${dup.earlier_decision}`}${dup.earlier_approved ? ' and already approved (paying this one pays twice)' : ''}.
    </p>
    ${dup.rebilled_lines && html`<p data-testid="rebilled-lines">Lines billed again: ${dup.rebilled_lines.map((l) => `line ${l.line_number} (earlier line ${l.earlier_line_number}, line-pair score ${pct(l.score)})`).join('; ')}.</p>`}
    ${edit && html`<p class="edit" data-testid="number-edit">Invoice number edit: <code>${text(edit.earlier_value)}</code> → <code>${text(edit.this_value)}</code>${edit.note ? html` (${edit.note})` : null}</p>`}
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${
      earlier &&
      html`<table class="side-by-side">
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">This invoice</th>
            <th scope="col">Earlier invoice</th>
          </tr>
        </thead>
        <tbody>
          ${fields.map(([f, get]) => {
            const a = get(invoice);
            const b = get(earlier);
            const diff = differs.has(f) || a !== b;
            return html`<tr class=${diff ? 'differs' : ''} data-field=${f}>
              <th scope="row">
                ${f}${diff ? html` <span class="badge differs-badge">differs</span>` : null}
              </th>
              <td>${a}</td>
              <td>${b}</td>
            </tr>`;
          })}
        </tbody>
      </table>`
    }
    ${
      dup.differences.length > 0 &&
      html`<ul class="differences">
        ${dup.differences.map((d) => html`<li><b>${d.field}</b>: ${text(d.earlier_value)} → ${text(d.this_value)}${d.note ? ` (${d.note})` : ''}</li>`)}
      </ul>`
    }
  </section>`;
}

function Generic({ value }: { value: unknown }) {
  if (Array.isArray(value))
    return html`<ol>
      ${value.map((v) => html`<li><${Generic} value=${v} /></li>`)}
    </ol>`;
  if (value !== null && typeof value === 'object')
    return html`<dl class="facts">
      ${Object.entries(value).map(
        ([k, v]) =>
          html`<div>
            <dt>${k}</dt>
            <dd><${Generic} value=${v} /></dd>
          </div>`,
      )}
    </dl>`;
  return html`<span>${text(value)}</span>`;
}

function Versions({ decision }: { decision: Decision }) {
  const v = decision.versions;
  return html`<section aria-labelledby="ver-title">
    <h2 id="ver-title">Versions that decided</h2>
    <dl class="facts">
      ${Object.entries(v.models).map(
        ([k, m]) =>
          html`<div>
            <dt>model ${k}</dt>
            <dd>${m}</dd>
          </div>`,
      )}
      <div>
        <dt>policy</dt>
        <dd>${v.policy}</dd>
      </div>
      <div>
        <dt>feature schema</dt>
        <dd>${v.feature_schema}</dd>
      </div>
      <div>
        <dt>reference data</dt>
        <dd>${v.reference_data}</dd>
      </div>
      ${Object.entries(v.thresholds ?? {}).map(
        ([k, s]) =>
          html`<div>
            <dt>threshold ${k}</dt>
            <dd>${s}</dd>
          </div>`,
      )}
    </dl>
  </section>`;
}

/** How the label form names a scored task. */
const TASK_NAMES: Record<LabelTask, string> = { 'coding-mismatch': 'coding', duplicate: 'duplicate' };

/**
 * The label form: the exceptions to review (the duplicate task when the decision has a finding
 * of it, core/review-tasks.ts; each flagged line for the coding task; other), and the outcomes.
 * A stored label returns to the worklist, unless the item stays open because a task with
 * findings has no review yet: then the form names that task and selects it.
 */
function LabelForm({ decision, invoice }: { decision: Decision; invoice: Invoice }) {
  const findings = tasksWithFindings(decision.reasons.map((r) => r.code));
  const exceptions: { value: string; label: string; task: ReviewBody['task']; line?: number }[] = [
    ...(findings.includes('duplicate')
      ? [{ value: 'duplicate', label: 'Duplicate submission', task: 'duplicate' as const }]
      : []),
    // A line is a coding finding by a coding reason or the model's risk; a rule-only line reason
    // (an amount that is not quantity x price, a PO or receipt check) is no coding label.
    ...decision.lines
      .map((l) => ({ l, coding: l.reasons.filter((r) => scoreOfReason(r.code) === 'coding_mismatch') }))
      .filter(({ l, coding }) => coding.length > 0 || (l.coding_mismatch ?? 0) >= 0.5)
      .map(({ l, coding }) => ({
        value: `line-${l.line_number}`,
        label: `Coding, line ${l.line_number} (${coding.map((r) => r.code).join(', ') || 'model risk'})`,
        task: 'coding-mismatch' as const,
        line: l.line_number,
      })),
    { value: 'other', label: 'Other reason (amounts, NPI, totals)', task: 'other' as const },
  ];
  const [which, setWhich] = useState(exceptions[0]!.value);
  const [code, setCode] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  const chosen = exceptions.find((x) => x.value === which) ?? exceptions[0]!;
  const send = async (outcome: ReviewBody['outcome']) => {
    const body: ReviewBody = {
      decision_id: decision.decision_id,
      outcome,
      task: chosen.task,
      ...(chosen.line !== undefined ? { line_number: chosen.line } : {}),
      ...(outcome === 'corrected_code'
        ? { corrected_code: { system: 'HCPCS', value: code.trim().toUpperCase() } }
        : {}),
      idempotency_key: crypto.randomUUID(),
    };
    setStatus('Saving…');
    setFailed(false);
    try {
      const stored = await submitLabel(body, invoice.invoice_number);
      const left = stored.item_status === 'open' ? stored.unreviewed_tasks : [];
      if (left.length === 0) {
        setStatus('Label stored.');
        location.hash = '#/worklist';
        return;
      }
      setStatus(
        `Label stored; the item stays on the worklist. Still to review: ${left.map((t) => TASK_NAMES[t]).join(', ')}.`,
      );
      const next = exceptions.find((x) => x.task === left[0]);
      if (next) setWhich(next.value);
    } catch (e) {
      setFailed(true);
      setStatus(`Not stored: ${(e as Error).message}. It is kept below and can be retried.`);
    }
  };
  return html`<section aria-labelledby="label-title" class="label-form">
    <h2 id="label-title">Label</h2>
    <form onSubmit=${(e: Event) => e.preventDefault()}>
      <label for="label-which">Exception reviewed</label>
      <select
        id="label-which"
        value=${which}
        onChange=${(e: Event) => setWhich((e.target as HTMLSelectElement).value)}
      >
        ${exceptions.map((x) => html`<option value=${x.value}>${x.label}</option>`)}
      </select>
      ${
        chosen.task === 'coding-mismatch' &&
        html`<label for="label-code">Corrected HCPCS code</label>
          <input
            id="label-code"
            value=${code}
            maxlength="5"
            pattern="[A-Za-z][0-9]{4}"
            onInput=${(e: Event) => setCode((e.target as HTMLInputElement).value)}
          />`
      }
      <div class="buttons">
        <button type="button" onClick=${() => send('confirmed')}>Confirm exception</button>
        <button type="button" onClick=${() => send('false_positive')}>False alarm</button>
        ${chosen.task === 'coding-mismatch' && html`<button type="button" disabled=${!/^[A-Za-z]\d{4}$/.test(code.trim())} onClick=${() => send('corrected_code')}>Corrected code</button>`}
      </div>
      ${status && html`<p role=${failed ? 'alert' : 'status'} class=${failed ? 'error' : ''}>${status}</p>`}
    </form>
  </section>`;
}
