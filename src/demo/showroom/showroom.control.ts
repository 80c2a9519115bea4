import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../core/errors.js';
import type { FailureMode, Scenario } from './entry-points.js';
import { CONTROL_PREFIX, type Showroom, type ShowroomControl, type ShowroomState } from './showroom.js';

/**
 * The running demo's showroom, for another process (`keepwarm drill`): its URL and control token,
 * in a file readable by the owner only inside the demo's data folder. Never printed.
 */
export const CONTROL_FILE = 'showroom-control.json';

interface ControlFile {
  url: string;
  token: string;
  pid: number;
}

export async function writeShowroomControlFile(dataDir: string, showroom: Showroom): Promise<string> {
  const path = join(dataDir, CONTROL_FILE);
  const content: ControlFile = { url: showroom.url, token: showroom.controlToken, pid: process.pid };
  // Replace rather than rewrite in place, so the mode of a new file applies.
  await rm(path, { force: true });
  await writeFile(path, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  return path;
}

export async function removeShowroomControlFile(dataDir: string): Promise<void> {
  await rm(join(dataDir, CONTROL_FILE), { force: true });
}

/** The control client of the demo showroom running on `dataDir`; a clear error when there is none. */
export async function connectShowroomControl(dataDir: string, fetchImpl: typeof fetch = fetch): Promise<ShowroomControlClient> {
  const path = join(dataDir, CONTROL_FILE);
  let parsed: Partial<ControlFile>;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<ControlFile>;
  } catch {
    throw new AppError(
      409,
      'showroom_not_running',
      `No demo showroom runs on the data folder ${dataDir} (no readable ${CONTROL_FILE}): start \`keepwarm demo\` with the same --data-dir first.`,
    );
  }
  if (typeof parsed.url !== 'string' || typeof parsed.token !== 'string')
    throw new AppError(409, 'showroom_not_running', `${path} is not a showroom control file (url and token expected).`);
  return new ShowroomControlClient(parsed.url, parsed.token, fetchImpl);
}

/** The showroom's control endpoint over HTTP: the same levers as the in-process Showroom. */
export class ShowroomControlClient implements ShowroomControl {
  constructor(
    readonly url: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  breakEntry(scenario: Scenario, mode?: FailureMode): Promise<ShowroomState> {
    return this.#call('POST', 'break', { scenario, ...(mode !== undefined && { mode }) });
  }

  restore(scenario?: Scenario): Promise<ShowroomState> {
    return this.#call('POST', 'restore', scenario === undefined ? {} : { scenario });
  }

  state(): Promise<ShowroomState> {
    return this.#call('GET', 'state');
  }

  async #call(method: 'GET' | 'POST', action: string, body?: unknown): Promise<ShowroomState> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.url}${CONTROL_PREFIX}${action}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(5_000),
      });
    } catch (err) {
      throw new AppError(
        503,
        'showroom_unreachable',
        `The demo showroom at ${this.url} does not answer (${err instanceof Error ? err.message : String(err)}): is \`keepwarm demo\` still running?`,
      );
    }
    const text = await res.text();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = null;
    }
    if (!res.ok) {
      const error = (value as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
      throw new AppError(
        res.status,
        error?.code ?? 'showroom_control_failed',
        error?.message ?? `The showroom answered HTTP ${res.status}.`,
        error?.details as Record<string, unknown> | undefined,
      );
    }
    return value as ShowroomState;
  }
}
