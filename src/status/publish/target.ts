import type { SiteFile } from '../site/site.js';

/** Somewhere a status site is published to (a folder a web server serves, an S3 bucket). */
export interface PublishTarget {
  readonly name: string;
  readonly type: 'folder' | 's3';
  /** Replace the whole site; readers must never see a half-written update or a missing file. */
  publish(files: readonly SiteFile[], revision: string): Promise<void>;
  close?(): void;
}
