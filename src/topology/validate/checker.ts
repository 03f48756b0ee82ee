// The checks every phase shares: each one records a problem (with its path) instead of
// throwing, so one run reports everything that is wrong.
import { type Cidr, parseCidr, parseIP } from '../../netlink/codec.js'
import type { NsnetError } from '../../netlink/errors.js'
import { checkLinkName } from '../../ops/context.js'
import type { SpecProblem } from './spec-error.js'

const ifnameCtx = { namespace: undefined }

/** Edit distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = cur
    }
  }
  return row[b.length]!
}

/** ` (did you mean "x"?)` for the closest candidate, or '' when none is close. */
export function suggest(name: string, candidates: Iterable<string>): string {
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    const d = distance(name, c)
    if (d < bestD) {
      bestD = d
      best = c
    }
  }
  return best !== undefined && bestD < name.length && bestD <= Math.max(1, Math.floor(name.length / 3)) ? ` (did you mean "${best}"?)` : ''
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export class Checker {
  readonly problems: SpecProblem[] = []

  fail(path: string, message: string): void {
    this.problems.push({ path, message })
  }

  fields(path: string, v: unknown, allowed: readonly string[], required: readonly string[] = []): v is Record<string, unknown> {
    if (!isObject(v)) {
      this.fail(path, `must be an object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`)
      return false
    }
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) this.fail(`${path}.${k}`, `unknown field${suggest(k, allowed)}`)
    }
    for (const k of required) if (v[k] === undefined) this.fail(`${path}.${k}`, 'is required')
    return true
  }

  array(path: string, v: unknown): readonly unknown[] {
    if (v === undefined) return []
    if (!Array.isArray(v)) {
      this.fail(path, 'must be an array')
      return []
    }
    return v
  }

  string(path: string, v: unknown): v is string {
    if (typeof v === 'string' && v.length > 0) return true
    this.fail(path, `must be a non-empty string, got ${JSON.stringify(v)}`)
    return false
  }

  boolean(path: string, v: unknown): boolean | undefined {
    if (v === undefined || typeof v === 'boolean') return v
    this.fail(path, `must be true or false, got ${JSON.stringify(v)}`)
    return undefined
  }

  integer(path: string, v: unknown, min: number, max: number): number | undefined {
    if (v === undefined) return undefined
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v
    this.fail(path, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`)
    return undefined
  }

  ifname(path: string, v: unknown): v is string {
    try {
      checkLinkName(v, ifnameCtx, 'topology.validate', 'interface name')
      return true
    } catch (e) {
      this.fail(path, (e as NsnetError).summary)
      return false
    }
  }

  ip(path: string, v: unknown): { family: 4 | 6; text: string } | undefined {
    if (typeof v === 'string') {
      const p = parseIP(v)
      if (p) return { family: p.family, text: parseCidr(v)!.address }
    }
    this.fail(path, `${JSON.stringify(v)} is not an IP address`)
    return undefined
  }

  /** Parses `10.0.0.1/24` strictly (prefix length required). */
  interfaceCidr(path: string, v: unknown): Cidr | undefined {
    if (typeof v === 'string' && v.includes('/')) {
      const cidr = parseCidr(v)
      if (cidr) return cidr
    }
    this.fail(path, `${JSON.stringify(v)} is not an address with a prefix length (like 10.0.0.1/24)`)
    return undefined
  }
}
