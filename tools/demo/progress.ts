/** A one-line progress display: redrawn in place on a terminal, a line every few rounds otherwise. */
export class Progress {
  readonly #total: number;
  readonly #tty = process.stdout.isTTY === true;

  constructor(total: number) {
    this.#total = total;
  }

  update(round: number, produced: number, landed: number): void {
    const width = 24;
    const filled = Math.round((round / this.#total) * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const line = `  [${bar}] round ${round}/${this.#total} · ${produced} changes made · ${landed} lines in the lake`;
    if (this.#tty) process.stdout.write(`\r${line}`);
    else if (round % 5 === 0 || round === this.#total) process.stdout.write(`${line}\n`);
  }

  done(): void {
    if (this.#tty) process.stdout.write('\n');
  }
}
