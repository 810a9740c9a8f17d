/**
 * What `npm run dev` prints once the worker answers: one `ready:` line, the curl the README promises
 * (`try:`), and where the demo key and URLs are kept. CI and the tests read the first two lines.
 */
export type ReadyFacts = {
  workerUrl: string;
  flusherUrl: string;
  pgPort: number;
  /** Seconds from the start of `npm run dev`. */
  seconds: number;
  client: string;
  key: string;
  /** Where stack.json is, as the user would type it. */
  stackFile: string;
};

export function readyLines(f: ReadyFacts): string[] {
  const extras = [`flusher ${f.flusherUrl}`, `postgres 127.0.0.1:${f.pgPort}`].join(', ');
  return [
    `ready: worker ${f.workerUrl} (${extras}) in ${f.seconds.toFixed(1)}s`,
    `try:   ${curlCommand(f.workerUrl, f.client, f.key)}`,
    `       the demo key is shown once; it and the URLs are in ${f.stackFile}. Ctrl-C stops everything.`,
  ];
}

/** The curl the README promises: fetch five todos as the demo client. */
function curlCommand(workerUrl: string, client: string, key: string): string {
  return `curl -s ${workerUrl}/gateway/fetch -H 'X-Athena-Client: ${client}' -H 'apikey: ${key}' -H 'content-type: application/json' -d '{"table_name":"todos","limit":5}'`;
}
