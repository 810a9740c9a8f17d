/**
 * How the console shortens a target label (`host:port/database`) to fit a column, the same way on
 * every screen: the host's domain goes first (`ep-x.us-east-2.aws.neon.tech` → `ep-x`), then the
 * middle of what is left, keeping the port and database visible at the end. Pure.
 */

/** The width every console screen shortens target labels to. */
export const TARGET_WIDTH = 32;

/** `label` in at most `max` characters. */
export function shortTarget(label: string, max: number): string {
  if (label.length <= max) return label;
  const m = /^([^:/]+)(.*)$/.exec(label);
  const host = m?.[1] ?? label;
  const rest = m?.[2] ?? '';
  const dot = host.indexOf('.');
  // An IP address keeps its dots: only a name loses its domain.
  const short = dot > 0 && !/^\d+(\.\d+){3}$/.test(host) ? `${host.slice(0, dot)}${rest}` : label;
  if (short.length <= max) return short;
  if (max <= 1) return '…'.slice(0, max);
  const tail = Math.min(rest.length, Math.floor((max - 1) / 2));
  const head = max - 1 - tail;
  return `${short.slice(0, head)}…${short.slice(short.length - tail)}`;
}
