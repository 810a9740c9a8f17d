/**
 * Which Node runs the project's scripts. wrangler, miniflare and workerd need Node 22; a machine
 * whose own Node is 20 still works because `npm install` brings Node 22 (the registry's `node`
 * package) into node_modules/.bin, which npm puts first on PATH for every `npm run` script.
 */

const REQUIRED_NODE_MAJOR = 22;

/** The major version of a `v20.1.0` / `20.1.0` string; 0 when it is not a version. */
export function nodeMajor(version: string): number {
  const m = /^v?(\d+)\./.exec(version.trim());
  return m ? Number(m[1]) : 0;
}

/** The Node that runs npm itself, from npm's user agent (`npm/11.1.0 node/v20.1.0 linux x64 …`). */
export function npmNodeVersion(userAgent: string | undefined): string | undefined {
  return /\bnode\/(v?\d+\.\d+\.\d+)/.exec(userAgent ?? '')?.[1];
}

/**
 * One line saying why `what` cannot run on `version` and what to do, or undefined when it can.
 * Said before anything starts, never after Postgres is up.
 */
export function nodeVersionProblem(version: string, what: string): string | undefined {
  if (nodeMajor(version) >= REQUIRED_NODE_MAJOR) return undefined;
  return (
    `${what} needs Node ${REQUIRED_NODE_MAJOR}+ (wrangler, workerd) but runs on Node ${version}; ` +
    `start it through npm (npm run dev, npm test), which uses the Node ${REQUIRED_NODE_MAJOR} that npm install puts in node_modules/.bin ` +
    `(missing? run npm install again with install scripts allowed)`
  );
}

/**
 * The line `npm install` ends with: silent when npm's own Node is already new enough, an
 * explanation of the EBADENGINE warnings when the project's Node 22 stands in for an older one,
 * and a warning with the fix when no Node 22 was installed.
 */
export function installReport(scriptNode: string, npmNode: string | undefined): string | undefined {
  const problem = nodeVersionProblem(scriptNode, 'npm run dev / npm test');
  if (problem) return `warning: ${problem}`;
  if (npmNode && nodeMajor(npmNode) < REQUIRED_NODE_MAJOR) {
    return `note: this machine's Node ${npmNode} runs npm only; the project's scripts run on Node ${scriptNode} from node_modules/.bin (the EBADENGINE warnings above are about Node ${npmNode} and are harmless)`;
  }
  return undefined;
}
