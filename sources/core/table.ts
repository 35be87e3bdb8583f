/**
 * The one table renderer, laid out as kubectl's tabwriter (cli-runtime `printers.GetNewTabWriter`: minimum cell
 * width 6, padding 3): upper-case headers, every column but the last padded to a common width, the last column
 * never padded, trailing blanks trimmed. Pure text; `list`, `decode` and `verify` print through it.
 */
import {escapeControl} from './text.ts';

const MIN_WIDTH = 6;
const PADDING = 3;

/** Display width of a cell, counted in code points as Go's tabwriter counts runes. */
function width(text: string): number {
  return [...text].length;
}

/**
 * Lays out a table and returns its lines (header first, no newlines). Cells hold cluster text (names, images,
 * users): control characters are shown escaped, never sent raw. `decorate` may wrap a body cell (a colour, say)
 * after its width is measured; row indexes count body rows from 0.
 */
export function tableLines(headers: string[], rows: string[][], decorate?: (cell: string, row: number, column: number) => string): string[] {
  const all = [headers.map(header => header.toUpperCase()), ...rows.map(row => row.map(escapeControl))];
  const columns = Math.max(...all.map(row => row.length));
  const widths: number[] = [];
  for (let column = 0; column < columns - 1; column++)
    widths.push(Math.max(MIN_WIDTH, ...all.map(row => width(row[column] ?? ``) + PADDING)));
  return all.map((row, index) => {
    let line = ``;
    for (let column = 0; column < columns; column++) {
      const cell = row[column] ?? ``;
      const shown = index === 0 || decorate === undefined ? cell : decorate(cell, index - 1, column);
      line += column < columns - 1 ? shown + ` `.repeat(widths[column]! - width(cell)) : shown;
    }
    return line.trimEnd();
  });
}

/** Formats rows as a table (see `tableLines`). Returns the text with a trailing newline. */
export function formatTable(headers: string[], rows: string[][]): string {
  return tableLines(headers, rows).map(line => `${line}\n`).join(``);
}
