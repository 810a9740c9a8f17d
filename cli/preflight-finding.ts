/** One preflight finding and the one line the preflight prints for it. */
export type FindingLevel = 'error' | 'warn' | 'info';
export type Finding = { level: FindingLevel; subject: string; message: string };

/** `error  NAME: message` — the one line per finding the CLI prints. */
export function formatFinding(f: Finding): string {
  return `${f.level.padEnd(5)}  ${f.subject}: ${f.message}`;
}
