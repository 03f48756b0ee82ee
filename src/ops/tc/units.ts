// tc's units: rates, sizes, times and percentages as numbers or as the text `tc` takes
// ('10mbit', '32kbit', '400ms', '1%'), and the psched tick arithmetic iproute2 does.
// The parsing rules follow iproute2's get_rate64/get_size/get_time/parse_percent;
// the tick math follows iproute2 6.1 (tc_core.c), which truncates where later versions round.
import { readFileSync } from 'node:fs'

/** A rate: a number of bits/s, or tc text such as '10mbit', '1gbit', '125kBps'. */
export type Rate = number | string
/** A size: a number of bytes, or tc text such as '32kbit', '15k', '1mb'. */
export type Size = number | string
/** A time: a number of microseconds, or tc text such as '400ms', '2.5s', '100us'. */
export type Time = number | string
/** A probability: a number of percent (0..100), or text such as '1%', '0.5'. */
export type Percent = number | string

/** Thrown with the reason; callers wrap it into an NsnetError naming the operation. */
export class TcSpecError extends Error {}

const NUMBER = /^([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)(.*)$/

// iproute2 lib/utils_math.c suffixes, matched case-insensitively in this order.
const RATE_SUFFIXES: ReadonlyArray<readonly [string, number]> = [
  ['bit', 1],
  ['kibit', 1024],
  ['kbit', 1000],
  ['mibit', 1024 ** 2],
  ['mbit', 1e6],
  ['gibit', 1024 ** 3],
  ['gbit', 1e9],
  ['tibit', 1024 ** 4],
  ['tbit', 1e12],
  ['bps', 8],
  ['kibps', 8 * 1024],
  ['kbps', 8000],
  ['mibps', 8 * 1024 ** 2],
  ['mbps', 8e6],
  ['gibps', 8 * 1024 ** 3],
  ['gbps', 8e9],
  ['tibps', 8 * 1024 ** 4],
  ['tbps', 8e12],
]
const SIZE_SUFFIXES: Readonly<Record<string, number>> = {
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  kbit: 1024 / 8,
  mbit: (1024 * 1024) / 8,
  gbit: (1024 * 1024 * 1024) / 8,
}
const TIME_SUFFIXES: Readonly<Record<string, number>> = {
  s: 1e6,
  sec: 1e6,
  secs: 1e6,
  ms: 1e3,
  msec: 1e3,
  msecs: 1e3,
  us: 1,
  usec: 1,
  usecs: 1,
}

function split(v: string, what: string): [number, string] {
  const m = NUMBER.exec(v.trim())
  if (!m) throw new TcSpecError(`${what} ${JSON.stringify(v)} does not start with a number`)
  return [Number(m[1]), m[2]!.toLowerCase()]
}

function finite(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new TcSpecError(`${what} must be a non-negative number or tc text, got ${JSON.stringify(v)}`)
  }
  return v
}

/** Bytes per second (what the kernel stores), from bits/s or tc text; at least 1. */
export function parseRate(v: Rate, what = 'rate'): number {
  let bits: number
  if (typeof v === 'string') {
    const [n, suffix] = split(v, what)
    const scale = suffix === '' ? 1 : RATE_SUFFIXES.find(([s]) => s === suffix)?.[1]
    if (scale === undefined) throw new TcSpecError(`${what} ${JSON.stringify(v)} has an unknown unit (use bit, kbit, mbit, gbit, Bps, ...)`)
    bits = n * scale
  } else {
    bits = finite(v, what)
  }
  const bytes = Math.trunc(bits / 8)
  if (bytes < 1) throw new TcSpecError(`${what} ${JSON.stringify(v)} is below 8 bit/s`)
  if (bytes > Number.MAX_SAFE_INTEGER) throw new TcSpecError(`${what} ${JSON.stringify(v)} is too large`)
  return bytes
}

/** Bytes, from a number or tc text, up to 2^32 - 1 (a u32 in every struct that holds one). */
export function parseSize(v: Size, what = 'size'): number {
  let bytes: number
  if (typeof v === 'string') {
    const [n, suffix] = split(v, what)
    const scale = suffix === '' ? 1 : SIZE_SUFFIXES[suffix]
    if (scale === undefined) throw new TcSpecError(`${what} ${JSON.stringify(v)} has an unknown unit (use b, k, kb, m, mb, kbit, mbit)`)
    bytes = n * scale
  } else {
    bytes = finite(v, what)
  }
  if (!Number.isInteger(bytes)) throw new TcSpecError(`${what} ${JSON.stringify(v)} is not a whole number of bytes`)
  if (bytes > 0xffffffff) throw new TcSpecError(`${what} ${JSON.stringify(v)} exceeds 4 GiB`)
  return bytes
}

