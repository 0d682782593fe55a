// A Markdown table (readable in a terminal and pasteable into the README).
export interface Row {
  name: string;
  measured: string;
  ceiling: string;
  ratio: string;
  target: string;
  met: string;
  note: string;
}

const HEAD: Row = {
  name: 'Benchmark',
  measured: 'Measured',
  ceiling: 'Ceiling (same run)',
  ratio: 'Ratio',
  target: 'Target',
  met: 'Met',
  note: 'Notes',
};
const KEYS = Object.keys(HEAD) as (keyof Row)[];

export function renderTable(rows: Row[]): string {
  const all = [HEAD, ...rows];
  const width = KEYS.map((k) => Math.max(...all.map((r) => r[k].length)));
  const line = (r: Row) => `| ${KEYS.map((k, i) => r[k].padEnd(width[i]!)).join(' | ')} |`;
  return [line(HEAD), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
