import type { S3ClientConfig } from '@aws-sdk/client-s3';

/** Where an S3-compatible bucket lives and how to reach it (shared by blobs and tus uploads). */
export interface S3Location {
  bucket: string;
  /** An S3-compatible endpoint (MinIO, R2, s3rver, …). Default: AWS for `region`. */
  endpoint?: string;
  /** Default 'us-east-1'. */
  region?: string;
  /** Address buckets as `<endpoint>/<bucket>` instead of `<bucket>.<endpoint>`; most self-hosted servers need it. Default false. */
  forcePathStyle?: boolean;
  /** Default: the AWS SDK's credential chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * The AWS SDK configuration for a location. With a custom endpoint, request and response
 * checksums are sent only where S3 requires them: many S3-compatible servers do not understand the
 * SDK's default streaming (aws-chunked) checksums, and ream verifies every blob by sha256 anyway.
 */
export function s3ClientConfig(location: S3Location): S3ClientConfig {
  return {
    region: location.region ?? 'us-east-1',
    ...(location.endpoint === undefined
      ? {}
      : { endpoint: location.endpoint, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
    ...(location.forcePathStyle === undefined ? {} : { forcePathStyle: location.forcePathStyle }),
    ...(location.credentials === undefined ? {} : { credentials: location.credentials }),
  };
}
