import {escapeControl} from '../../core/text.ts';
/** kubectl's tabwriter settings (cli-runtime printers.GetNewTabWriter): min cell width 6, padding 3. */
const MIN_WIDTH = 6;
const PADDING = 3;

/** Display width of a cell, counted in code points as Go's tabwriter counts runes. */
function width(text: string): number {
  return [...text].length;
}

/**
 * Formats rows as kubectl's tables: upper-case headers, columns separated by at least 3 spaces,
 * every column but the last padded to a common width. Returns the text with a trailing newline.
 */
export function formatTable(headers: string[], rows: string[][]): string {
  // Cells hold cluster text (names, images, users): control characters are shown escaped, never sent raw.
  const all = [headers.map(header => header.toUpperCase()), ...rows.map(row => row.map(escapeControl))];
  const columns = Math.max(...all.map(row => row.length));
  const widths: number[] = [];
  for (let column = 0; column < columns - 1; column++)
    widths.push(Math.max(MIN_WIDTH, ...all.map(row => width(row[column] ?? ``) + PADDING)));
  return all.map(row => {
    let line = ``;
    for (let column = 0; column < columns; column++) {
      const cell = row[column] ?? ``;
      line += column < columns - 1 ? cell + ` `.repeat(widths[column]! - width(cell)) : cell;
    }
    return `${line.trimEnd()}\n`;
  }).join(``);
}

/** Writes a table (see `formatTable`) to a stream. */
export function printTable(headers: string[], rows: string[][], stdout: NodeJS.WritableStream): void {
  stdout.write(formatTable(headers, rows));
}
