// tc handles and class ids: 32-bit major:minor, written in hex as tc writes them ('5:', '5:1',
// 'ffff:fff1', 'root'). get_tc_classid / sprint_tc_classid in iproute2 are the model.
import { TC_H_INGRESS, TC_H_ROOT } from './constants.js'

/** A handle or class id: tc text ('5:', '5:0', '5:1', ':1', 'root', 'ingress') or the 32-bit number. */
export type TcHandle = string | number

/** The 32-bit value of a handle; undefined when it is not one. */
export function parseHandle(v: TcHandle): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : undefined
  if (typeof v !== 'string') return undefined
  const s = v.trim().toLowerCase()
  if (s === 'root') return TC_H_ROOT
  if (s === 'ingress' || s === 'clsact') return TC_H_INGRESS
  if (s === 'none') return 0
  const m = /^([0-9a-f]{0,4}):([0-9a-f]{0,4})$/.exec(s)
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  const major = m[1] === '' ? 0 : parseInt(m[1]!, 16)
  const minor = m[2] === '' ? 0 : parseInt(m[2]!, 16)
  return ((major << 16) | minor) >>> 0
}

/** A class id as tc prints it: 'root', '5:1', '5:', ':1'. */
export function formatClassid(h: number): string {
  if (h === TC_H_ROOT) return 'root'
  if (h === 0) return 'none'
  const major = h >>> 16
  const minor = h & 0xffff
  if (major === 0) return `:${minor.toString(16)}`
  if (minor === 0) return `${major.toString(16)}:`
  return `${major.toString(16)}:${minor.toString(16)}`
}

/** A qdisc handle as tc prints it: the major only ('5:'). */
export function formatQdiscHandle(h: number): string {
  return `${(h >>> 16).toString(16)}:`
}