/** Microseconds (truncated, as get_time does), from a number of µs or tc text. */
export function parseTime(v: Time, what = 'time'): number {
  let us: number
  if (typeof v === 'string') {
    const [n, suffix] = split(v, what)
    const scale = suffix === '' ? 1 : TIME_SUFFIXES[suffix]
    if (scale === undefined) throw new TcSpecError(`${what} ${JSON.stringify(v)} has an unknown unit (use s, ms, us)`)
    us = n * scale
  } else {
    us = finite(v, what)
  }
  us = Math.trunc(us)
  if (us > 0xffffffff) throw new TcSpecError(`${what} ${JSON.stringify(v)} is too long`)
  return us
}

/** A probability as the kernel's u32 fraction of 2^32 - 1 (rint, as tc's set_percent). */
export function parsePercent(v: Percent, what = 'percentage'): number {
  let p: number
  if (typeof v === 'string') {
    const m = /^([0-9]+(?:\.[0-9]*)?)%?$/.exec(v.trim())
    if (!m) throw new TcSpecError(`${what} ${JSON.stringify(v)} is not a percentage such as '1%'`)
    p = Number(m[1])
  } else {
    p = finite(v, what)
  }
  if (p > 100) throw new TcSpecError(`${what} ${JSON.stringify(v)} is above 100%`)
  return rint((p / 100) * 0xffffffff)
}

/** C's rint(): to nearest, ties to even. */
function rint(x: number): number {
  const r = Math.round(x)
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r
}

/** The u32 fraction back to percent, as tc -j prints it. */
export function percentOf(fraction: number): number {
  return Math.round((fraction / 0xffffffff) * 100 * 1e4) / 1e4
}

interface Psched {
  /** psched ticks per microsecond (15.625 with a 64 ns tick). */
  readonly ticksPerUs: number
  /** What iproute2's get_hz() returns (1e9 on high-resolution kernels). */
  readonly hz: number
}

let psched: Psched | undefined

/** /proc/net/psched as iproute2's tc_core_init() and get_hz() read it; read once. */
export function pschedClock(): Psched {
  if (psched) return psched
  let fields = [1000, 64, 1_000_000, 1_000_000_000]
  try {
    const parsed = readFileSync('/proc/net/psched', 'utf8')
      .trim()
      .split(/\s+/)
      .map((h) => parseInt(h, 16))
    if (parsed.length >= 4 && parsed.every((n) => Number.isFinite(n) && n > 0)) fields = parsed
  } catch {
    /* not Linux or no /proc: keep the kernel's defaults */
  }
  let [t2us, us2t, clockRes, hzField] = fields as [number, number, number, number]
  if (clockRes === 1e9) t2us = us2t
  const ticksPerUs = (t2us / us2t) * (clockRes / 1e6)
  return (psched = { ticksPerUs, hz: clockRes === 1e6 ? hzField : 1000 })
}

/** Ticks to send `size` bytes at `rate` bytes/s: iproute2 6.1 tc_calc_xmittime (truncates twice). */
export function xmitTicks(rate: number, size: number, ticksPerUs = pschedClock().ticksPerUs): number {
  // Same operation order as C (size/rate first): the doubles must round the same way.
  const us = Math.trunc(1e6 * (size / rate)) >>> 0
  return Math.trunc(us * ticksPerUs) >>> 0
}

/** Bytes sent in `ticks` at `rate` bytes/s: tc_calc_xmitsize, what tc prints as burst. */
export function xmitSize(rate: number, ticks: number): number {
  return Math.trunc((rate * Math.trunc(ticks / pschedClock().ticksPerUs)) / 1e6)
}

/** Whether a time in µs overflows a u32 once turned into ticks (tc_core_time2big). */
export function ticksOverflow(us: number): boolean {
  return us * pschedClock().ticksPerUs > 0xffffffff
}

/** Ticks for a time in µs (tc_core_time2tick). */
export function usToTicks(us: number): number {
  return Math.trunc(us * pschedClock().ticksPerUs) >>> 0
}

/** µs for ticks (tc_core_tick2time). */
export function ticksToUs(ticks: number): number {
  return Math.trunc(ticks / pschedClock().ticksPerUs)
}

const rateTables = new Map<string, { readonly table: Buffer; readonly cellLog: number }>()

/**
 * The 256-entry rate table tc sends (tc_calc_rtable, Ethernet link layer): cell_log is the
 * smallest shift that fits mtu (2047 when 0) into 256 cells. Returns the table and cell_log.
 */
export function rateTable(rate32: number, mtu: number, mpu: number): { readonly table: Buffer; readonly cellLog: number } {
  const key = `${rate32}/${mtu}/${mpu}`
  const hit = rateTables.get(key)
  if (hit) return hit
  const m = mtu || 2047
  let cellLog = 0
  while (m >> cellLog > 255) cellLog++
  const table = Buffer.alloc(1024)
  const ticksPerUs = pschedClock().ticksPerUs
  for (let i = 0; i < 256; i++) {
    const size = Math.max((i + 1) << cellLog, mpu)
    table.writeUInt32LE(xmitTicks(rate32, size, ticksPerUs), i * 4)
  }
  // Labs shape many links alike: the same table is built again and again. Shared, never written to.
  if (rateTables.size >= 256) rateTables.clear()
  const out = { table, cellLog }
  rateTables.set(key, out)
  return out
}
