import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ResolvedAddress } from './url-policy';

export interface PinnedRequestOptions {
  method?: string;
  headers: OutgoingHttpHeaders;
  /** Addresses a UrlPolicy checked: the connection goes to one of them, never to a second DNS answer. */
  addresses: ResolvedAddress[];
  signal?: AbortSignal;
  body?: string | Buffer;
}

/** One request to `url` on a fresh connection pinned to `addresses`; resolves with the response head. */
export function pinnedRequest(url: URL, opts: PinnedRequestOptions): Promise<IncomingMessage> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const { addresses } = opts;
  const lookup = (_host: string, options: unknown, callback: (...args: unknown[]) => void) => {
    if (typeof options === 'object' && options !== null && (options as { all?: boolean }).all) callback(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  };
  return new Promise((resolvePromise, reject) => {
    const req = send(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        signal: opts.signal,
        agent: false, // a fresh connection, to the address just checked
        lookup: lookup as never,
      },
      resolvePromise,
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}
