/** The CLI as tests run it: `npm run gateway -- …` in a child process against the test catalog. */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { runEntry } from './run-entry.js';
import { TEST_KEY_SIGNING_SECRET } from '../support/key-signing.js';

/** The environment the CLI runs with: the test catalog and the test key-signing secret. */
export const cliEnv = { ...process.env, DATABASE_URL: inject('databaseUrl'), KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET };

/** Runs `npm run gateway -- <args>`; resolves with its exit code and output. */
export const gateway = (...args: string[]) => runEntry('cli/index.ts', args, { env: cliEnv });

/** A name unique to this run (the catalog is shared with other test files). */
export const uniq = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;
