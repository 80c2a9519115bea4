import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchUnavailable } from './types.js';

/** The repository root (bench/lib/../..), so nothing depends on where the runner was started. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Everything started or created here, so an interrupted run (Ctrl+C) leaves nothing behind.
const liveChildren = new Set<ChildProcess>();
/** Daemons run in a process group of their own (nginx has workers): these are the group ids. */
const liveGroups = new Set<number>();
const liveDirs = new Set<string>();

/** Signal a whole process group; false when it has no member left. */
function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Kill what is still running and remove temp folders, synchronously (signal handlers, exit). */
export function cleanupNow(): void {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  liveChildren.clear();
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  liveGroups.clear();
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  liveDirs.add(dir);
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Find a program: an explicit override from the environment (e.g. NGINX_BIN), then PATH, then the
 * sbin folders that are often missing from a non-root PATH. Null when absent.
 */
export function findExecutable(name: string, envOverride?: string): string | null {
  const override = envOverride ? process.env[envOverride] : undefined;
  if (override) return isExecutable(override) ? override : null;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

export function requireExecutable(name: string, envOverride: string, hint: string): string {
  const found = findExecutable(name, envOverride);
  if (!found) throw new BenchUnavailable(`${name} not found (install it: ${hint}; or set ${envOverride})`);
  return found;
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run a command to completion, capturing its output. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    liveChildren.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer =
      options.timeoutMs === undefined
        ? null
        : setTimeout(() => {
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.once('error', (e) => {
      if (timer) clearTimeout(timer);
      liveChildren.delete(child);
      reject(e);
    });
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      liveChildren.delete(child);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

export interface Daemon {
  name: string;
  child: ChildProcess;
  /** stdout and stderr of the process go here. */
  logFile: string;
  /** Resolves when the process has exited (with its exit code, or the signal name). */
  exited: Promise<number | string>;
  hasExited(): boolean;
  /** The last lines of its log, for error messages. */
  logTail(lines?: number): string;
  /** SIGTERM, then SIGKILL after graceMs. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Start a long-running server process with its output in logFile (never on our stdout), in a
 * process group of its own: stop() ends the group, so no worker process outlives its master.
 */
export function spawnDaemon(
  name: string,
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; logFile: string },
): Daemon {
  const fd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  const pgid = child.pid;
  if (pgid !== undefined) liveGroups.add(pgid);
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (err) => {
      done = true;
      resolve(`spawn failed: ${err.message}`);
    });
  });
  const logTail = (lines = 5) => {
    try {
      return readFileSync(options.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join(' | ');
    } catch {
      return '';
    }
  };
  const stop = async (graceMs = 5000) => {
    if (!done) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!done && pgid !== undefined) killGroup(pgid, 'SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    }
    // Whatever the leader left behind (e.g. nginx workers of a master that was killed).
    if (pgid !== undefined) {
      killGroup(pgid, 'SIGKILL');
      liveGroups.delete(pgid);
    }
  };
  return { name, child, logFile: options.logFile, exited, hasExited: () => done, logTail, stop };
}

/** Poll until check() returns true; fail early if the daemon died, or after timeoutMs. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; daemon?: Daemon },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (options.daemon?.hasExited()) {
      const code = await options.daemon.exited;
      const tail = options.daemon.logTail();
      throw new BenchUnavailable(`${options.daemon.name} exited (${code}) before ${what}${tail ? `: ${tail}` : ''}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      const tail = options.daemon?.logTail() ?? '';
      throw new BenchUnavailable(`timed out after ${options.timeoutMs} ms waiting for ${what}${tail ? `: ${tail}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}

/** The environment minus variables that would change how the child behaves (KEEPWARM_*). */
export function cleanEnv(dropPrefixes: readonly string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!dropPrefixes.some((p) => key.startsWith(p))) env[key] = value;
  }
  return env;
}
