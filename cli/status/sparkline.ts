/** Sparklines for the console: one block character per sample, scaled to the series' own peak. */

const BLOCKS = '▁▂▃▄▅▆▇█';

/** The last `width` values as blocks; a zero is the lowest block, the peak the highest. */
export function sparkline(values: readonly number[], width: number): string {
  const shown = values.slice(-width);
  const peak = Math.max(0, ...shown);
  const line = shown
    .map((v) => {
      if (!(v > 0) || peak === 0) return BLOCKS[0];
      return BLOCKS[Math.min(BLOCKS.length - 1, Math.max(1, Math.ceil((v / peak) * (BLOCKS.length - 1))))];
    })
    .join('');
  return line.padStart(width, ' ');
}
