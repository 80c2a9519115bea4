import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SiteFile } from '../site/site.js';
import type { PublishTarget } from './target.js';

export interface S3TargetOptions {
  name: string;
  bucket: string;
  prefix: string;
  region: string;
  endpoint?: string | undefined;
  forcePathStyle: boolean;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
}

/** A client for AWS or any S3-compatible store (`endpoint`), as every S3 target uses it. */
export function createS3Client(options: Omit<S3TargetOptions, 'name' | 'bucket' | 'prefix'>): S3Client {
  return new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    // Only checksums S3 requires: S3-compatible stores differ in what they accept.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
    ...(options.endpoint && { endpoint: options.endpoint }),
    ...(options.accessKeyId &&
      options.secretAccessKey && {
        credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      }),
  });
}

/** A bucket prefix as keys start with it: "" or ending in "/". */
export function keyPrefix(prefix: string): string {
  return prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
}

/** Files uploaded at once (the entry documents go after, one by one). */
const PARALLEL = 6;

/**
 * An S3 bucket (AWS, or any S3-compatible store through `endpoint`). Each file is a PutObject
 * with its Content-Type and Cache-Control. S3 has no multi-object swap, so the order does the
 * work: everything the entry documents point at is written first, then summary.json, banner.json
 * and index.html, so a reader never follows a link to content that is not there yet.
 */
export class S3Target implements PublishTarget {
  readonly type = 's3' as const;
  readonly name: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(options: S3TargetOptions, client?: S3Client) {
    this.name = options.name;
    this.#bucket = options.bucket;
    this.#prefix = keyPrefix(options.prefix);
    this.#client = client ?? createS3Client(options);
  }

  key(path: string): string {
    return `${this.#prefix}${path}`;
  }

  async publish(files: readonly SiteFile[]): Promise<void> {
    const rest = files.filter((f) => !f.entry);
    for (let i = 0; i < rest.length; i += PARALLEL) {
      await Promise.all(rest.slice(i, i + PARALLEL).map((f) => this.#put(f)));
    }
    for (const f of files.filter((f) => f.entry)) await this.#put(f);
  }

  async #put(file: SiteFile): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: this.key(file.path),
        Body: file.body,
        ContentType: file.contentType,
        CacheControl: file.cacheControl,
        ContentLength: file.body.length,
      }),
    );
  }

  close(): void {
    this.#client.destroy();
  }
}
