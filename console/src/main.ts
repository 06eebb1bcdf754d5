/**
 * The review console: sign-in with an API key, then the views the key's roles allow
 * (worklist and invoice for reviewers; audit for auditors; the dashboard for reviewers,
 * auditors, data scientists and admins; API keys for admins). Hash routes: #/worklist,
 * #/invoice/<decision id>, #/audit, #/dashboard, #/admin.
 */
import { html, render } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, apiKey, ApiError } from './api.js';
import type { Role, Session } from './types.js';
import { WorklistView } from './worklist.js';
import { InvoiceView } from './invoice.js';
import { AuditView } from './audit.js';
import { DashboardView } from './dashboard.js';
import { AdminView } from './admin.js';
import { PendingLabels } from './labels.js';

interface ViewDef {
  path: string;
  title: string;
  roles: Role[];
}

/** The views and the roles that see them; a view a key's roles do not allow is neither linked nor rendered. */
export const VIEWS: ViewDef[] = [
  { path: 'worklist', title: 'Worklist', roles: ['reviewer'] },
  { path: 'audit', title: 'Audit', roles: ['auditor'] },
  { path: 'dashboard', title: 'Dashboard', roles: ['reviewer', 'auditor', 'data-scientist', 'admin'] },
  { path: 'admin', title: 'API keys', roles: ['admin'] },
];

/** True when the session holds one of `roles`. */
export const allows = (s: Session, roles: readonly Role[]): boolean => s.roles.some((r) => roles.includes(r));

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function SignIn({ onSignedIn, error }: { onSignedIn: (s: Session) => void; error: string | null }) {
  const [key, setKey] = useState('');
  const [message, setMessage] = useState<string | null>(error);
  const submit = async (e: Event) => {
    e.preventDefault();
    apiKey.set(key.trim());
    try {
      onSignedIn(await api<Session>('/v1/console/session'));
    } catch (err) {
      apiKey.clear();
      setMessage(
        err instanceof ApiError && err.status === 401
          ? 'That API key is unknown or revoked.'
          : String((err as Error).message),
      );
    }
  };
  return html`<main class="signin" aria-labelledby="signin-title">
    <h1 id="signin-title">invoice-triage review console</h1>
    <form onSubmit=${submit}>
      <label for="api-key">API key</label>
      <input
        id="api-key"
        name="api-key"
        type="password"
        autocomplete="off"
        required
        value=${key}
        onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)}
      />
      <button type="submit">Sign in</button>
      ${message && html`<p role="alert" class="error">${message}</p>`}
    </form>
    <p class="hint">The key stays in this tab (sessionStorage) and is sent only to this service.</p>
  </main>`;
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [checking, setChecking] = useState(apiKey.get() !== null);
  const [error, setError] = useState<string | null>(null);
  const hash = useHash();
  useEffect(() => {
    if (!apiKey.get()) return;
    api<Session>('/v1/console/session')
      .then(setSession)
      .catch((e: Error) => {
        apiKey.clear();
        setError(e.message);
      })
      .finally(() => setChecking(false));
  }, []);
  if (checking) return html`<p>Checking your key…</p>`;
  if (!session) return html`<${SignIn} onSignedIn=${setSession} error=${error} />`;

  const visible = VIEWS.filter((v) => allows(session, v.roles));
  const [, route = visible[0]?.path ?? '', arg] = hash.split('/');
  const signOut = () => {
    apiKey.clear();
    setSession(null);
    location.hash = '';
  };
  const view = (() => {
    if (route === 'invoice' && arg && allows(session, ['reviewer', 'auditor']))
      return html`<${InvoiceView} id=${arg} session=${session} />`;
    const def = visible.find((v) => v.path === route);
    if (!def)
      return html`<p role="alert">
        This view is not available for your roles (${session.roles.join(', ')}).
      </p>`;
    if (def.path === 'worklist') return html`<${WorklistView} session=${session} />`;
    if (def.path === 'audit') return html`<${AuditView} />`;
    if (def.path === 'dashboard') return html`<${DashboardView} />`;
    return html`<${AdminView} />`;
  })();
  return html`<div class="shell">
    <a class="skip" href="#main">Skip to content</a>
    <header>
      <span class="brand">invoice-triage</span>
      <nav aria-label="Views">
        ${visible.map(
          (v) =>
            html`<a href=${`#/${v.path}`} aria-current=${route === v.path ? 'page' : undefined}
              >${v.title}</a
            >`,
        )}
      </nav>
      <span class="who">${session.tenant_id} · ${session.roles.join(', ')}</span>
      <button type="button" onClick=${signOut}>Sign out</button>
    </header>
    ${allows(session, ['reviewer']) && html`<${PendingLabels} />`}
    <main id="main" tabindex="-1">${view}</main>
  </div>`;
}

const root = document.getElementById('app')!;
root.replaceChildren(); // drop the static "Loading" text
render(html`<${App} />`, root);
