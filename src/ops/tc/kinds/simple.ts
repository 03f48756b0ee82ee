// The kinds with little or nothing to say: pfifo (limit in packets), bfifo (limit in bytes),
// and ingress / clsact / noqueue (no options). fifo's TCA_OPTIONS is a bare struct tc_fifo_qopt.
import type { Writer } from '../../../netlink/codec.js'
import { TCA_OPTIONS } from '../constants.js'
import { parseSize, type Size } from '../units.js'
import { checkKeys, type KindCodec, type Options, optionalU32, structHeader } from './kind.js'

export interface FifoOptions {
  /** pfifo: packets; bfifo: bytes (or tc text). */
  readonly limit?: number | Size
}

function fifo(kind: 'pfifo' | 'bfifo'): KindCodec {
  return {
    keys: ['limit'],
    encode(w: Writer, o: Options): void {
      checkKeys(kind, o, ['limit'])
      if (o.limit === undefined) return
      const limit = kind === 'bfifo' ? parseSize(o.limit as Size, 'limit') : optionalU32(o, 'limit')!
      structHeader(w, TCA_OPTIONS, 4)
      w.u32(limit)
    },
    decode(buf: Buffer, start: number, end: number): Record<string, unknown> {
      return end - start >= 4 ? { limit: buf.readUInt32LE(start) } : {}
    },
  }
}

export const pfifo = fifo('pfifo')
export const bfifo = fifo('bfifo')

export const noOptions: KindCodec = {
  keys: [],
  encode(_w: Writer, o: Options): void {
    checkKeys('this qdisc', o, [])
  },
  decode(): Record<string, unknown> {
    return {}
  },
}
