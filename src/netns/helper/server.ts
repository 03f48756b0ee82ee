// The helper's request loop: reads JSON-line requests, runs each at once (they are
// pipelined), and answers in completion order. It runs the same ops code as Rtnl.

import type { RtnlApi } from '../../api.js'
import { codeOf, invalidArgument, NsnetError, type SerializedError } from '../../netlink/errors.js'
import { SpecCheck } from '../../ops/spec-check.js'
import { LineSplitter, LineWriter } from '../../util/lines.js'
import { listDir, readText, writeText } from '../files.js'
import { readSysctl, writeSysctl } from '../sysctl.js'
import { CHUNK_ITEMS, HELPER_OPS, type HelperApi, type HelperRequest, isHelperOp } from './protocol.js'

export interface ServeOptions {
  /** The namespace name this helper serves; set on every error it returns. */
  readonly namespace: string
  /** Opens the rtnetlink handle on the first rtnetlink request. */
  readonly openRtnl: () => Promise<ServedRtnl>
  /** Writes raw text to the parent. */
  readonly write: (text: string) => void
}

/** The rtnetlink API a helper serves, closed when the helper ends. */
export type ServedRtnl = RtnlApi & { close?(): Promise<void> }

/** The groups a helper serves without rtnetlink. */
type LocalGroups = Pick<HelperApi, 'sysctl' | 'files'>

export class HelperServer {
  private rtnl: Promise<ServedRtnl> | undefined
  private readonly out: LineWriter
  private readonly splitter: LineSplitter
  private readonly local: LocalGroups

  constructor(private readonly opts: ServeOptions) {
    this.out = new LineWriter(opts.write, (fn) => setImmediate(fn))
    this.splitter = new LineSplitter((line) => this.onLine(line))
    const ns = opts.namespace
    // These read and write files of this namespace at once: the call options are checked, not needed.
    const options = (operation: string, o: unknown): void => {
      new SpecCheck({ operation, namespace: ns }).options(o)
    }
    this.local = {
      sysctl: {
        get: async (key, o) => {
          options('sysctl.get', o)
          return readSysctl(key, ns)
        },
        set: async (key, value, o) => {
          options('sysctl.set', o)
          return writeSysctl(key, value, ns)
        },
      },
      files: {
        read: async (path, o) => {
          options('files.read', o)
          return readText(path, ns)
        },
        write: async (path, data, o) => {
          options('files.write', o)
          return writeText(path, data, ns)
        },
        list: async (path, o) => {
          options('files.list', o)
          return listDir(path, ns)
        },
      },
    }
  }

  /** Tells the parent it accepts requests. */
  ready(): void {
    this.out.send('{"ready":true}')
    this.out.flush()
  }

  /** Feeds text read from the parent. */
  push(text: string): void {
    this.splitter.push(text)
  }

  private onLine(line: string): void {
    let req: HelperRequest
    try {
      req = JSON.parse(line) as HelperRequest
    } catch {
      this.out.send(JSON.stringify({ id: -1, error: this.serialize(new NsnetError('unparseable request line', { code: 'EHELPER' }), 'parse') }))
      return
    }
    const id = req.id
    this.run(req).then(
      (result) => this.answer(id, result).catch((e: unknown) => this.out.send(JSON.stringify({ id, error: this.serialize(e, req.op) }))),
      (e) => this.out.send(JSON.stringify({ id, error: this.serialize(e, req.op) })),
    )
  }

