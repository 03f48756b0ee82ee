// What `nsnet up` shows while it builds: on a terminal one line rewritten in place (steps done
// of all, the phase, the command), one line per step with --verbose, nothing with --quiet.

export type ProgressMode = 'quiet' | 'line' | 'verbose'

export interface Progress {
  step(phase: string, command: string): void
  /** A message that must not be overwritten (a signal, the rollback). */
  note(text: string): void
  /** Clears the in-place line. */
  end(): void
}

/** The mode from the flags and whether stderr is a terminal. */
export function progressMode(flags: { quiet?: boolean; verbose?: boolean }, tty: boolean): ProgressMode {
  if (flags.quiet) return 'quiet'
  if (flags.verbose) return 'verbose'
  return tty ? 'line' : 'quiet'
}

/** Writes progress for `total` steps; verbose lines go to `lines` (stdout, or stderr under --json). */
export function progress(mode: ProgressMode, total: number, lines: NodeJS.WritableStream, tty: NodeJS.WriteStream = process.stderr): Progress {
  let done = 0
  let shown = false
  const width = String(total).length
  return {
    step(phase, command) {
      done++
      if (mode === 'verbose') lines.write(`${command}\n`)
      if (mode !== 'line') return
      const head = `[${String(done).padStart(width)}/${total}] ${phase}: `
      const room = Math.max(10, (tty.columns || 80) - head.length - 1)
      tty.write(`\r\x1b[K${head}${command.length > room ? `${command.slice(0, room - 1)}…` : command}`)
      shown = true
    },
    note(text) {
      if (mode === 'quiet') return
      this.end()
      tty.write(`${text}\n`)
    },
    end() {
      if (shown) tty.write('\r\x1b[K')
      shown = false
    },
  }
}
