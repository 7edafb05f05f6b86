import { ForbiddenError, ValidationError } from '@mlp/contracts';
import { normalizeAddress, specialRange, UrlPolicy, type ResolvedAddress } from './url-policy';

/** A policy whose DNS is a fixed table. */
function policy(allow: string, dns: Record<string, string[]> = {}) {
  return UrlPolicy.parse(allow, `MLP_INGEST_URL_ALLOW=${allow}`, async (host) => {
    const addresses = dns[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  });
}

async function refusal(p: UrlPolicy, url: string): Promise<ForbiddenError> {
  const err = await p.resolve(new URL(url)).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ForbiddenError)) throw new Error(`expected a refusal of ${url}, got ${String(err)}`);
  expect(err.code).toBe('SOURCE_NOT_ALLOWED');
  return err;
}

describe('specialRange', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['fe80::1', 'link-local (cloud metadata)'],
    ['10.1.2.3', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.10', 'private'],
    ['fd00::1', 'private'],
    ['fc12::1', 'private'],
    ['100.100.100.200', 'shared (carrier-grade NAT)'],
    ['0.0.0.0', 'reserved'],
    ['::', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['64:ff9b::a9fe:a9fe', 'reserved'],
    // IPv4-mapped IPv6 is the IPv4 address it maps
    ['::ffff:169.254.169.254', 'link-local (cloud metadata)'],
    ['::ffff:a00:1', 'private'],
  ])('%s is %s', (address, label) => {
    expect(specialRange(address)).toBe(label);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111'])('%s is public', (address) => {
    expect(specialRange(address)).toBeUndefined();
  });

  it('reads mapped addresses in both notations', () => {
    expect(normalizeAddress('::ffff:127.0.0.1')).toEqual({ ip: '127.0.0.1', family: 4 });
    expect(normalizeAddress('[::ffff:7f00:1]')).toEqual({ ip: '127.0.0.1', family: 4 });
    expect(normalizeAddress('2001:DB8::1')).toEqual({ ip: '2001:db8::1', family: 6 });
  });
});

describe('UrlPolicy', () => {
  const dns = {
    'data.example.com': ['93.184.216.34'],
    'internal.example.com': ['10.0.0.5'],
    'mixed.example.com': ['10.0.0.6', '93.184.216.35'],
    'metadata.example.com': ['169.254.169.254'],
    'ula.example.com': ['fd00::5'],
    localhost: ['127.0.0.1', '::1'],
  };

  it('lets `*` reach public hosts only', async () => {
    const p = policy('*', dns);
    expect(await p.resolve(new URL('https://data.example.com/x.csv'))).toEqual([{ address: '93.184.216.34', family: 4 }]);
    expect((await refusal(p, 'http://internal.example.com/x')).message).toContain('10.0.0.5 (private)');
    expect((await refusal(p, 'http://metadata.example.com/x')).message).toContain('169.254.169.254 (link-local (cloud metadata))');
    await refusal(p, 'http://ula.example.com/x');
    await refusal(p, 'http://169.254.169.254/latest/meta-data/');
    await refusal(p, 'http://[::ffff:169.254.169.254]/');
    await refusal(p, 'http://[fd00::1]/');
    await refusal(p, 'http://192.168.1.1/');
    await refusal(p, 'http://localhost:8080/');
    // Numeric forms of an address are normalized by the URL parser first.
    await refusal(p, 'http://2130706433/');
    await refusal(p, 'http://0x7f.1/');
    // Only the allowed addresses of a mixed answer are used.
    expect(await p.resolve(new URL('http://mixed.example.com/'))).toEqual([{ address: '93.184.216.35', family: 4 }]);
  });

  it('allows special addresses when named by address, CIDR or exact host', async () => {
    expect(await policy('10.0.0.0/8', dns).resolve(new URL('http://internal.example.com/x'))).toEqual([{ address: '10.0.0.5', family: 4 }]);
    expect(await policy('internal.example.com', dns).resolve(new URL('http://internal.example.com/x'))).toHaveLength(1);
    expect(await policy('169.254.169.254', dns).resolve(new URL('http://169.254.169.254/'))).toHaveLength(1);
    expect(await policy('fd00::/8', dns).resolve(new URL('http://ula.example.com/'))).toEqual([{ address: 'fd00::5', family: 6 }]);
    expect(await policy('127.0.0.0/8,::1', dns).resolve(new URL('http://localhost:9000/'))).toHaveLength(2);
    // A CIDR allows its addresses, not others.
    await refusal(policy('10.0.0.0/8', dns), 'http://data.example.com/');
    await refusal(policy('10.0.0.0/8', dns), 'http://metadata.example.com/');
  });

  it('matches ports and subdomain wildcards', async () => {
    const p = policy('data.example.com:8443,*.example.com', { ...dns, 'a.b.example.com': ['93.184.216.36'] });
    expect(await p.resolve(new URL('https://data.example.com:8443/x'))).toHaveLength(1);
    expect(await p.resolve(new URL('https://a.b.example.com/x'))).toHaveLength(1);
    // The wildcard admits data.example.com on any port, but it is public-only: internal.example.com is refused.
    await refusal(p, 'http://internal.example.com/');
    await refusal(policy('data.example.com:8443', dns), 'https://data.example.com/x');
    await refusal(policy('*.example.com', dns), 'https://example.org/');
  });

  it('refuses everything with `none`, and hosts off the list without asking DNS', async () => {
    const asked: string[] = [];
    const none = UrlPolicy.parse('none', 'x', async (h) => {
      asked.push(h);
      return [];
    });
    expect((await refusal(none, 'https://data.example.com/')).message).toBe(
      'URL source not allowed: host data.example.com:443 is not in the allow-list. Allowed hosts come from x',
    );
    expect(asked).toEqual([]);
  });

  it('refuses schemes other than http and https', async () => {
    for (const url of ['ftp://data.example.com/x', 'file:///etc/passwd', 'gopher://x/']) await refusal(policy('*', dns), url);
  });

  it('lets the pre-check pass a DNS failure through to the job (retried there), but not a refusal', async () => {
    const p = policy('*', dns);
    await expect(p.check(new URL('https://unknown.example.com/'))).resolves.toBeUndefined();
    await expect(p.resolve(new URL('https://unknown.example.com/'))).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(p.check(new URL('http://10.0.0.1/'))).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('names the bad entries of an invalid list', () => {
    let err: unknown;
    try {
      UrlPolicy.parse('data.example.com, 10.0.0.0/40, http://x.com, host:99999');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('INVALID_CONFIG');
    expect((err as ValidationError).message).toBe(
      'invalid configuration:\n  MLP_INGEST_URL_ALLOW: "10.0.0.0/40", "http://x.com", "host:99999" are not a host, host:port, IP, CIDR or *',
    );
  });
});
