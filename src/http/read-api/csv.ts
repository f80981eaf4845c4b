// CSV for downloads of the read API's records (RFC 4180): every cell quoted when it holds a
// comma, a quote or a line break, quotes doubled, CRLF line ends. A cell a spreadsheet would run
// as a formula (starting with = + - @, a tab or a carriage return) is prefixed with a quote
// (OWASP's advice against CSV injection): an audit log holds text that callers chose.
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r']);

export function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.has(text[0] ?? '')) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: Array<string | number | boolean | null>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
