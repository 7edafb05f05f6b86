import { join } from 'node:path';
import type { SourceSpec } from '@mlp/contracts';
import { FileRoots, parseRootList } from './file-roots';
import { PgConnections } from './pg-connections';
import { UrlPolicy } from '@mlp/service-kit';
import { checkUrlRedirects } from './url-source';

export const SOURCE_POLICY = Symbol('SOURCE_POLICY');

/** What a request may name as a source: files under the roots, allowed URLs, configured PostgreSQL connections. */
export interface SourcePolicy {
  files: FileRoots;
  urls: UrlPolicy;
  postgres: PgConnections;
}

export interface SourcePolicySettings {
  MLP_INGEST_ROOTS?: string;
  MLP_INGEST_URL_ALLOW?: string;
  MLP_PG_CONNECTIONS?: string;
  /** The platform's data directory: the default root is `<MLP_HOME>/inbox`. */
  MLP_HOME: string;
  /** `nats` (distributed): no URL is allowed by default; otherwise (embedded) loopback is. */
  MLP_TRANSPORT: string;
}

/** Loopback, the default allow-list of the embedded platform. */
export const EMBEDDED_URL_ALLOW = '127.0.0.0/8,::1';

/**
 * The policy from the settings, checked at start: the default inbox is
 * created, configured roots must exist, the URL allow-list and every
 * PostgreSQL connection must parse and their variables be set.
 */
export async function createSourcePolicy(settings: SourcePolicySettings, env: NodeJS.ProcessEnv = process.env): Promise<SourcePolicy> {
  const configured = settings.MLP_INGEST_ROOTS === undefined ? undefined : parseRootList(settings.MLP_INGEST_ROOTS);
  const files = await FileRoots.create(configured ?? [join(settings.MLP_HOME, 'inbox')], { create: configured === undefined });
  const urls =
    settings.MLP_INGEST_URL_ALLOW !== undefined
      ? UrlPolicy.parse(settings.MLP_INGEST_URL_ALLOW)
      : settings.MLP_TRANSPORT === 'nats'
        ? UrlPolicy.parse('none', 'MLP_INGEST_URL_ALLOW (unset: no host is allowed in distributed mode)')
        : UrlPolicy.parse(EMBEDDED_URL_ALLOW, 'MLP_INGEST_URL_ALLOW (unset: loopback only in embedded mode)');
  const postgres = PgConnections.parse(settings.MLP_PG_CONNECTIONS, env);
  return { files, urls, postgres };
}

/**
 * Whether a request's source may be read, before anything is written: 403
 * SOURCE_NOT_ALLOWED for a file outside the roots or a URL the allow-list
 * refuses (the URL's own or one its redirects lead to), 404 for a missing file
 * inside a root, 400 for an unknown connection.
 */
export async function authorizeSource(policy: SourcePolicy, source: SourceSpec): Promise<void> {
  switch (source.kind) {
    case 'file':
      await policy.files.check(source.path);
      return;
    case 'url':
      await policy.urls.check(new URL(source.url));
      // Where its redirects lead is checked too, as far as HEAD requests show it.
      await checkUrlRedirects(source.url, policy.urls);
      return;
    case 'postgres':
      policy.postgres.check(source.connection);
      return;
  }
}
