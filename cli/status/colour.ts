/**
 * Thresholds in colour for the console: ANSI red and yellow on a terminal, plain text when output
 * is not a terminal or NO_COLOR is set (https://no-color.org). Pure: the caller says whether to paint.
 */

export type Level = 'ok' | 'warn' | 'bad';

const CODES: Record<Exclude<Level, 'ok'>, string> = { warn: '33', bad: '31' };

/** `text` painted for `level` when `enabled` (pad before painting: escapes take no columns). */
export function paint(text: string, level: Level, enabled: boolean): string {
  return enabled && level !== 'ok' ? `\x1b[${CODES[level]}m${text}\x1b[0m` : text;
}

/** Colour on only for a terminal without NO_COLOR (any non-empty value turns it off). */
export function colourWanted(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  return isTTY === true && !env.NO_COLOR;
}

/** `line` without colour escapes: what it occupies on screen. */
export const visible = (line: string): string => line.replace(/\x1b\[[0-9;]*m/g, '');
