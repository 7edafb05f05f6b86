import { join, resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '@mlp/contracts';
import { artifactStoreSchemes, createArtifactStore } from './create-artifact-store';
import { FsArtifactStore } from './fs/fs-artifact-store';
import { fsOptionsFromUrl } from './fs/fs-store-url';
import { S3ArtifactStore } from './s3/s3-artifact-store';
import { s3OptionsFromUrl } from './s3/s3-store-url';

const env = { S3_ENDPOINT: 'http://127.0.0.1:9000', S3_ACCESS_KEY: 'ak', S3_SECRET_KEY: 'sk' };

function problem(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('createArtifactStore', () => {
  it('builds a filesystem store for file:// URLs', () => {
    const store = createArtifactStore('file:///var/lib/mlp/artifacts', {});
    expect(store).toBeInstanceOf(FsArtifactStore);
    expect((store as FsArtifactStore).root).toBe('/var/lib/mlp/artifacts');
    expect((createArtifactStore('file://./.mlp/artifacts', {}) as FsArtifactStore).root).toBe(resolve('.mlp/artifacts'));
  });

  it('builds an S3 store for s3:// URLs', () => {
    const store = createArtifactStore('s3://ml-artifacts/team', env);
    expect(store).toBeInstanceOf(S3ArtifactStore);
    expect((store as S3ArtifactStore).bucket).toBe('ml-artifacts');
  });

  it('accepts the scheme in any case', () => {
    expect(createArtifactStore('FILE:///tmp/x', {})).toBeInstanceOf(FsArtifactStore);
  });

  it.each(['nats://localhost:4222', 'gs://bucket', 'memory://', '/just/a/path', ''])(
    'rejects %j, listing the known schemes',
    (url) => {
      const error = problem(() => createArtifactStore(url, env));
      expect(error.message).toContain('known schemes are file://, s3://');
      expect(error.details).toEqual([expect.objectContaining({ path: 'url' })]);
    },
  );

  it('keeps passwords out of the error message', () => {
    const error = problem(() => createArtifactStore('ftp://user:hunter2@host/x', {}));
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('ftp://***@host/x');
  });

  it('exposes its schemes', () => {
    expect(artifactStoreSchemes).toEqual(['file', 's3']);
  });
});

describe('fsOptionsFromUrl', () => {
  it.each([
    ['file:///abs/dir', '/abs/dir'],
    ['file:///abs/with%20space', '/abs/with space'],
    ['file://localhost/abs/dir', '/abs/dir'],
    ['file://./rel', join('/work', 'rel')],
    ['file://../up', '/up'],
    ['file://.', '/work'],
  ])('maps %s to %s', (url, root) => {
    expect(fsOptionsFromUrl(url, '/work')).toEqual({ root });
  });

  it.each(['file://host/dir', 'file://rel', 'file:///a%2Fb'])('rejects %s', (url) => {
    expect(problem(() => fsOptionsFromUrl(url, '/work')).details).toEqual([expect.objectContaining({ path: 'url' })]);
  });
});

describe('s3OptionsFromUrl', () => {
  it('reads the bucket, prefix, endpoint, keys and region', () => {
    expect(s3OptionsFromUrl('s3://ml-artifacts/team/a/', { ...env, S3_REGION: 'eu-west-1' })).toEqual({
      endPoint: '127.0.0.1',
      port: 9000,
      useSSL: false,
      accessKey: 'ak',
      secretKey: 'sk',
      sessionToken: undefined,
      region: 'eu-west-1',
      bucket: 'ml-artifacts',
      prefix: 'team/a',
      createBucket: true,
    });
  });

  it('falls back to the AWS variable names and defaults', () => {
    const options = s3OptionsFromUrl('s3://bucket', {
      S3_ENDPOINT: 'https://s3.example.com',
      AWS_ACCESS_KEY_ID: 'AKIA',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
      S3_CREATE_BUCKET: 'false',
    });
    expect(options).toEqual(
      expect.objectContaining({
        endPoint: 's3.example.com',
        port: 443,
        useSSL: true,
        accessKey: 'AKIA',
        secretKey: 'secret',
        sessionToken: 'token',
        region: 'us-east-1',
        prefix: undefined,
        createBucket: false,
      }),
    );
  });

  it('prefers the S3_* names over the AWS ones', () => {
    const options = s3OptionsFromUrl('s3://bucket', { ...env, AWS_ACCESS_KEY_ID: 'aws', AWS_SECRET_ACCESS_KEY: 'aws' });
    expect([options.accessKey, options.secretKey]).toEqual(['ak', 'sk']);
  });

  it.each([
    ['s3://Bucket_Upper', env, 'invalid bucket name'],
    ['s3://', env, 'invalid bucket name'],
    ['s3://bucket/a/../b', env, 'has a ".." segment'],
    ['s3://ak:sk@bucket', env, 'credentials in an s3:// URL are not supported'],
    ['s3://bucket', {}, 'S3_ENDPOINT is not set'],
    ['s3://bucket', { S3_ENDPOINT: 'not a url' }, 'is not a URL'],
    ['s3://bucket', { S3_ENDPOINT: 'ftp://host' }, 'must start with http:// or https://'],
    ['s3://bucket', { S3_ENDPOINT: 'http://h', S3_ACCESS_KEY: 'only-one' }, 'set both'],
  ])('rejects %s (%j): %s', (url, vars, reason) => {
    expect(problem(() => new S3ArtifactStore(s3OptionsFromUrl(url, vars))).message).toContain(reason);
  });
});
