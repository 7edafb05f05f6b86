import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'minio';
import { InfrastructureError } from '@mlp/contracts';
import { freePort, startS3Server, type RunningS3Server } from '@mlp/testing';
import { describeArtifactStoreContract } from '../contract/artifact-store.contract';
import { S3ArtifactStore, type S3ArtifactStoreOptions } from './s3-artifact-store';

let server: RunningS3Server;

beforeAll(async () => {
  server = await startS3Server();
});

afterAll(async () => {
  await server?.stop();
});

/** Options for a store on the test server, in a bucket of its own. */
function storeOptions(extra: Partial<S3ArtifactStoreOptions> = {}): S3ArtifactStoreOptions {
  const url = new URL(server.endpoint);
  return {
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: server.accessKey,
    secretKey: server.secretKey,
    bucket: `mlp-${randomUUID()}`,
    ...extra,
  };
}

/** Each test gets its own bucket; emptying it keeps the server's temp dir small. */
async function fixture(extra: Partial<S3ArtifactStoreOptions> = {}) {
  const store = new S3ArtifactStore(storeOptions(extra));
  return {
    store,
    async cleanup() {
      for await (const { key } of store.list('')) await store.delete(key);
    },
  };
}

describeArtifactStoreContract('s3 (s3rver)', () => fixture(), { presign: true });

describeArtifactStoreContract('s3 (s3rver) with a key prefix', () => fixture({ prefix: 'team/artifacts' }), {
  presign: true,
});

describe('S3ArtifactStore specifics', () => {
  function rawClient(): Client {
    const url = new URL(server.endpoint);
    return new Client({
      endPoint: url.hostname,
      port: Number(url.port),
      useSSL: false,
      accessKey: server.accessKey,
      secretKey: server.secretKey,
      region: 'us-east-1',
      pathStyle: true,
    });
  }

  it('creates its bucket and keeps keys under the configured prefix', async () => {
    const options = storeOptions({ prefix: 'team/artifacts' });
    const store = new S3ArtifactStore(options);
    const { key } = await store.put(Buffer.from('prefixed'), { contentType: 'text/plain' });
    const names: string[] = [];
    for await (const item of rawClient().listObjectsV2(options.bucket, '', true) as AsyncIterable<{ name: string }>) {
      names.push(item.name);
    }
    expect(names).toEqual([`team/artifacts/${key}`]);
    const stat = await rawClient().statObject(options.bucket, `team/artifacts/${key}`);
    expect(stat.metaData).toEqual(expect.objectContaining({ 'content-type': 'text/plain', sha256: key.slice('sha256/'.length) }));
  });

  it('fails with InfrastructureError when the bucket is missing and creation is off', async () => {
    const options = storeOptions({ createBucket: false });
    const store = new S3ArtifactStore(options);
    await expect(store.put(Buffer.from('x'))).rejects.toBeInstanceOf(InfrastructureError);
    expect(await rawClient().bucketExists(options.bucket)).toBe(false);
  });

  it('wraps connection failures in InfrastructureError with the cause', async () => {
    const store = new S3ArtifactStore(storeOptions({ port: await freePort() }));
    const error = await store.exists('sha256/abc').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as InfrastructureError).cause).toEqual(expect.objectContaining({ code: 'ECONNREFUSED' }));
    expect((error as InfrastructureError).message).toContain('exists "sha256/abc"');
  });

  it('presigns a SigV4 query URL for the object under its prefix', async () => {
    // s3rver does not verify V4 signatures, so the download test alone cannot tell a
    // presigned URL from a plain one: check what minio put into the URL.
    const options = storeOptions({ prefix: 'p' });
    const store = new S3ArtifactStore(options);
    const { key } = await store.put(Buffer.from('signed'));
    const url = new URL(await store.presignGet(key, 90));
    expect(url.origin).toBe(server.endpoint);
    expect(url.pathname).toBe(`/${options.bucket}/p/${key}`);
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('90');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^S3RVER\/\d{8}\/us-east-1\/s3\/aws4_request$/);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });
});
