/** API keys of the tenant (admin only): list and revoke. */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, apiPath } from './api.js';

interface Key {
  id: string;
  name: string;
  roles: string[];
  prefix: string;
  created_at: string;
  revoked_at: string | null;
}

export function AdminView() {
  const [keys, setKeys] = useState<Key[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    api<{ items: Key[] }>('/v1/keys')
      .then((r) => setKeys(r.items))
      .catch((e: Error) => setError(e.message));
  useEffect(() => void load(), []);
  const revoke = async (k: Key) => {
    if (!confirm(`Revoke key ${k.name} (${k.prefix}…)?`)) return;
    await api(apiPath`/v1/keys/${k.id}`, { method: 'DELETE' }).catch((e: Error) => setError(e.message));
    await load();
  };
  return html`<section aria-labelledby="keys-title">
    <h1 id="keys-title">API keys</h1>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${
      keys &&
      html`<table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Roles</th>
            <th scope="col">Prefix</th>
            <th scope="col">Created</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          ${keys.map(
            (k) =>
              html`<tr>
                <td>${k.name}</td>
                <td>${k.roles.join(', ')}</td>
                <td><code>${k.prefix}</code></td>
                <td>${k.created_at.slice(0, 10)}</td>
                <td>
                  ${k.revoked_at ? `revoked ${k.revoked_at.slice(0, 10)}` : html`<button type="button" class="danger" onClick=${() => revoke(k)}>Revoke</button>`}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>`
    }
  </section>`;
}
