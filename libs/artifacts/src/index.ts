export * from './artifact-store';
export { contentKey, validateKey, validatePrefix, MAX_KEY_LENGTH, MAX_SEGMENT_LENGTH } from './keys';
export { BaseArtifactStore, DEFAULT_CONTENT_TYPE } from './base-artifact-store';
export type { StagedContent } from './staged-content';
export { FsArtifactStore, type FsArtifactStoreOptions } from './fs/fs-artifact-store';
export { S3ArtifactStore, type S3ArtifactStoreOptions, DEFAULT_PART_SIZE, MAX_PRESIGN_SECONDS } from './s3/s3-artifact-store';
export { s3OptionsFromUrl, type S3Env } from './s3/s3-store-url';
export { fsOptionsFromUrl } from './fs/fs-store-url';
export { createArtifactStore, artifactStoreSchemes } from './create-artifact-store';
