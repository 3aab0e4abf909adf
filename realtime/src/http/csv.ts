// CSV cells for spreadsheets: quoted, and defused when they would start a formula.
function csvCell(value: string | number | undefined): string {
  let s = value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r']/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = (cells: (string | number | undefined)[]): string =>
  `${cells.map(csvCell).join(',')}\r\n`;
