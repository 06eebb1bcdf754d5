/**
 * Administration of the service's store from the command line:
 * - `invoice-triage keys create --tenant T --role R [--role R2] [--name N]`, `keys list
 *   --tenant T`, `keys revoke <id> --tenant T`: API keys (the new key is printed once);
 * - `invoice-triage audit verify [--tenant T]`: recomputes the hash-chained audit log; exit
 *   code 1 when a chain is broken.
 */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { checkStrings, displayTextErrors, describeFieldErrors } from '../core/validate.js';
import { openStore, type AuditVerification, type CreatedApiKey, type StoreConfig } from '../store/index.js';
import { isRole, ROLES, type Role } from '../core/auth.js';
import { TriageError } from '../core/errors.js';
import { serviceStore, withStoreFlags, type StoreFlags } from './cli-store.js';

/**
 * Creates an API key in a store (audited with the system as actor).
 * @throws TriageError `TRIAGE_REQUEST_INVALID` for an unknown role or a bad tenant id.
 */
export async function createKey(
  store: StoreConfig,
  spec: { tenant: string; roles: readonly string[]; name?: string },
): Promise<CreatedApiKey> {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(spec.tenant))
    throw new TriageError('TRIAGE_REQUEST_INVALID', 'tenant must be 1-64 letters, digits, ".", "_" or "-"', [
      { path: '--tenant', message: 'is invalid' },
    ]);
  const bad = spec.roles.filter((r) => !isRole(r));
  if (spec.roles.length === 0 || bad.length > 0)
    throw new TriageError('TRIAGE_REQUEST_INVALID', `roles must be among ${ROLES.join(', ')}`, [
      { path: '--role', message: bad.length > 0 ? `unknown: ${bad.join(', ')}` : 'is required' },
    ]);
  // The API's rules for a key name: not blank, not reordered, storable text without control characters.
  const nameErrors = displayTextErrors('--name', spec.name);
  if (spec.name !== undefined) checkStrings(spec.name, '--name', nameErrors);
  if (nameErrors.length > 0)
    throw new TriageError('TRIAGE_REQUEST_INVALID', describeFieldErrors(nameErrors), nameErrors);
  const repo = await openStore(store);
  try {
    return await repo.keys.create(
      {
        tenantId: spec.tenant,
        name: spec.name ?? `cli ${spec.roles.join('+')}`,
        roles: spec.roles as Role[],
      },
      null,
    );
  } finally {
    await repo.close();
  }
}

/** Verifies the audit chain of one tenant, or of every tenant. */
export async function verifyAuditLog(store: StoreConfig, tenant?: string): Promise<AuditVerification[]> {
  const repo = await openStore(store);
  try {
    return tenant ? [await repo.audit.verify(tenant)] : await repo.audit.verifyAll();
  } finally {
    await repo.close();
  }
}

/** Declares the `keys` commands (create, list, revoke) on `program`. */
export function addKeysCommand(program: Command): void {
  const keys = program.command('keys').description('API keys: create, list, revoke');
  withStoreFlags(
    keys
      .command('create')
      .description('Create an API key and print it once (JSON)')
      .requiredOption('--tenant <tenant>', 'tenant of the key')
      .requiredOption(
        '--role <role>',
        `role (${ROLES.join(', ')}); repeat for several`,
        (v: string, acc: string[]) => [...acc, v],
        [] as string[],
      )
      .option('--name <name>', 'what the key is for'),
  ).action(async (o: StoreFlags & { tenant: string; role: string[]; name?: string }) => {
    const k = await createKey(serviceStore(o), {
      tenant: o.tenant,
      roles: o.role,
      ...(o.name !== undefined ? { name: o.name } : {}),
    });
    process.stdout.write(
      JSON.stringify(
        {
          id: k.record.id,
          tenant_id: k.record.tenantId,
          name: k.record.name,
          roles: k.record.roles,
          prefix: k.record.prefix,
          key: k.key,
        },
        null,
        2,
      ) + '\n',
    );
  });
  withStoreFlags(
    keys
      .command('list')
      .description("List a tenant's keys (prefix only)")
      .requiredOption('--tenant <tenant>', 'tenant'),
  ).action(async (o: StoreFlags & { tenant: string }) => {
    const repo = await openStore(serviceStore(o));
    try {
      const t = new Table({
        style: { head: [], border: [] },
        head: ['id', 'prefix', 'name', 'roles', 'created', 'revoked'],
      });
      for (const k of await repo.keys.list(o.tenant))
        t.push([k.id, k.prefix, k.name, k.roles.join(','), k.createdAt, k.revokedAt ?? '']);
      process.stdout.write(t.toString() + '\n');
    } finally {
      await repo.close();
    }
  });
  withStoreFlags(
    keys
      .command('revoke')
      .description('Revoke a key of a tenant')
      .argument('<id>', 'key id')
      .requiredOption('--tenant <tenant>', 'tenant'),
  ).action(async (id: string, o: StoreFlags & { tenant: string }) => {
    const repo = await openStore(serviceStore(o));
    try {
      const rec = await repo.keys.revoke(o.tenant, id, null);
      if (!rec) throw new TriageError('TRIAGE_KEY_NOT_FOUND', `tenant ${o.tenant} has no key ${id}`);
      process.stdout.write(`revoked ${rec.id} (${rec.prefix}) at ${rec.revokedAt}\n`);
    } finally {
      await repo.close();
    }
  });
}

/** Declares the `audit` command (verify) on `program`. */
export function addAuditCommand(program: Command): void {
  const audit = program.command('audit').description('Hash-chained audit log');
  withStoreFlags(
    audit
      .command('verify')
      .description('Recompute the audit chain(s); exit code 1 names the first bad seq')
      .option('--tenant <tenant>', 'only this tenant (default: every tenant)'),
  ).action(async (o: StoreFlags & { tenant?: string }) => {
    const results = await verifyAuditLog(serviceStore(o), o.tenant);
    for (const r of results) {
      process.stdout.write(
        r.ok
          ? `ok      tenant ${r.tenantId}: ${r.rowsChecked} entries, head seq ${r.head.seq} ${r.head.hash}\n`
          : `BROKEN  tenant ${r.tenantId}: first bad seq ${r.firstBadSeq} (${r.problem}) after ${r.rowsChecked} good entries\n`,
      );
    }
    if (results.length === 0) process.stdout.write('no audit entries\n');
    if (results.some((r) => !r.ok)) process.exitCode = 1;
  });
}
