// Entry of the monitor's child process. It joins the rtnetlink multicast groups of the
// kinds asked for (in the network namespace it was started in) and writes each
// notification to stdout as one JSON line: a decoded MonitorEvent.
//
// Why a separate process: the netlink binding aborts the whole process when the
// multicast socket overflows (recvmsg → ENOBUFS). Here that costs only this child: it
// dies (SIGABRT, or exit code EXIT_OVERRUN when our listener gets to run first), and the
// parent yields `overrun` and starts a new child that resynchronises.
//
// Why decoded JSON and not raw bytes: link names resolve only in the namespace the
// events come from, which is the child's (the parent may sit elsewhere, with `ip netns
// exec` as the spawn prefix); the parent then only splits lines and JSON.parse()s.
//
// argv[2] is a ChildConfig as JSON. The child exits when its stdin closes (parent gone).
import { once } from 'node:events'
import { Attrs, parseMessages, type RawMessage } from '../../netlink/codec.js'
import { NETLINK_ROUTE } from '../../netlink/constants.js'
import { closeRawSocket, openRawSocket, type RawSocket } from '../../netlink/engine/binding.js'
import { NetlinkSocket, type Request } from '../../netlink/engine.js'
import { decodeAddress } from '../addresses/codec.js'
import { linkNames, type OpsContext } from '../context.js'
import { IFLA_IFNAME } from '../links/attrs.js'
import { decodeLink } from '../links/decode.js'
import { decodeNeighbor } from '../neighbors/operations.js'
import { decodeRoute } from '../routes/decode.js'
import {
  AF_UNSPEC,
  familyOfAf,
  IFADDRMSG_LEN,
  IFINFOMSG_LEN,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELNEIGH,
  RTM_DELROUTE,
  RTM_DELRULE,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETNEIGH,
  RTM_GETROUTE,
  RTM_GETRULE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWNEIGH,
  RTM_NEWROUTE,
  RTM_NEWRULE,
} from '../rtnl.js'
import { decodeRule } from '../rules/operations.js'
import { type ChildConfig, EXIT_OVERRUN, KIND_GROUPS, MONITOR_KINDS, type MonitorKind } from './protocol.js'

type Names = Map<number, string>

interface Handler {
  readonly kind: MonitorKind
  readonly action: 'new' | 'del'
  readonly decode: (m: RawMessage, names: Names) => object | undefined
}

const HANDLERS = new Map<number, Handler>()
function handle(kind: MonitorKind, newType: number, delType: number, decode: Handler['decode']): void {
  HANDLERS.set(newType, { kind, action: 'new', decode })
  HANDLERS.set(delType, { kind, action: 'del', decode })
}
handle('link', RTM_NEWLINK, RTM_DELLINK, (m, names) => decodeLink(m, names))
handle('address', RTM_NEWADDR, RTM_DELADDR, (m, names) => (familyOfAf(m.buf[m.start]!) ? decodeAddress(m, names) : undefined))
// Only IPv4/IPv6 routes: an AF_UNSPEC dump also returns multicast-routing (ipmr) tables.
handle('route', RTM_NEWROUTE, RTM_DELROUTE, (m, names) => (familyOfAf(m.buf[m.start]!) ? decodeRoute(m, names) : undefined))
handle('neighbor', RTM_NEWNEIGH, RTM_DELNEIGH, (m, names) => decodeNeighbor(m, names))
handle('rule', RTM_NEWRULE, RTM_DELRULE, (m) => decodeRule(m))

/** The dump that lists the current objects of a kind (AF_UNSPEC: every family). */
const DUMPS: Readonly<Record<MonitorKind, Request>> = {
  link: {
    type: RTM_GETLINK,
    body: (w) => {
      w.u8(AF_UNSPEC).zeros(IFINFOMSG_LEN - 1)
    },
  },
  address: {
    type: RTM_GETADDR,
    body: (w) => {
      w.u8(AF_UNSPEC).zeros(IFADDRMSG_LEN - 1)
    },
  },
  route: {
    type: RTM_GETROUTE,
    body: (w) => {
      w.u8(AF_UNSPEC).zeros(11)
    },
  },
  neighbor: {
    type: RTM_GETNEIGH,
    body: (w) => {
      w.u8(AF_UNSPEC).zeros(11)
    },
  },
  rule: {
    type: RTM_GETRULE,
    body: (w) => {
      w.u8(AF_UNSPEC).zeros(11)
    },
  },
}

// stdout is a socket whose writes queue in memory when the parent reads slowly. Past this
// backlog we stop and report an overrun: a slow reader costs a resync, not unbounded memory.
const DEFAULT_BACKLOG_BYTES = 16 << 20
let backlogLimit = DEFAULT_BACKLOG_BYTES
let mc: RawSocket | undefined
let exiting = false

/** Writes the last line, then exits (at once if the parent has stopped reading for 2 s). */
function exitAfter(line: string, code: number): void {
  if (exiting) return
  exiting = true
  if (mc) closeRawSocket(mc) // no more notifications, and no more ENOBUFS for the binding to choke on
  process.stdout.write(line, () => process.exit(code))
  setTimeout(() => process.exit(code), 2000).unref()
}

