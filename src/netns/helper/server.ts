// The helper's request loop: reads JSON-line requests, runs each at once (they are
// pipelined), and answers in completion order. It runs the same ops code as Rtnl.
import { NsnetError, invalidArgument, type SerializedError } from '../../netlink/errors.js'
import type { RtnlApi } from '../../rtnl.js'
import { listDir, readText, writeText } from '../files.js'
import { GROUP_METHODS } from './methods.js'
import { CHUNK_ITEMS, RTNL_GROUPS, type HelperRequest } from './protocol.js'
import { LineSplitter, LineWriter } from '../../util/lines.js'
import { readSysctl, writeSysctl, type SysctlValue } from '../sysctl.js'
import { callNft } from '../../nftables/remote.js'

export interface ServeOptions {
  /** The namespace name this helper serves; set on every error it returns. */
  readonly namespace: string
  /** Opens the rtnetlink handle on the first rtnetlink request. */
  readonly openRtnl: () => Promise<RtnlApi>
  /** Writes raw text to the parent. */
  readonly write: (text: string) => void
}

type Handler = (args: unknown[]) => Promise<unknown>

export class HelperServer {
  private rtnl: Promise<RtnlApi> | undefined
  private readonly out: LineWriter
  private readonly splitter: LineSplitter
  private readonly local: Record<string, Handler>

  constructor(private readonly opts: ServeOptions) {
    this.out = new LineWriter(opts.write, (fn) => setImmediate(fn))
    this.splitter = new LineSplitter((line) => this.onLine(line))
    const ns = opts.namespace
    this.local = {
      ping: async () => 'pong',
      'sysctl.get': async ([key]) => readSysctl(key as string, ns),
      'sysctl.set': async ([key, value]) => writeSysctl(key as string, value as SysctlValue, ns),
      'files.read': async ([path]) => readText(path as string, ns),
      'files.write': async ([path, data]) => writeText(path as string, data as string, ns),
      'files.list': async ([path]) => listDir(path as string, ns),
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
      (result) => this.answer(id, result),
      (e) => this.out.send(JSON.stringify({ id, error: this.serialize(e, req.op) })),
    )
  }

  private answer(id: number, result: unknown): void {
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
    const op = typeof req.op === 'string' ? req.op : ''
    // Arguments the caller left undefined arrive as null; `unset` names them. A null the caller
    // passed stays null, so the ops refuse it as they do in the caller's process.
    const unset = new Set(Array.isArray(req.unset) ? req.unset : [])
    const args = Array.isArray(req.args) ? req.args.map((a, i) => (unset.has(i) ? undefined : a)) : []
    const local = Object.hasOwn(this.local, op) ? this.local[op] : undefined
    if (local) return local(args)
    if (op.startsWith('nft.')) return callNft((await (this.rtnl ??= this.opts.openRtnl())).nft, op, args)
    // The method is after the last dot: 'tc.qdiscs.add' is group 'tc.qdiscs'.
    const dot = op.lastIndexOf('.')
    const group = op.slice(0, dot) as (typeof RTNL_GROUPS)[number]
    const method = op.slice(dot + 1)
    if (dot < 0 || !RTNL_GROUPS.includes(group)) {
      throw invalidArgument(`unknown operation "${op}"`, { operation: op })
    }
    // Only the public API: the ops classes' private methods are functions too.
    if (!GROUP_METHODS[group]?.has(method)) {
      throw invalidArgument(`${group} has no public method "${method}"`, { operation: op })
    }
    const rtnl = await (this.rtnl ??= this.opts.openRtnl())
    const target = group.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], rtnl) as Record<string, unknown>
    const fn = target[method]
    if (typeof fn !== 'function') {
      throw invalidArgument(`${group} has no method "${method}"`, { operation: op })
    }
    return (fn as (...a: unknown[]) => unknown).apply(target, args)
  }

  private serialize(e: unknown, op: string): SerializedError {
    const ns = this.opts.namespace
    if (e instanceof NsnetError) return e.withContext({ namespace: ns, operation: op }).toJSON()
    const err = e as { code?: unknown; errno?: unknown; message?: unknown; name?: unknown }
    const code = typeof err?.code === 'string' ? err.code : 'EINTERNAL'
    const summary = `${typeof err?.name === 'string' && code === 'EINTERNAL' ? `${err.name}: ` : ''}${String(err?.message ?? e)}`
    return new NsnetError(summary, {
      code, errno: typeof err?.errno === 'number' ? Math.abs(err.errno) : undefined, operation: op, namespace: ns,
    }).toJSON()
  }

  /** Closes the rtnetlink socket, if one was opened. */
  async close(): Promise<void> {
    const r = this.rtnl
    this.rtnl = undefined
    if (r) await r.then((x) => (x as { close?: () => Promise<void> }).close?.(), () => undefined)
  }
}
