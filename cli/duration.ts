/** Durations on the command line: `90s`, `15m`, `12h`, `30d`, `2w`. */
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Milliseconds for a duration such as `30d`, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  if (!m?.[1] || !m[2]) return undefined;
  const n = Number(m[1]);
  const unit = m[2] as keyof typeof UNIT_MS;
  return n > 0 ? n * UNIT_MS[unit] : undefined;
}
