import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { ForbiddenError, ValidationError } from '@mlp/contracts';

/** The 403 code of a URL ingestion refuses to fetch (the default of UrlPolicy's refusals). */
export const SOURCE_NOT_ALLOWED = 'SOURCE_NOT_ALLOWED';

/** What a policy guards, for its refusals and configuration errors. Defaults: ingestion's URL sources. */
export interface UrlPolicyLabels {
  /** The 403 error code. Default SOURCE_NOT_ALLOWED. */
  code?: string;
  /** Names the refused thing in messages and in `details.source`. Default `URL source` / `url`. */
  subject?: string;
  source?: string;
  /** The setting the list comes from, for configuration errors. Default MLP_INGEST_URL_ALLOW. */
  setting?: string;
}

/** An address a URL may be fetched from, as `lookup` gives it. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

type Entry =
  | { kind: 'any'; text: string }
  | { kind: 'host'; host: string; port?: number; text: string }
  | { kind: 'suffix'; suffix: string; port?: number; text: string }
  | { kind: 'cidr'; list: BlockList; text: string };

/**
 * Address ranges that are never fetched unless an entry allows them by
 * address (a CIDR) or by exact host name: `*` and `*.domain` reach public
 * addresses only.
 */
const specialRanges: { label: string; v4?: [string, number][]; v6?: [string, number][] }[] = [
  { label: 'loopback', v4: [['127.0.0.0', 8]], v6: [['::1', 128]] },
  { label: 'link-local (cloud metadata)', v4: [['169.254.0.0', 16]], v6: [['fe80::', 10]] },
  { label: 'private', v4: [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]], v6: [['fc00::', 7], ['fec0::', 10]] },
  { label: 'shared (carrier-grade NAT)', v4: [['100.64.0.0', 10]] },
  {
    label: 'reserved',
    v4: [['0.0.0.0', 8], ['192.0.0.0', 24], ['192.0.2.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4]],
    // unspecified, NAT64 and 6to4 (they embed an IPv4 address), discard, documentation, multicast
    v6: [['::', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['2002::', 16], ['100::', 64], ['2001:db8::', 32], ['ff00::', 8]],
  },
];

const special = specialRanges.map(({ label, v4 = [], v6 = [] }) => {
  const list = new BlockList();
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, 'ipv6');
  return { label, list };
});

/** The kind of special range an address is in, or undefined for a public address. */
export function specialRange(address: string): string | undefined {
  const { ip, family } = normalizeAddress(address);
  return special.find((s) => s.list.check(ip, family === 4 ? 'ipv4' : 'ipv6'))?.label;
}

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, `::ffff:a00:1`) is checked as the IPv4 address it is. */
export function normalizeAddress(address: string): { ip: string; family: 4 | 6 } {
  const bare = address.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 4) return { ip: bare, family: 4 };
  const groups = expandIpv6(bare);
  if (groups && groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return { ip: `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`, family: 4 };
  }
  return { ip: bare.toLowerCase(), family: 6 };
}

