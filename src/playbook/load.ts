import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { defaultPlaybook, type Playbook, PlaybookError, parsePlaybook } from './playbook.js';

/** Where the playbook is looked for when neither the `playbook` setting nor KEEPWARM_PLAYBOOK names one. */
export const DEFAULT_PLAYBOOK_PATH = 'playbooks/showroom.yaml';

export interface LoadedPlaybook {
  playbook: Playbook;
  /** The file it came from (absolute), or null for the built-in defaults. */
  file: string | null;
  /** One line for the log: where the playbook came from. */
  note: string;
}

/**
 * Read the playbook. An explicitly named file must exist; the default path falls back to the
 * built-in playbook (the same values) when absent. Problems throw a PlaybookError whose every
 * entry says file:line:column.
 */
export function loadPlaybook(options: { path?: string | undefined; cwd: string }): LoadedPlaybook {
  const explicit = options.path !== undefined && options.path !== '';
  const shown = explicit ? (options.path as string) : DEFAULT_PLAYBOOK_PATH;
  const file = isAbsolute(shown) ? shown : resolve(options.cwd, shown);
  if (!existsSync(file)) {
    if (explicit) {
      throw new PlaybookError([{ file: shown, line: 1, column: 1, path: '', message: 'playbook file not found' }]);
    }
    return {
      playbook: defaultPlaybook(),
      file: null,
      note: `playbook: ${DEFAULT_PLAYBOOK_PATH} not found; using the built-in playbook (the same defaults)`,
    };
  }
  const result = parsePlaybook(readFileSync(file, 'utf8'), shown);
  if (!result.ok) throw new PlaybookError(result.problems);
  return { playbook: result.playbook, file, note: `playbook: loaded from ${shown}` };
}
