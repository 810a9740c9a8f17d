/** Client input as error messages quote it: at most `max` characters, `…` when cut. */
export function clipped(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
