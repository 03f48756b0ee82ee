// Subnet arithmetic the topology needs: containment, and handing out host addresses
// from a pool. Addresses are compared as bigints built from the codec's parsed bytes.
import { type Cidr, type Family, formatIPv4, formatIPv6, networkOf, parseIP } from '../netlink/codec.js'

export function toBig(bytes: Uint8Array): bigint {
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  return v
}

export function fromBig(v: bigint, family: Family): string {
  const len = family === 4 ? 4 : 16
  const out = new Uint8Array(len)
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return family === 4 ? formatIPv4(out, 0) : formatIPv6(out, 0)
}

/** True when `ip` (an address text) lies inside `net`. */
export function contains(net: Cidr, ip: string): boolean {
  const p = parseIP(ip)
  if (!p || p.family !== net.family) return false
  const bits = BigInt(net.family === 4 ? 32 : 128)
  const host = bits - BigInt(net.prefixLength)
  return toBig(p.bytes) >> host === toBig(net.bytes) >> host
}

/** `10.0.0.7/24` → `10.0.0.0/24` as text. */
export function networkText(c: Cidr): string {
  const n = networkOf(c)
  return `${n.address}/${n.prefixLength}`
}

/**
 * Hands out host addresses of a subnet in order (network and, for IPv4, broadcast
 * skipped), never one that was `reserve()`d.
 */
export class Pool {
  private next: bigint
  private readonly last: bigint
  private readonly taken = new Set<bigint>()

  constructor(readonly subnet: Cidr) {
    const bits = BigInt(subnet.family === 4 ? 32 : 128)
    const host = bits - BigInt(subnet.prefixLength)
    const base = (toBig(subnet.bytes) >> host) << host
    const size = 1n << host
    // /31 and /32 (and /127, /128) have no network/broadcast addresses to skip.
    const tiny = host <= 1n
    this.next = tiny ? base : base + 1n
    this.last = tiny || subnet.family === 6 ? base + size - 1n : base + size - 2n
  }

  reserve(ip: string): void {
    const p = parseIP(ip)
    if (p) this.taken.add(toBig(p.bytes))
  }

  /** The next free address with the pool's prefix length, or undefined when exhausted. */
  take(): string | undefined {
    while (this.next <= this.last) {
      const v = this.next++
      if (this.taken.has(v)) continue
      this.taken.add(v)
      return `${fromBig(v, this.subnet.family)}/${this.subnet.prefixLength}`
    }
    return undefined
  }
}
