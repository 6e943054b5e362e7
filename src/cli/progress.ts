/** A one-line progress bar on stderr (redrawn in place on a TTY, a line per 10% otherwise). */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): (done: number, total: number) => void {
  let lastDecile = -1;
  const started = Date.now();
  return (done, total) => {
    const frac = total > 0 ? done / total : 1;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (stream.isTTY) {
      const width = 30;
      const full = Math.round(frac * width);
      stream.write(`\r${label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${done}/${total} ${secs}s`);
      if (done >= total) stream.write('\n');
      return;
    }
    const decile = Math.floor(frac * 10);
    if (decile !== lastDecile || done >= total) {
      lastDecile = decile;
      stream.write(`${label} ${done}/${total} (${Math.round(frac * 100)}%) ${secs}s\n`);
    }
  };
}

/** Prints `rows` as a left-aligned table; row 0 is the header, underlined. */
export function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  rows.forEach((r, i) => {
    console.log(r.map((v, c) => v.padEnd(widths[c])).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
}
