/**
 * The worklist: open exceptions in the documented priority order (expected cost in the invoice's currency, major units: minor units / 100, not converted),
 * with days open, an escalation mark past the tenant's SLA, who has claimed each item, and
 * filters (queue on the server; vendor, reason, facility and minimum age on the loaded items).
 * Keyboard: j or ArrowDown next, k or ArrowUp previous, Enter opens.
 */
import { html } from 'htm/preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from './api.js';
import { money, priorityMoney } from './format.js';
import type { Claim, Session, WorklistItem } from './types.js';

/** Items loaded per request (the API's page limit). */
const PAGE = 500;

export function WorklistView({ session }: { session: Session }) {
  const [queue, setQueue] = useState('');
  const [vendor, setVendor] = useState('');
  const [reason, setReason] = useState('');
  const [facility, setFacility] = useState('');
  const [minAge, setMinAge] = useState('');
  const [items, setItems] = useState<WorklistItem[] | null>(null);
  const [claims, setClaims] = useState<Map<string, Claim>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [cursor, setCursor] = useState(0);
  // The key handler reads the cursor from this ref: keys pressed faster than a re-render
  // (j, k, Enter in one burst) must act on the cursor the previous key left.
  const cursorRef = useRef(0);
  cursorRef.current = cursor;
  const moveTo = (c: number) => {
    cursorRef.current = c;
    setCursor(c);
  };
  const table = useRef<HTMLTableSectionElement>(null);

  useEffect(() => {
    setItems(null);
    Promise.all([
      api<{ items: WorklistItem[] }>(`/v1/worklist?limit=${PAGE}${queue ? `&queue=${queue}` : ''}`),
      api<{ items: Claim[] }>('/v1/worklist/claims'),
    ])
      .then(([w, c]) => {
        setItems(w.items);
        setClaims(new Map(c.items.map((x) => [x.decision_id, x])));
      })
      .catch((e: Error) => setError(e.message));
  }, [queue]);

  const shown = useMemo(
    () =>
      (items ?? []).filter(
        (i) =>
          (!vendor || `${i.vendor.name} ${i.vendor.id}`.toLowerCase().includes(vendor.toLowerCase())) &&
          (!reason || i.reason_codes.includes(reason)) &&
          (!facility || (i.facility_id ?? '') === facility) &&
          (!minAge || i.days_open >= Number(minAge)),
      ),
    [items, vendor, reason, facility, minAge],
  );
  const reasons = [...new Set((items ?? []).flatMap((i) => i.reason_codes))].sort();
  const facilities = [
    ...new Set((items ?? []).map((i) => i.facility_id).filter((f): f is string => !!f)),
  ].sort();

  const open = (i: WorklistItem | undefined) => {
    if (i) location.hash = `#/invoice/${i.decision_id}`;
  };
  const onKey = (e: KeyboardEvent) => {
    if ((e.target as HTMLElement).closest('input, select, textarea')) return;
    if (e.key === 'j' || e.key === 'ArrowDown') moveTo(Math.min(shown.length - 1, cursorRef.current + 1));
    else if (e.key === 'k' || e.key === 'ArrowUp') moveTo(Math.max(0, cursorRef.current - 1));
    else if (e.key === 'Enter') open(shown[cursorRef.current]);
    else return;
    e.preventDefault();
  };
  useEffect(() => {
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  });
  useEffect(() => {
    const row = table.current?.children[cursor] as HTMLElement | undefined;
    row?.focus();
  }, [cursor, shown.length]);

  const input = (set: (v: string) => void) => (e: Event) => {
    set((e.target as HTMLInputElement).value);
    setCursor(0);
  };
  return html`<section aria-labelledby="wl-title">
    <h1 id="wl-title">Worklist</h1>
    <p class="hint" id="wl-keys">
      Keys: <kbd>j</kbd> or <kbd>↓</kbd> next, <kbd>k</kbd> or <kbd>↑</kbd> previous, <kbd>Enter</kbd> open.
      Ordered by priority (expected cost in each invoice's own currency, not converted, so mixed currencies do
      not compare). Items open longer than the SLA (${session.sla_days} days since received) are marked
      escalated.
    </p>
    <form class="filters" aria-label="Filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <label
        >Queue
        <select value=${queue} onChange=${input(setQueue)}>
          <option value="">All</option>
          <option value="coding">coding</option>
          <option value="ap">ap</option>
          <option value="compliance">compliance</option>
        </select></label
      >
      <label>Vendor <input type="search" value=${vendor} onInput=${input(setVendor)} /></label>
      <label
        >Reason
        <select value=${reason} onChange=${input(setReason)}>
          <option value="">All</option>
          ${reasons.map((r) => html`<option value=${r}>${r}</option>`)}
        </select></label
      >
      <label
        >Facility
        <select value=${facility} onChange=${input(setFacility)}>
          <option value="">All</option>
          ${facilities.map((f) => html`<option value=${f}>${f}</option>`)}
        </select></label
      >
      <label
        >Min. days open <input type="number" min="0" value=${minAge} onInput=${input(setMinAge)}
      /></label>
    </form>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${items === null && !error ? html`<p>Loading…</p>` : null}
    ${
      items !== null &&
      html`<p class="count" aria-live="polite">${shown.length} of ${items.length} open items</p>
        <table class="worklist" aria-describedby="wl-keys">
          <thead>
            <tr>
              <th scope="col">Priority</th>
              <th scope="col">Invoice</th>
              <th scope="col">Vendor</th>
              <th scope="col">Facility</th>
              <th scope="col">Queue</th>
              <th scope="col">Reasons</th>
              <th scope="col">Total</th>
              <th scope="col">Days open</th>
              <th scope="col">Claim</th>
            </tr>
          </thead>
          <tbody ref=${table}>
            ${shown.map((i, n) => {
              const claim = claims.get(i.decision_id);
              const escalated = i.days_open > session.sla_days;
              return html`<tr
                key=${i.decision_id}
                tabindex=${n === cursor ? 0 : -1}
                data-decision=${i.decision_id}
                class=${n === cursor ? 'selected' : ''}
                aria-selected=${n === cursor}
                onClick=${() => setCursor(n)}
                onDblClick=${() => open(i)}
              >
                <td class="num">${priorityMoney(i.priority, i.currency)}</td>
                <td>
                  <a href=${`#/invoice/${i.decision_id}`}>${i.invoice_number}</a>
                  <span class=${`badge ${i.decision === 'HOLD' ? 'hold' : 'review'}`}>${i.decision}</span>
                </td>
                <td>${i.vendor.name}</td>
                <td>${i.facility_id ?? '—'}</td>
                <td>${i.queue}</td>
                <td>${i.reason_codes.join(', ')}</td>
                <td class="num">${money(i.total_cents, i.currency)}</td>
                <td class="num">
                  ${i.days_open}${escalated ? html` <span class="badge escalated" title=${`past the ${session.sla_days}-day SLA`}>Escalated</span>` : null}
                </td>
                <td>
                  ${claim ? (claim.claimed_by_me ? 'You' : html`<span class="badge claimed">Claimed by ${claim.key_name ?? 'another reviewer'}</span>`) : '—'}
                </td>
              </tr>`;
            })}
          </tbody>
        </table>`
    }
  </section>`;
}