/** Live events: dropped once exiting; too large a backlog is an overrun. */
function emit(text: string): void {
  if (exiting) return
  process.stdout.write(text)
  if (process.stdout.writableLength > backlogLimit) exitAfter('{"kind":"overrun"}\n', EXIT_OVERRUN)
}

/** Resync output waits for the parent instead (it is the state the parent asked for). */
async function emitPaced(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain')
}

function fatal(error: string, code?: string): void {
  exitAfter(JSON.stringify({ kind: 'fatal', error, code }) + '\n', 1)
}

async function main(): Promise<void> {
  let cfg: ChildConfig
  try {
    cfg = JSON.parse(process.argv[2] ?? '')
    if (!Array.isArray(cfg.kinds) || cfg.kinds.some((k) => !MONITOR_KINDS.includes(k))) throw new Error('bad kinds')
  } catch (e) {
    fatal(`bad monitor child configuration: ${(e as Error).message}`)
    return
  }
  if (cfg.maxBacklogBytes !== undefined) backlogLimit = cfg.maxBacklogBytes
  // The parent holds our stdin; when it goes away, so do we.
  process.stdin.on('end', () => process.exit(0))
  process.stdin.on('error', () => process.exit(0))
  process.stdin.resume()
  process.stdout.on('error', () => process.exit(0))

  const kinds = new Set<MonitorKind>(cfg.kinds)
  // Other kinds name links, so keep an index → name map fresh from link notifications too.
  const needNames = kinds.has('address') || kinds.has('route') || kinds.has('neighbor') || kinds.has('link')
  const groups = new Set<number>()
  for (const k of kinds) for (const g of KIND_GROUPS[k]) groups.add(g)
  if (needNames) for (const g of KIND_GROUPS.link) groups.add(g)

  let names: Names = new Map()
  const encode = (m: RawMessage, resync: boolean): string => {
    const h = HANDLERS.get(m.type)
    if (!h) return ''
    if (h.kind === 'link' && m.end - m.start >= IFINFOMSG_LEN) {
      const ifindex = m.buf.readInt32LE(m.start + 4)
      const name = new Attrs(m.buf, m.start + IFINFOMSG_LEN, m.end, IFLA_IFNAME).str(IFLA_IFNAME)
      // Keep names of deleted links: their addresses' and routes' deletions may come after.
      if (name) names.set(ifindex, name)
    }
    if (!kinds.has(h.kind)) return ''
    let object: object | undefined
    try {
      object = h.decode(m, names)
    } catch (e) {
      return JSON.stringify({ kind: 'undecodable', type: m.type, error: (e as Error).message }) + '\n'
    }
    if (object === undefined) return ''
    return JSON.stringify(resync ? { kind: h.kind, action: h.action, object, resync: true } : { kind: h.kind, action: h.action, object }) + '\n'
  }

  // Notifications wait here until the names (and a resync dump) are in.
  let held: Buffer[] | undefined = []
  const onDatagram = (buf: Buffer): void => {
    let text = ''
    try {
      for (const m of parseMessages(buf)) text += encode(m, false)
    } catch (e) {
      text += JSON.stringify({ kind: 'undecodable', type: 0, error: (e as Error).message }) + '\n'
    }
    if (text) emit(text)
  }

  const sub = openRawSocket(NETLINK_ROUTE, { peek: false, bufferBytes: 64 * 1024 })
  mc = sub
  sub.on('error', (err) => {
    // Usually the binding aborts (SIGABRT) before this listener runs; when it does run, exit at
    // once with the overrun code rather than risk the abort half-way. Either tells the parent.
    if (err.code === 'ENOBUFS') process.exit(EXIT_OVERRUN)
    else fatal(`multicast socket error: ${err.code ?? err.message}`, err.code)
  })
  sub.on('message', (buf) => {
    if (held) held.push(Buffer.from(buf))
    else onDatagram(buf)
  })
  try {
    sub.setRecvBufferSize(cfg.receiveBufferBytes ?? 4 << 20)
  } catch {
    // keep the default size
  }
  for (const g of groups) sub.addMembership(g)

  const sock = NetlinkSocket.open({ receiveBufferBytes: 4 << 20 })
  const ctx: OpsContext = { sock, namespace: undefined }
  try {
    if (needNames) names = await linkNames(ctx)
    await emitPaced(JSON.stringify({ kind: 'ready', receiveBufferBytes: sub.getRecvBufferSize() }) + '\n')
    if (cfg.resync) {
      for (const kind of MONITOR_KINDS) {
        if (!kinds.has(kind)) continue
        const lines = await sock.dump(DUMPS[kind], (m) => encode(m, true) || undefined)
        // One write per ~64 KiB keeps a 100k-route resync to a few hundred syscalls.
        let chunk = ''
        for (const l of lines) {
          chunk += l
          if (chunk.length > 65536) {
            await emitPaced(chunk)
            chunk = ''
          }
        }
        if (chunk) await emitPaced(chunk)
      }
      await emitPaced('{"kind":"synced"}\n')
    }
  } catch (e) {
    fatal(`monitor setup failed: ${(e as Error).message}`, (e as { code?: string }).code)
    return
  } finally {
    sock.close()
  }
  const waiting = held
  held = undefined
  for (const buf of waiting) onDatagram(buf)
}

void main()
