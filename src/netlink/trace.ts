// NSNET_DEBUG=1 prints every message sent and received, decoded as far as the
// registered describers know, to stderr.
import { forEachAttr, parseMessages, type RawMessage } from './codec.js'
import { NLM_F_ACK, NLM_F_DUMP_INTR, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP } from './constants.js'
import { errnoName } from './errors.js'

export const traceEnabled = /^(1|true|yes|netlink|all)$/i.test(process.env.NSNET_DEBUG ?? '')

interface Describer {
  name: string
  /** Bytes of the fixed family header before the attributes. */
  headerLength: number
}

const describers = new Map<number, Describer>([
  [NLMSG_NOOP, { name: 'NLMSG_NOOP', headerLength: 0 }],
  [NLMSG_ERROR, { name: 'NLMSG_ERROR', headerLength: 0 }],
  [NLMSG_DONE, { name: 'NLMSG_DONE', headerLength: 0 }],
])

/** Lets a protocol layer (rtnetlink) name its message types for the trace. */
export function registerMessageType(type: number, name: string, headerLength: number): void {
  describers.set(type, { name, headerLength })
}

export function messageTypeName(type: number): string {
  return describers.get(type)?.name ?? `type ${type}`
}

function flagText(f: number): string {
  const parts: string[] = []
  if (f & NLM_F_MULTI) parts.push('MULTI')
  if (f & NLM_F_ACK) parts.push('ACK')
  if (f & NLM_F_DUMP_INTR) parts.push('DUMP_INTR')
  return parts.length ? `${parts.join('|')} (0x${f.toString(16)})` : `0x${f.toString(16)}`
}

export function describeMessage(m: RawMessage): string {
  const d = describers.get(m.type)
  let line = `${d?.name ?? `type ${m.type}`} len=${m.end - m.start + 16} flags=${flagText(m.flags)} seq=${m.seq} port=${m.port}`
  if (m.type === NLMSG_ERROR && m.end - m.start >= 4) {
    const err = m.buf.readInt32LE(m.start)
    line += err === 0 ? ' ack' : ` errno=${-err} ${errnoName(-err)}`
    return line
  }
  const hl = d?.headerLength ?? 0
  if (hl > 0 && m.start + hl <= m.end) {
    line += ` hdr=${m.buf.toString('hex', m.start, m.start + hl)}`
    // Show the attributes that did decode even when a later one is malformed.
    const attrs: string[] = []
    let malformed = ''
    try {
      forEachAttr(m.buf, m.start + hl, m.end, (t, o, l) => {
        attrs.push(l <= 16 ? `${t}:${m.buf.toString('hex', o, o + l)}` : `${t}:<${l}b>`)
      })
    } catch (e) {
      malformed = ` (malformed attributes: ${(e as Error).message})`
    }
    if (attrs.length) line += ` attrs=[${attrs.join(' ')}]`
    line += malformed
  }
  return line
}

export function trace(direction: 'send' | 'recv', buf: Buffer, label: string): void {
  if (!traceEnabled) return
  let msgs: RawMessage[]
  try {
    msgs = parseMessages(buf)
  } catch (e) {
    process.stderr.write(`[nsnet ${label}] ${direction} ${buf.length} bytes, undecodable: ${(e as Error).message}\n`)
    return
  }
  for (const m of msgs) process.stderr.write(`[nsnet ${label}] ${direction === 'send' ? '>' : '<'} ${describeMessage(m)}\n`)
}
