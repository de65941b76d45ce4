import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { fail } from '../errors.js';

/** Where a webhook may be sent: what the operator allows beyond public https addresses. */
export interface OutboundPolicy {
  /** Loopback, private and link-local addresses (CLIENTELE_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** Plain http (CLIENTELE_WEBHOOK_ALLOW_HTTP). */
  allowHttp: boolean;
}

// Every range that is not the public internet: this host, private networks, link-local,
// carrier-grade NAT, benchmarking, documentation, multicast and reserved.
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** True for an address that is not on the public internet. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return blocked.check(mapped[1], 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The URL, if the policy lets webhooks go there; otherwise a 400 naming `path`. */
export function checkUrl(raw: unknown, policy: OutboundPolicy, path = '/url'): URL {
  if (typeof raw !== 'string' || raw.length > 2048) {
    throw fail.field(path, 'must be an absolute http(s) URL of at most 2048 characters');
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail.field(path, 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw fail.field(path, 'must be an http(s) URL');
  }
  if (url.protocol === 'http:' && !policy.allowHttp) {
    throw fail.field(path, 'must be https (plain http is not allowed on this server)');
  }
  if (url.username || url.password) throw fail.field(path, 'must not carry credentials');
  return url;
}

/**
 * The addresses a host name resolves to, refused (400 naming `path`) when any is not
 * public and the policy does not allow it. Checked at creation and again at each
 * delivery, which connects only to an address checked here.
 */
export async function resolvePublic(
  host: string,
  policy: OutboundPolicy,
  path = '/url',
): Promise<{ address: string; family: number }[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  let addresses: { address: string; family: number }[];
  if (isIP(bare)) addresses = [{ address: bare, family: isIP(bare) }];
  else {
    try {
      addresses = await lookup(bare, { all: true, verbatim: true });
    } catch {
      throw fail.field(path, `the host ${JSON.stringify(host)} does not resolve`);
    }
  }
  if (!policy.allowPrivate && addresses.some((a) => isPrivateAddress(a.address))) {
    throw fail.field(
      path,
      'resolves to a loopback, private or link-local address, which this server does not send to',
    );
  }
  return addresses;
}
