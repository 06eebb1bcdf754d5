/**
 * Where webhooks may go. A subscription URL must be `https://`, or `http://` to a loopback
 * address when the operator allows loopback (`WEBHOOK_ALLOW_LOOPBACK=1`, used by tests and
 * local development); no credentials in the URL, no fragment. Every address the host resolves
 * to must be public unicast: loopback only with that flag; private, link-local (cloud metadata
 * at 169.254.169.254), unique-local and carrier-grade NAT ranges only with
 * `WEBHOOK_ALLOW_PRIVATE=1`; unspecified, multicast, broadcast and reserved ranges never.
 *
 * The check runs when a subscription is created and again at every delivery, on the address
 * actually connected to (the `lookup` of the HTTP agent), so a DNS change cannot redirect
 * deliveries to an internal address. Ranges are classified by ipaddr.js.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';

/** What the operator allows. */
export interface UrlPolicy {
  /** Loopback targets, over http or https (`WEBHOOK_ALLOW_LOOPBACK`). */
  allowLoopback: boolean;
  /** Private, link-local, unique-local and CGNAT targets (`WEBHOOK_ALLOW_PRIVATE`). */
  allowPrivate: boolean;
}

const PRIVATE_RANGES = new Set(['private', 'linkLocal', 'uniqueLocal', 'carrierGradeNat']);

/** Why an address may not be a webhook target, or null when it may. */
export function addressRefusal(address: string, policy: UrlPolicy): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const range = ipaddr.process(address).range();
  if (range === 'unicast') return null;
  if (range === 'loopback') return policy.allowLoopback ? null : 'resolves to a loopback address';
  if (PRIVATE_RANGES.has(range) && policy.allowPrivate) return null;
  // The range as ipaddr.js names it (private, linkLocal, unspecified, multicast...).
  return `resolves to an address in the ${range} range`;
}

const hostOf = (u: URL): string => u.hostname.replace(/^\[|\]$/g, '');

/**
 * Checks a URL without network access (scheme, credentials, fragment, literal addresses).
 * @returns why it is refused, or null.
 */
export function urlRefusal(raw: string, policy: UrlPolicy): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'is not an absolute URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must use https';
  if (u.username || u.password) return 'must not contain credentials';
  if (u.hash) return 'must not contain a fragment';
  const host = hostOf(u);
  const literal = ipaddr.isValid(host);
  const loopbackName = host === 'localhost' || host.endsWith('.localhost');
  if (u.protocol === 'http:') {
    const loopback = loopbackName || (literal && ipaddr.process(host).range() === 'loopback');
    if (!loopback) return 'must use https (http is allowed to loopback addresses only)';
    if (!policy.allowLoopback) return 'must use https (http to loopback is not enabled on this server)';
  }
  if (literal) return addressRefusal(host, policy);
  if (loopbackName && !policy.allowLoopback) return 'resolves to a loopback address';
  return null;
}

type LookupAll = (host: string) => Promise<LookupAddress[]>;
const lookupAll: LookupAll = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );

/**
 * {@link urlRefusal}, then resolves the host and checks every address.
 * @returns why the URL is refused, or null.
 */
export async function targetRefusal(
  raw: string,
  policy: UrlPolicy,
  resolve: LookupAll = lookupAll,
): Promise<string | null> {
  const syntactic = urlRefusal(raw, policy);
  if (syntactic) return syntactic;
  const host = hostOf(new URL(raw));
  if (ipaddr.isValid(host)) return null;
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch {
    return 'host does not resolve';
  }
  if (addresses.length === 0) return 'host does not resolve';
  for (const a of addresses) {
    const why = addressRefusal(a.address, policy);
    if (why) return why;
  }
  return null;
}

/**
 * A `net.connect` lookup that resolves like `dns.lookup` and fails when any address is refused,
 * so the connection is only ever opened to an allowed address.
 */
export function guardedLookup(policy: UrlPolicy) {
  return (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.map((a) => addressRefusal(a.address, policy)).find((r) => r !== null);
      if (refused) {
        const e: NodeJS.ErrnoException = new Error(`webhook target ${refused}`);
        e.code = 'ETARGETREFUSED';
        return callback(e, '', 0);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}
