/** The progress line of a load run (stderr): redrawn on a terminal, plain lines otherwise. */

const BAR = 24;

export function bar(frac: number): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(frac) ? frac : 0));
  const full = Math.round(f * BAR);
  return `${'█'.repeat(full)}${'░'.repeat(BAR - full)}`;
}

/** One redrawn line on a terminal; plain lines every `everyMs` otherwise. */
export class Progress {
  private readonly tty: boolean;
  private lastLine = '';
  private lastPrinted = 0;
  private drawn = false;
  /** Not a TTY: whether `lastLine` has been printed already. */
  private printed = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly everyMs: number,
  ) {
    this.tty = !!out.isTTY && process.env['TERM'] !== 'dumb';
  }

  update(line: string, force = false): void {
    if (this.tty) {
      const cols = this.out.columns || 120;
      const text = line.length > cols - 1 ? line.slice(0, cols - 1) : line;
      this.out.write(`\r${text}\x1b[K`);
      this.drawn = true;
    } else if (force || Date.now() - this.lastPrinted >= this.everyMs) {
      this.out.write(`${line}\n`);
      this.lastPrinted = Date.now();
      this.printed = true;
      this.lastLine = line;
      return;
    }
    this.lastLine = line;
    this.printed = false;
  }

  /** A message above the progress line. */
  log(msg: string): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[K');
    this.out.write(`${msg}\n`);
    if (this.tty && this.drawn) this.out.write(this.lastLine);
  }

  /** Leaves the last state on screen and moves on. */
  finish(): void {
    if (this.tty && this.drawn) this.out.write('\n');
    else if (!this.tty && this.lastLine && !this.printed) this.out.write(`${this.lastLine}\n`);
    this.drawn = false;
    this.lastLine = '';
  }
}