function expandIpv6(text: string): number[] | undefined {
  if (isIP(text) !== 6) return undefined;
  let s = text.split('%')[0];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4[1].split('.').map(Number);
    s = `${s.slice(0, -v4[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  if (tail === undefined) return left;
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

const hostPattern = /^(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

/**
 * An allow-list (`MLP_INGEST_URL_ALLOW`, `MLP_WEBHOOK_ALLOW`): comma-separated entries, each `*` (every public
 * host), a host name (`data.example.com`, `*.example.com`), a host and port
 * (`data.example.com:8443`, `[::1]:8080`), an IP address or a CIDR
 * (`10.1.0.0/16`, `fd12::/64`); `none` allows nothing.
 */
export function parseUrlAllowList(value: string, setting = 'MLP_INGEST_URL_ALLOW'): Entry[] {
  const entries: Entry[] = [];
  const bad: string[] = [];
  for (const raw of value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    if (raw === 'none') continue;
    if (raw === '*') {
      entries.push({ kind: 'any', text: raw });
      continue;
    }
    const cidr = /^\[?([0-9a-f:.]+)\]?(?:\/(\d{1,3}))?$/.exec(raw);
    if (cidr && isIP(cidr[1])) {
      const { ip, family } = normalizeAddress(cidr[1]);
      const max = family === 4 ? 32 : 128;
      const prefix = cidr[2] === undefined ? max : Number(cidr[2]) - (family === 4 && isIP(cidr[1]) === 6 ? 96 : 0);
      if (prefix < 0 || prefix > max) {
        bad.push(raw);
        continue;
      }
      const list = new BlockList();
      list.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6');
      entries.push({ kind: 'cidr', list, text: raw });
      continue;
    }
    const hostPort = /^(\[[0-9a-f:.]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(raw);
    const host = hostPort?.[1].replace(/\.$/, '');
    const port = hostPort?.[2] === undefined ? undefined : Number(hostPort[2]);
    if (!host || (port !== undefined && (port < 1 || port > 65535))) {
      bad.push(raw);
      continue;
    }
    const literal = host.replace(/^\[|\]$/g, '');
    if (isIP(literal)) {
      entries.push({ kind: 'host', host: normalizeAddress(literal).ip, port, text: raw });
    } else if (hostPattern.test(host)) {
      entries.push(host.startsWith('*.') ? { kind: 'suffix', suffix: host.slice(1), port, text: raw } : { kind: 'host', host, port, text: raw });
    } else {
      bad.push(raw);
    }
  }
  if (bad.length > 0) {
    throw new ValidationError(
      `invalid configuration:\n  ${setting}: ${bad.map((b) => JSON.stringify(b)).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not a host, host:port, IP, CIDR or *`,
      [{ path: setting, message: `not a host, host:port, IP, CIDR or *: ${bad.join(', ')}` }],
      { code: 'INVALID_CONFIG' },
    );
  }
  return entries;
}

export type Lookup = (host: string) => Promise<ResolvedAddress[]>;

const systemLookup: Lookup = async (host) => (await dnsLookup(host, { all: true, verbatim: true })) as ResolvedAddress[];

/**
 * Which URLs may be fetched (ingestion's URL sources, monitoring's webhooks): http(s) only, to hosts the allow-list
 * names, and to special addresses (loopback, private, link-local/metadata,
 * unique local, reserved) only when an entry names them by address or by
 * exact host. Host names are resolved here and the connection is pinned to
 * the addresses checked, so DNS rebinding cannot swap them.
 */
export class UrlPolicy {
  constructor(
    private readonly entries: readonly Entry[],
    /** How the list was set, for messages: `MLP_INGEST_URL_ALLOW=…` or the mode's default. */
    readonly origin: string,
    private readonly lookup: Lookup = systemLookup,
    private readonly labels: UrlPolicyLabels = {},
  ) {}

  static parse(value: string, origin?: string, lookup?: Lookup, labels: UrlPolicyLabels = {}): UrlPolicy {
    const setting = labels.setting ?? 'MLP_INGEST_URL_ALLOW';
    return new UrlPolicy(parseUrlAllowList(value, setting), origin ?? `${setting}=${value}`, lookup, labels);
  }

  /** The URL, when its scheme is http or https; 403 otherwise. */
  static checkScheme(url: URL, labels: UrlPolicyLabels = {}): URL {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ForbiddenError(`URL scheme "${url.protocol.replace(/:$/, '')}" is not allowed: only http and https URLs are fetched`, {
        code: labels.code ?? SOURCE_NOT_ALLOWED,
        details: { source: labels.source ?? 'url', scheme: url.protocol.replace(/:$/, '') },
      });
    }
    return url;
  }

  /**
   * The addresses `url` may be fetched from (at least one), or 403
   * SOURCE_NOT_ALLOWED. DNS failures are thrown as they are (retryable).
   */
  async resolve(url: URL): Promise<ResolvedAddress[]> {
    UrlPolicy.checkScheme(url, this.labels);
    const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const literal = isIP(host) ? normalizeAddress(host) : undefined;
    const byName = this.entries.filter((e) => matchesName(e, literal?.ip ?? host, port));
    const byAddress = this.entries.filter((e): e is Extract<Entry, { kind: 'cidr' }> => e.kind === 'cidr');
    if (byName.length === 0 && byAddress.length === 0) throw this.refuse(url, `${hostLabel(host, port)} is not in the allow-list`);
    const exact = byName.some((e) => e.kind === 'host');
    const wildcard = byName.length > 0;

    const addresses: ResolvedAddress[] = literal ? [{ address: host, family: isIP(host) as 4 | 6 }] : await this.lookup(host);
    const allowed: ResolvedAddress[] = [];
    const refused: string[] = [];
    for (const a of addresses) {
      const { ip, family } = normalizeAddress(a.address);
      const range = specialRange(ip);
      const inCidr = byAddress.some((e) => e.list.check(ip, family === 4 ? 'ipv4' : 'ipv6'));
      if (inCidr || exact || (wildcard && range === undefined)) allowed.push(a);
      else refused.push(range ? `${ip} (${range})` : ip);
    }
    if (allowed.length === 0) {
      const special = refused.some((r) => r.endsWith(')'));
      const what = literal ? `${hostLabel(host, port)}${special ? ` is a ${specialRange(host)} address` : ''}` : `${hostLabel(host, port)} resolves to ${refused.join(', ')}`;
      const why = special ? 'such addresses must be allowed explicitly, by address, CIDR or exact host name' : 'not in the allow-list';
      throw this.refuse(url, `${what}: ${why}`);
    }
    return allowed;
  }

  /**
   * The pre-check before a job starts: refusals are thrown, a failing DNS
   * lookup is not (the job's own attempts resolve again, with retries).
   */
  async check(url: URL): Promise<void> {
    try {
      await this.resolve(url);
    } catch (err) {
      if (err instanceof ForbiddenError) throw err;
    }
  }

  private refuse(url: URL, why: string): ForbiddenError {
    return new ForbiddenError(`${this.labels.subject ?? 'URL source'} not allowed: ${why}. Allowed hosts come from ${this.origin}`, {
      code: this.labels.code ?? SOURCE_NOT_ALLOWED,
      details: { source: this.labels.source ?? 'url', host: url.hostname },
    });
  }
}

function matchesName(entry: Entry, host: string, port: number): boolean {
  switch (entry.kind) {
    case 'any':
      return true;
    case 'host':
      return entry.host === host && (entry.port === undefined || entry.port === port);
    case 'suffix':
      return host.endsWith(entry.suffix) && (entry.port === undefined || entry.port === port);
    case 'cidr':
      return false;
  }
}

function hostLabel(host: string, port: number): string {
  return `host ${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}
