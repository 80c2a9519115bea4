import type { z } from 'zod';
import { AppError } from '../core/errors.js';

export type InputPart = 'body' | 'query' | 'params';

/** Zod issues as error details: the field (dotted path), what was expected, what came. */
export function describeIssues(issues: ReadonlyArray<z.core.$ZodIssue>, part: InputPart) {
  return issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    let message = issue.message;
    if (issue.code === 'unrecognized_keys')
      message = `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
    return { in: part, field: field === '' ? '(root)' : field, message };
  });
}

/** Parse one part of a request; on failure a 400 that names every field at fault. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, part: InputPart): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = describeIssues(result.error.issues, part);
  const first = details[0];
  const summary = first ? `${first.field}: ${first.message}` : 'invalid input';
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  throw new AppError(400, 'validation_failed', `The request ${part} is not valid: ${summary}${more}.`, details);
}
