// The helper's wire protocol: one JSON object per line, in both directions.
//   parent -> helper  {id, op: 'links.add', args: [...]}
//   helper -> parent  {ready: true}                         once, when it accepts requests
//                     {id, result}  |  {id, error}           one answer per request
//                     {id, chunk: [...]} ... {id, done: true} a large array result, in pieces
// Requests are pipelined: answers come in completion order, matched by id.
import type { SerializedError } from '../netlink/errors.js'

export interface HelperRequest {
  readonly id: number
  readonly op: string
  readonly args: readonly unknown[]
}

export type HelperReply =
  | { readonly ready: true }
  | { readonly id: number; readonly result?: unknown }
  | { readonly id: number; readonly error: SerializedError }
  | { readonly id: number; readonly chunk: readonly unknown[] }
  | { readonly id: number; readonly done: true }

/** Array results longer than this are streamed in chunks of this many items. */
export const CHUNK_ITEMS = 1000

/** The rtnetlink groups a helper forwards; their methods are looked up by name. */
export const RTNL_GROUPS = ['links', 'addresses', 'routes', 'neighbors', 'rules'] as const
export type RtnlGroup = (typeof RTNL_GROUPS)[number]

/** Splits a text stream into lines; keeps the unfinished tail for the next chunk. */
export class LineSplitter {
  private tail = ''

  constructor(private readonly onLine: (line: string) => void) {}

  push(text: string): void {
    let start = 0
    let nl = text.indexOf('\n')
    if (nl < 0) { this.tail += text; return }
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

  constructor(private readonly write: (text: string) => void, private readonly defer: (fn: () => void) => void = queueMicrotask) {}

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
