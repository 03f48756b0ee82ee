// Changing a link's kind options after creation: `ip link set DEV type KIND OPTIONS...`
// (IFLA_LINKINFO with IFLA_INFO_DATA) and `ip link set DEV type bridge_slave OPTIONS...`
// (IFLA_INFO_SLAVE_KIND / IFLA_INFO_SLAVE_DATA). Only the given options are sent.
import type { Writer } from '../../netlink/codec.js'
import { NsnetError } from '../../netlink/errors.js'
import type { SpecCheck } from '../spec-check.js'
import { IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_INFO_SLAVE_DATA, IFLA_INFO_SLAVE_KIND, IFLA_LINKINFO } from './attrs.js'
import { kindCodec, portCodec, type Resolved } from './kinds/index.js'

/** What set() carries for a kind change; the link's kind is looked up. */
export interface KindChange {
  readonly info?: Readonly<Record<string, unknown>>
  /** The kind of the master the link is a port of: 'bridge' (the default). */
  readonly slaveKind?: string
  readonly slaveInfo?: Readonly<Record<string, unknown>>
}

/** Whether a change set carries kind options (and so needs the link's kind). */
export function hasKindChange(ch: KindChange): boolean {
  return ch.info !== undefined || ch.slaveInfo !== undefined
}

/** Checks kind options against the link's kind; throws EINVAL_ARGUMENT naming the option. */
export function checkKindChange(ch: KindChange, kind: string | undefined, c: SpecCheck): void {
  if (ch.info !== undefined) {
    const info = c.object(ch.info, 'info')
    if (kind === undefined) c.fail('this link has no kind (a physical or loopback device): it has no kind options to change')
    const codec = kindCodec(kind)
    if (!codec) c.fail(`nsnet cannot change options of ${kind} links`)
    c.only(info, new Set(codec.changeKeys ?? codec.keys), `${kind} info`, new Set([...(codec.stateKeys ?? []), 'unknown']))
    ;(codec.checkChange ?? codec.check)?.(info, c)
  }
  if (ch.slaveInfo !== undefined) {
    const info = c.object(ch.slaveInfo, 'slaveInfo')
    const port = portCodec(ch.slaveKind ?? 'bridge')
    if (!port?.write || !port.keys || !port.check) c.fail(`nsnet cannot change options of ${ch.slaveKind} ports`)
    c.only(info, new Set(port.keys), `${port.kind} port slaveInfo`, new Set(['unknown']))
    port.check(info, c)
  }
}

/** IFLA_LINKINFO for a kind change; `kind` was checked by checkKindChange(). */
export function writeKindChange(w: Writer, ch: KindChange, kind: string | undefined, r: Resolved): void {
  const nest = w.beginNested(IFLA_LINKINFO)
  if (ch.info !== undefined) {
    const codec = kindCodec(kind!)!
    w.attrBytes(IFLA_INFO_KIND, Buffer.from(codec.kind))
    const data = w.beginNested(IFLA_INFO_DATA)
    ;(codec.writeChange ?? codec.writeData)?.(w, ch.info as Record<string, unknown>, r)
    w.endNested(data)
  }
  if (ch.slaveInfo !== undefined) {
    const port = portCodec(ch.slaveKind ?? 'bridge')!
    w.attrBytes(IFLA_INFO_SLAVE_KIND, Buffer.from(port.kind))
    const data = w.beginNested(IFLA_INFO_SLAVE_DATA)
    port.write!(w, ch.slaveInfo as Record<string, unknown>)
    w.endNested(data)
  }
  w.endNested(nest)
}

/** A kernel refusal of a kind change, with the options that were sent named. */
export function explainKindChange(e: unknown, ch: KindChange, kind: string | undefined): unknown {
  if (!(e instanceof NsnetError) || !/^E[A-Z]+$/.test(String(e.code)) || e.code === 'EINVAL_ARGUMENT' || e.errno === undefined) return e
  const parts: string[] = []
  if (ch.info)
    parts.push(
      `${kind} ${Object.keys(ch.info)
        .filter((k) => ch.info![k] !== undefined)
        .join(', ')}`,
    )
  if (ch.slaveInfo)
    parts.push(
      `${ch.slaveKind ?? 'bridge'} port ${Object.keys(ch.slaveInfo)
        .filter((k) => ch.slaveInfo![k] !== undefined)
        .join(', ')}`,
    )
  return new NsnetError(`${e.summary} changing ${parts.join('; ')}`, {
    code: e.code,
    errno: e.errno,
    operation: e.operation,
    object: e.object,
    namespace: e.namespace,
    hint: e.hint,
    cause: e,
  })
}
