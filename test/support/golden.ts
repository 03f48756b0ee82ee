// Loads the golden netlink vectors in test/golden/*.json (real `ip` <-> kernel traffic,
// captured by test/golden/capture.sh) and finds messages in them by type.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseMessages, type RawMessage } from '../../src/netlink/codec.js'

export interface GoldenExchange {
  readonly dir: 'send' | 'recv'
  readonly syscall: string
  readonly fd: number
  readonly hex: string
}

export interface GoldenVector {
  readonly name: string
  readonly command: string
  readonly setup?: string
  readonly note: string
  readonly exchanges: readonly GoldenExchange[]
}

const dir = fileURLToPath(new URL('../golden/', import.meta.url))

export function loadGolden(name: string): GoldenVector {
  return JSON.parse(readFileSync(`${dir}${name}.json`, 'utf8')) as GoldenVector
}

/** The datagrams of one direction, as Buffers, in capture order. */
export function datagrams(v: GoldenVector, dir: 'send' | 'recv'): Buffer[] {
  return v.exchanges.filter((e) => e.dir === dir).map((e) => Buffer.from(e.hex, 'hex'))
}

/**
 * Only the first netlink message of a datagram: iproute2 sends dump requests with the
 * whole padded request struct (a 28-byte message in a 156-byte write), which the kernel
 * ignores after nlmsg_len.
 */
export function firstMessageBytes(d: Buffer): Buffer {
  return d.subarray(0, d.readUInt32LE(0))
}

/** The first message of `type` in a direction, with the datagram that holds it. */
export function findMessage(v: GoldenVector, dir: 'send' | 'recv', type: number, nth = 0): { msg: RawMessage; datagram: Buffer } {
  let seen = 0
  for (const d of datagrams(v, dir)) {
    const bytes = dir === 'send' ? firstMessageBytes(d) : d
    for (const m of parseMessages(bytes)) {
      if (m.type === type && seen++ === nth) return { msg: m, datagram: bytes }
    }
  }
  throw new Error(`golden ${v.name}: no ${dir} message #${nth} of type ${type}`)
}

/** Every message of one direction, in order. */
export function allMessages(v: GoldenVector, dir: 'send' | 'recv'): RawMessage[] {
  return datagrams(v, dir).flatMap((d) => parseMessages(dir === 'send' ? firstMessageBytes(d) : d))
}
