/**
 * Audit (auditor): verify the tenant's hash chain, read a decision's full history, export a
 * date range as JSON Lines or CSV.
 */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, apiBlob, apiPath } from './api.js';
import type { AuditEntry } from './types.js';

interface Verification {
  ok: boolean;
  rows_checked: number;
  head: { seq: number; hash: string };
  first_bad_seq: number | null;
  problem: string | null;
}

const today = () => new Date().toISOString().slice(0, 10);

export function AuditView() {
  const [verify, setVerify] = useState<Verification | null>(null);
  const [decisionId, setDecisionId] = useState(location.hash.split('/')[2] ?? '');
  const [history, setHistory] = useState<AuditEntry[] | null>(null);
  const [from, setFrom] = useState(today());
  const [to, setTo] = useState(today());
  const [format, setFormat] = useState<'jsonl' | 'csv'>('jsonl');
  const [error, setError] = useState<string | null>(null);
  const run = (f: () => Promise<void>) => () => {
    setError(null);
    f().catch((e: Error) => setError(e.message));
  };
  const download = run(async () => {
    const blob = await apiBlob(`/v1/audit/export?from=${from}&to=${to}&format=${format}`);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `audit-${from}-${to}.${format}`;
    a.click();
    URL.revokeObjectURL(a.href);
  });
  return html`<section aria-labelledby="audit-title">
    <h1 id="audit-title">Audit</h1>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    <section aria-labelledby="verify-title">
      <h2 id="verify-title">Hash chain</h2>
      <button
        type="button"
        onClick=${run(async () => setVerify(await api<Verification>('/v1/audit/verify')))}
      >
        Verify the audit chain
      </button>
      ${
        verify &&
        html`<p role="status" class=${verify.ok ? 'ok' : 'error'} data-testid="verify-result">
          ${
            verify.ok
              ? `Chain intact: ${verify.rows_checked} entries checked, head #${verify.head.seq} ${verify.head.hash.slice(0, 16)}…`
              : `Chain broken at entry #${verify.first_bad_seq} (${verify.problem}) after ${verify.rows_checked} entries.`
          }
        </p>`
      }
    </section>
    <section aria-labelledby="hist-title">
      <h2 id="hist-title">Decision history</h2>
      <form
        class="inline"
        onSubmit=${(e: Event) => {
          e.preventDefault();
          run(async () =>
            setHistory(
              (await api<{ items: AuditEntry[] }>(apiPath`/v1/decisions/${decisionId.trim()}/history`)).items,
            ),
          )();
        }}
      >
        <label for="hist-id">Decision id</label>
        <input
          id="hist-id"
          size="38"
          value=${decisionId}
          onInput=${(e: Event) => setDecisionId((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Show history</button>
      </form>
      ${
        history &&
        html`<ol class="timeline">
          ${history.map(
            (e) =>
              html`<li>
                <b>${e.kind}</b> <time>${e.ts}</time> by ${e.actor_key_id ?? 'system'} · entry #${e.seq}
                <details>
                  <summary>payload</summary>
                  <pre>${JSON.stringify(e.payload, null, 2)}</pre>
                </details>
              </li>`,
          )}
        </ol>`
      }
    </section>
    <section aria-labelledby="exp-title">
      <h2 id="exp-title">Export</h2>
      <form
        class="inline"
        onSubmit=${(e: Event) => {
          e.preventDefault();
          download();
        }}
      >
        <label for="exp-from">From</label
        ><input
          id="exp-from"
          type="date"
          value=${from}
          onInput=${(e: Event) => setFrom((e.target as HTMLInputElement).value)}
        />
        <label for="exp-to">To</label
        ><input
          id="exp-to"
          type="date"
          value=${to}
          onInput=${(e: Event) => setTo((e.target as HTMLInputElement).value)}
        />
        <label for="exp-format">Format</label>
        <select
          id="exp-format"
          value=${format}
          onChange=${(e: Event) => setFormat((e.target as HTMLSelectElement).value as 'jsonl' | 'csv')}
        >
          <option value="jsonl">JSON Lines</option>
          <option value="csv">CSV</option>
        </select>
        <button type="submit">Export</button>
      </form>
    </section>
  </section>`;
}
