/**
 * Where `--watch` draws. On a terminal: the alternate screen, redrawn in place each frame (cursor
 * home, each line cut to the width and cleared to its end, the rest cleared), cursor hidden, all
 * restored on close. Elsewhere (a pipe, a log): each frame printed in full after a blank line.
 */

export type Screen = { draw(lines: string[]): void; close(): void };

const ESC = '\x1b[';

/** Cuts `line` to `width` columns (every character here is one column wide). */
export function fit(line: string, width: number): string {
  const chars = [...line];
  return chars.length <= width ? line : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

export function terminalScreen(out: NodeJS.WriteStream): Screen {
  let open = true;
  out.write(`${ESC}?1049h${ESC}?25l`);
  return {
    draw(lines) {
      if (!open) return;
      const width = out.columns > 0 ? out.columns : 100;
      const rows = out.rows > 0 ? out.rows : lines.length;
      const shown = lines.slice(0, rows).map((l) => `${fit(l, width)}${ESC}K`);
      out.write(`${ESC}H${shown.join('\r\n')}${ESC}J`);
    },
    close() {
      if (!open) return;
      open = false;
      out.write(`${ESC}?25h${ESC}?1049l`);
    },
  };
}

export function plainScreen(out: NodeJS.WritableStream): Screen {
  let first = true;
  return {
    draw(lines) {
      out.write(`${first ? '' : '\n'}${lines.join('\n')}\n`);
      first = false;
    },
    close() {},
  };
}
