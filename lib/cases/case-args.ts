// A case's run.args in testcases.yaml are input like any other: validated whole with a
// schema, so that a typo is exit 2 with the field's path, never a silent default.
import type { z } from 'zod';
import { buildConfigIssues } from '../config/zod-issues.ts';
import { ConfigError } from '../errors.ts';

export const CATALOGUE_FILE = 'testcases/testcases.yaml';

export function parseCaseArgs<S extends z.ZodType>(schema: S, args: unknown, caseName: string, where = CATALOGUE_FILE): z.output<S> {
  const parsed = schema.safeParse(args);
  if (!parsed.success) {
    throw new ConfigError(where, buildConfigIssues(parsed.error.issues, { input: args, pathPrefix: [caseName, 'run', 'args'] }));
  }
  return parsed.data;
}
