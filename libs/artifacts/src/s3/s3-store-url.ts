import { ValidationError } from '@mlp/contracts';
import { redactUrl } from '../redact-url';
import type { S3ArtifactStoreOptions } from './s3-artifact-store';

/** Environment variables read for `s3://` URLs (the AWS_* names are fallbacks). */
export interface S3Env {
  S3_ENDPOINT?: string;
  S3_ACCESS_KEY?: string;
  S3_SECRET_KEY?: string;
  S3_SESSION_TOKEN?: string;
  S3_REGION?: string;
  /** 'false' or '0' stops the store from creating a missing bucket. */
  S3_CREATE_BUCKET?: string;
  AWS_ACCESS_KEY_ID?: string;
  AWS_SECRET_ACCESS_KEY?: string;
  AWS_SESSION_TOKEN?: string;
  AWS_REGION?: string;
  [name: string]: string | undefined;
}

const S3_URL = /^s3:\/\/([^/?#]*)(?:\/([^?#]*))?$/i;
// S3 bucket naming rules (lowercase, digits, dots, hyphens; 3-63 characters).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * `s3://bucket[/prefix]` plus the endpoint and credentials from the environment:
 * `S3_ENDPOINT` (e.g. `http://127.0.0.1:9000`), `S3_ACCESS_KEY`/`S3_SECRET_KEY`
 * (or `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`), `S3_REGION` (default us-east-1).
 */
export function s3OptionsFromUrl(url: string, env: S3Env): S3ArtifactStoreOptions {
  const match = S3_URL.exec(url);
  if (!match) throw badConfig('url', `invalid artifact store URL ${JSON.stringify(redactUrl(url))}: expected s3://bucket[/prefix]`);
  const bucket = match[1];
  if (bucket.includes('@')) {
    throw badConfig('url', 'credentials in an s3:// URL are not supported: set S3_ACCESS_KEY and S3_SECRET_KEY');
  }
  if (!BUCKET.test(bucket)) {
    throw badConfig('url', `invalid bucket name ${JSON.stringify(bucket)} in ${JSON.stringify(url)}: use 3-63 lowercase letters, digits, dots or hyphens`);
  }
  const prefix = (match[2] ?? '').replace(/\/+$/, '');

  const endpointText = env.S3_ENDPOINT;
  if (!endpointText) {
    throw badConfig('S3_ENDPOINT', `S3_ENDPOINT is not set: ${url} needs the S3 endpoint URL, e.g. http://127.0.0.1:9000 or https://s3.us-east-1.amazonaws.com`);
  }
  let endpoint: URL;
  try {
    endpoint = new URL(endpointText);
  } catch {
    throw badConfig('S3_ENDPOINT', `S3_ENDPOINT ${JSON.stringify(endpointText)} is not a URL (expected http(s)://host[:port])`);
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
    throw badConfig('S3_ENDPOINT', `S3_ENDPOINT ${JSON.stringify(endpointText)} must start with http:// or https://`);
  }

  const accessKey = env.S3_ACCESS_KEY ?? env.AWS_ACCESS_KEY_ID;
  const secretKey = env.S3_SECRET_KEY ?? env.AWS_SECRET_ACCESS_KEY;
  if (Boolean(accessKey) !== Boolean(secretKey)) {
    throw badConfig('S3_SECRET_KEY', 'set both S3_ACCESS_KEY and S3_SECRET_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or neither for anonymous access');
  }
  const useSSL = endpoint.protocol === 'https:';
  return {
    endPoint: endpoint.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: endpoint.port ? Number(endpoint.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: accessKey || undefined,
    secretKey: secretKey || undefined,
    sessionToken: env.S3_SESSION_TOKEN ?? env.AWS_SESSION_TOKEN,
    region: env.S3_REGION ?? env.AWS_REGION ?? 'us-east-1',
    bucket,
    prefix: prefix || undefined,
    createBucket: !['false', '0'].includes((env.S3_CREATE_BUCKET ?? '').toLowerCase()),
  };
}

function badConfig(field: string, message: string): ValidationError {
  return new ValidationError(message, [{ path: field, message }]);
}
