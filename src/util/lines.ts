// Newline-delimited text streams: the helper protocol and the monitor child both speak one
// JSON object per line.

/** Splits a text stream into lines; keeps the unfinished tail for the next chunk. */
export class LineSplitter {
  private tail = ''

  constructor(private readonly onLine: (line: string) => void) {}

  push(text: string): void {
    let start = 0
    let nl = text.indexOf('\n')
    if (nl < 0) {
      this.tail += text
      return
    }
    let first = this.tail + text.slice(0, nl)
    this.tail = ''
    for (;;) {
      if (first.length) this.onLine(first)
      start = nl + 1
      nl = text.indexOf('\n', start)
      if (nl < 0) break
      first = text.slice(start, nl)
    }
    this.tail = text.slice(start)
  }
}

/**
 * Collects lines and writes them with one write() per turn of the event loop,
 * so thousands of pipelined messages cost a handful of syscalls.
 */
export class LineWriter {
  private queued: string[] = []
  private scheduled = false

  constructor(
    private readonly write: (text: string) => void,
    private readonly defer: (fn: () => void) => void = queueMicrotask,
  ) {}

  send(line: string): void {
    this.queued.push(line)
    if (!this.scheduled) {
      this.scheduled = true
      this.defer(() => this.flush())
    }
  }

  flush(): void {
    this.scheduled = false
    if (this.queued.length === 0) return
    const text = this.queued.join('\n') + '\n'
    this.queued = []
    this.write(text)
  }
}