  private async answer(id: number, result: unknown): Promise<void> {
    if (result !== null && typeof result === 'object' && Symbol.asyncIterator in result) {
      // A stream: chunks as the items come, so the helper holds at most one chunk.
      let chunk: unknown[] = []
      try {
        for await (const item of result as AsyncIterable<unknown>) {
          chunk.push(item)
          if (chunk.length === CHUNK_ITEMS) {
            this.out.send(JSON.stringify({ id, chunk }))
            chunk = []
          }
        }
      } catch (e) {
        this.out.send(JSON.stringify({ id, error: this.serialize(e, 'stream') }))
        return
      }
      if (chunk.length) this.out.send(JSON.stringify({ id, chunk }))
      this.out.send(`{"id":${id},"done":true}`)
      return
    }
    if (Array.isArray(result) && result.length > CHUNK_ITEMS) {
      for (let i = 0; i < result.length; i += CHUNK_ITEMS) {
        this.out.send(JSON.stringify({ id, chunk: result.slice(i, i + CHUNK_ITEMS) }))
      }
      this.out.send(`{"id":${id},"done":true}`)
      return
    }
    this.out.send(result === undefined ? `{"id":${id}}` : JSON.stringify({ id, result }))
  }

  private async run(req: HelperRequest): Promise<unknown> {
    const op: unknown = req.op
    // Only HELPER_OPS: the ops classes' private methods are functions at run time too.
    if (!isHelperOp(op)) throw unknownOperation(op)
    // Arguments the caller left undefined arrive as null; `unset` names them. A null the caller
    // passed stays null, so the ops refuse it as they do in the caller's process.
    const unset = new Set(Array.isArray(req.unset) ? req.unset : [])
    const args = Array.isArray(req.args) ? req.args.map((a, i) => (unset.has(i) ? undefined : a)) : []
    if (args.length > HELPER_OPS[op]) {
      throw invalidArgument(`${op} takes ${HELPER_OPS[op]} arguments, got ${args.length}`, { operation: op })
    }
    // 'tc.qdiscs.add': the method is after the last dot, its object at the path before it.
    const path = op.split('.')
    const method = path.pop()!
    let target: object = path[0] === 'sysctl' || path[0] === 'files' ? this.local : await (this.rtnl ??= this.opts.openRtnl())
    for (const k of path) target = Reflect.get(target, k) as object
    const fn: unknown = Reflect.get(target, method)
    if (typeof fn !== 'function') throw new NsnetError(`${op} is not a method here`, { code: 'EINTERNAL', operation: op })
    return Reflect.apply(fn, target, args)
  }

  private serialize(e: unknown, op: string): SerializedError {
    const ns = this.opts.namespace
    if (e instanceof NsnetError) return e.withContext({ namespace: ns, operation: op }).toJSON()
    const err = e as { code?: unknown; errno?: unknown; message?: unknown; name?: unknown }
    const code = codeOf(err, 'EINTERNAL')
    const summary = `${typeof err?.name === 'string' && code === 'EINTERNAL' ? `${err.name}: ` : ''}${String(err?.message ?? e)}`
    return new NsnetError(summary, {
      code,
      errno: typeof err?.errno === 'number' ? Math.abs(err.errno) : undefined,
      operation: op,
      namespace: ns,
    }).toJSON()
  }

  /** Closes the rtnetlink socket, if one was opened. */
  async close(): Promise<void> {
    const r = this.rtnl
    this.rtnl = undefined
    if (r)
      await r.then(
        (x) => x.close?.(),
        () => undefined,
      )
  }
}

/** The refusal of an op outside HELPER_OPS, naming what the group (if it is one) does offer. */
function unknownOperation(op: unknown): NsnetError {
  const name = typeof op === 'string' ? op : JSON.stringify(op)
  const dot = name.lastIndexOf('.')
  const group = dot > 0 ? name.slice(0, dot) : ''
  const offered = Object.keys(HELPER_OPS)
    .filter((k) => k.lastIndexOf('.') === dot && k.startsWith(`${group}.`))
    .map((k) => k.slice(dot + 1))
  if (offered.length) {
    return invalidArgument(`${group} has no public method "${name.slice(dot + 1)}"`, {
      operation: name,
      hint: `${group} offers ${offered.join(', ')}`,
    })
  }
  return invalidArgument(`unknown operation "${name}"`, { operation: name, hint: 'the helper runs the methods of RtnlApi, sysctl and files (HELPER_OPS)' })
}
