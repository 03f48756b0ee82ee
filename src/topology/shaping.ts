// Shaped links (Mininet's TCLink): `rate`, `burst`, `limit`, `delay`, `jitter` and `loss` on a
// link (both ends' egress) or on one end (that end's egress). A rate becomes a tbf at the root
// of the end (handle 5:); delay, jitter and loss become netem under it (handle 10:) where the
// kernel has netem. Without netem, loss alone becomes an nf_tables rule in the end's namespace
// (`oifname END numgen random mod 10000 < P*100 drop` in chain `loss` of table `inet nsnet`,
// which goes with the namespace), and delay or jitter are refused before anything is made.
// `ingress: { rate }` on an end shapes what arrives there: an ifb in the end's namespace, the
// end's ingress qdisc with a match-all u32 filter redirecting (mirred) to it, a tbf on the ifb.

import type { RtnlApi } from '../api.js'
import { NsnetError } from '../netlink/errors.js'
import { parsePercent, parseRate, parseSize, parseTime, TcSpecError } from '../ops/tc/units.js'
import { Rtnl } from '../rtnl.js'
import type { ResolvedTopology } from './spec.js'

/** What a link or one of its ends may say about shaping. */
export interface ShapingSpec {
  /** Egress rate: bits/s or tc text ('10mbit'). */
  readonly rate?: number | string
  /** Token bucket size: bytes or tc text; default 10 ms of the rate, at least 3200 bytes. */
  readonly burst?: number | string
  /** Queue in bytes (tbf limit); default 50 ms of the rate plus the burst. */
  readonly limit?: number | string
  /** One-way delay: µs or tc text ('20ms'); needs netem. */
  readonly delay?: number | string
  readonly jitter?: number | string
  /** Random loss in percent; needs netem. */
  readonly loss?: number | string
}

export const SHAPING_KEYS = ['rate', 'burst', 'limit', 'delay', 'jitter', 'loss'] as const

/** What an end's `ingress` may say: a rate (tbf on the ifb the traffic is redirected to). */
export type IngressShapingSpec = Pick<ShapingSpec, 'burst' | 'limit'> & { readonly rate: number | string }

export const INGRESS_KEYS = ['rate', 'burst', 'limit'] as const

/** The checked shaping of one end, in the kernel's units. */
export interface ResolvedShaping {
  /** bits/s, as given (tc text is kept for the script). */
  readonly rate?: string
  readonly burst?: number
  readonly limit?: number
  readonly delay?: string
  readonly jitter?: string
  readonly loss?: number
}

/** The checked ingress shaping of an end, and the ifb its traffic is redirected to. */
export interface ResolvedIngress extends ResolvedShaping {
  readonly rate: string
  readonly ifb: string
}

/**
 * The shaping of one end: the link's values, then the end's own over them. Problems go to
 * `fail(path, message)`; returns undefined when nothing is shaped.
 */
export function resolveShaping(
  link: Record<string, unknown>,
  end: Record<string, unknown> | undefined,
  path: string,
  endPath: string,
  fail: (path: string, message: string) => void,
): ResolvedShaping | undefined {
  const merged: Record<string, unknown> = {}
  const from: Record<string, string> = {}
  for (const [src, p] of [
    [link, path],
    [end ?? {}, endPath],
  ] as const) {
    for (const k of SHAPING_KEYS)
      if (src[k] !== undefined) {
        merged[k] = src[k]
        from[k] = `${p}.${k}`
      }
  }
  if (!Object.keys(merged).length) return undefined
  const out: Record<string, unknown> = {}
  const check = (k: string, parse: (v: never) => number) => {
    if (merged[k] === undefined) return undefined
    try {
      return parse(merged[k] as never)
    } catch (e) {
      if (e instanceof TcSpecError) {
        fail(from[k]!, e.message)
        return undefined
      }
      throw e
    }
  }
  const rate = check('rate', (v) => parseRate(v))
  if (rate !== undefined) out.rate = typeof merged.rate === 'string' ? merged.rate : `${merged.rate}bit`
  const burst = check('burst', (v) => parseSize(v))
  if (burst !== undefined) out.burst = burst
  const limit = check('limit', (v) => parseSize(v))
  if (limit !== undefined) out.limit = limit
  if ((burst !== undefined || limit !== undefined) && rate === undefined) fail(from.burst ?? from.limit!, 'burst and limit shape a rate; give a rate too')
  if (check('delay', (v) => parseTime(v)) !== undefined) out.delay = String(merged.delay)
  if (check('jitter', (v) => parseTime(v)) !== undefined) {
    out.jitter = String(merged.jitter)
    if (merged.delay === undefined) fail(from.jitter!, 'jitter needs a delay')
  }
  const loss = check('loss', (v) => parsePercent(v))
  if (loss !== undefined) out.loss = typeof merged.loss === 'number' ? merged.loss : Number(String(merged.loss).replace('%', ''))
  return out as ResolvedShaping
}

/** An end's `ingress` (already checked to hold only INGRESS_KEYS and a rate); undefined after a problem. */
export function resolveIngress(
  raw: Record<string, unknown>,
  path: string,
  ifb: string,
  fail: (path: string, message: string) => void,
): ResolvedIngress | undefined {
  let ok = true
  const s = resolveShaping({}, raw, path, path, (p, m) => {
    ok = false
    fail(p, m)
  })
  return ok && s?.rate !== undefined ? { ...s, rate: s.rate, ifb } : undefined
}

/** The ifb for the ingress of `ifname`: `ifb-IFNAME` where that fits in 15 bytes, else `ifbL<index><side>`. */
export function ifbName(ifname: string, index: number, side: 'a' | 'b'): string {
  const name = `ifb-${ifname}`
  return Buffer.byteLength(name) <= 15 ? name : `ifbL${index}${side}`
}

/** The tbf options for a rate: burst 10 ms of it (at least two MTUs), queue 50 ms plus the burst. */
export function tbfOptions(s: ResolvedShaping): { rate: string; burst: number; limit: number } {
  const bytes = parseRate(s.rate!)
  const burst = s.burst ?? Math.max(3200, Math.ceil(bytes / 100))
  return { rate: s.rate!, burst, limit: s.limit ?? Math.ceil(bytes / 20) + burst }
}

/** netem's options for delay/jitter/loss, or undefined when none is asked for. */
export function netemOptions(s: ResolvedShaping): Record<string, unknown> | undefined {
  if (s.delay === undefined && s.loss === undefined) return undefined
  return { ...(s.delay ? { delay: s.delay } : {}), ...(s.jitter ? { jitter: s.jitter } : {}), ...(s.loss !== undefined ? { loss: s.loss } : {}) }
}

let netem: Promise<boolean> | undefined

/** Whether the kernel has qdisc netem: one probe per process (qdisc kinds are the kernel's, not a namespace's). */
export function kernelHasNetem(): Promise<boolean> {
  if (!netem) {
    netem = (async () => {
      const rt = await Rtnl.open()
      try {
        return await rt.tc.qdiscs.supports('netem')
      } finally {
        await rt.close()
      }
    })()
    netem.catch(() => {
      netem = undefined
    })
  }
  return netem
}

/** Whether an end's netem part is only loss, which nf_tables can stand in for. */
function lossOnly(s: ResolvedShaping): boolean {
  return s.loss !== undefined && s.delay === undefined && s.jitter === undefined
}

/**
 * Refuses, before anything is made, shaping the kernel cannot do: without netem, delay and
 * jitter anywhere, and loss on an end in the current namespace (its nf_tables rule would
 * outlive the lab there).
 */
export async function checkShapingSupport(topo: ResolvedTopology): Promise<void> {
  const delayed: string[] = []
  const lossyHere: string[] = []
  const here = new Set(topo.hosts.filter((h) => h.netns === null).map((h) => h.node))
  for (const v of topo.veths) {
    for (const [side, e] of [
      ['a', v.a],
      ['b', v.b],
    ] as const) {
      const n = e.shaping && netemOptions(e.shaping)
      if (!n) continue
      if (!lossOnly(e.shaping!))
        delayed.push(
          `links[${v.index}].${side} (${Object.keys(n)
            .filter((k) => k !== 'loss')
            .join(', ')})`,
        )
      else if (here.has(e.host)) lossyHere.push(`links[${v.index}].${side}`)
    }
  }
  if (!delayed.length && !lossyHere.length) return
  if (await kernelHasNetem()) return
  const ctx = { code: 'EUNSUPPORTED', operation: 'topology.up', object: 'shaped links' } as const
  if (delayed.length) {
    throw new NsnetError(`kernel has no qdisc netem, which delay and jitter need: ${delayed.join('; ')}`, {
      ...ctx,
      hint: 'the running kernel was built without CONFIG_NET_SCH_NETEM; rate (tbf) and loss (nf_tables numgen) work without it',
    })
  }
  throw new NsnetError(`kernel has no qdisc netem, and loss through nf_tables needs the end in a namespace of the lab: ${lossyHere.join('; ')}`, {
    ...ctx,
    hint: 'an nf_tables rule in the current namespace would outlive the lab; put that end in a host with its own namespace',
  })
}

/** The nft script that drops `loss`% of what leaves `ifname`, as dropRandom writes it. */
export function lossScript(ifname: string, loss: number): string {
  return [
    'table inet nsnet {',
    '  chain loss {',
    '    type filter hook postrouting priority filter; policy accept;',
    `    oifname "${ifname}" numgen random mod 10000 < ${Math.round(loss * 100)} drop`,
    '  }',
    '}',
  ].join('\n')
}

/**
 * The commands for one shaped end, as Topology.script() prints them. Loss alone is netem where
 * the kernel has it, else the nf_tables rule up() writes instead: the script tries netem first.
 */
export function shapeCommands(prefix: string, ifname: string, s: ResolvedShaping, quote: (word: string) => string = (w) => w): string[] {
  const lines: string[] = []
  const dev = quote(ifname)
  if (s.rate !== undefined) lines.push(tbfCommand(prefix, dev, s))
  const n = netemOptions(s)
  if (n) {
    const args = [n.delay ? `delay ${n.delay}${n.jitter ? ` ${n.jitter}` : ''}` : '', n.loss !== undefined ? `loss ${n.loss}%` : ''].filter(Boolean).join(' ')
    const netemLine = `${prefix}tc qdisc replace dev ${dev} ${s.rate !== undefined ? 'parent 5:1' : 'root'} handle 10: netem ${args}`
    lines.push(lossOnly(s) ? `${netemLine} 2>/dev/null ||\n  ${prefix}nft -f - <<'EOF'\n${lossScript(ifname, s.loss!)}\nEOF` : netemLine)
  }
  return lines
}

function tbfCommand(prefix: string, dev: string, s: ResolvedShaping): string {
  const t = tbfOptions(s)
  return `${prefix}tc qdisc replace dev ${dev} root handle 5: tbf rate ${t.rate} burst ${t.burst} limit ${t.limit}`
}

/** The commands that shape what arrives at `ifname`, as Topology.script() prints them (applyIngress does the same). */
export function ingressCommands(prefix: string, ifname: string, s: ResolvedIngress, quote: (word: string) => string = (w) => w): string[] {
  const dev = quote(ifname)
  const ifb = quote(s.ifb)
  return [
    `${prefix}ip link add ${ifb} up type ifb`,
    tbfCommand(prefix, ifb, s),
    `${prefix}tc qdisc add dev ${dev} ingress`,
    `${prefix}tc filter add dev ${dev} parent ffff: protocol all pref 1 u32 match u32 0 0 action mirred egress redirect dev ${ifb}`,
  ]
}

/** Shapes what arrives at `ifname`: the ifb with its tbf, then the ingress qdisc and the redirect into the ifb. */
export async function applyIngress(api: RtnlApi, ifname: string, s: ResolvedIngress): Promise<void> {
  await api.links.add({ kind: 'ifb', name: s.ifb, up: true })
  await api.tc.qdiscs.replace({ dev: s.ifb, kind: 'tbf', handle: '5:', options: tbfOptions(s) })
  await api.tc.qdiscs.add({ dev: ifname, kind: 'ingress' })
  await api.tc.filters.add({ dev: ifname, parent: 'ffff:', protocol: 'all', pref: 1, kind: 'u32', options: { actions: [{ kind: 'mirred', to_dev: s.ifb }] } })
}

/** What apply does for one shaped end, through the node's API (Rtnl or a namespace handle). */
export async function applyShaping(api: RtnlApi, ifname: string, s: ResolvedShaping): Promise<void> {
  if (s.rate !== undefined) await api.tc.qdiscs.replace({ dev: ifname, kind: 'tbf', handle: '5:', options: tbfOptions(s) })
  const n = netemOptions(s)
  if (!n) return
  // checkShapingSupport() has refused what nf_tables cannot stand in for.
  if (lossOnly(s) && !(await kernelHasNetem())) {
    await api.nft.dropRandom(s.loss!, { out: ifname })
    return
  }
  await api.tc.qdiscs.replace({ dev: ifname, kind: 'netem', handle: '10:', ...(s.rate !== undefined ? { parent: '5:1' } : {}), options: n })
}

/** How a drawing shows an end's shaping: '[10mbit 20ms 1% loss]', and its ingress: '[in 5mbit]'. */
export function shapingLabel(s: ResolvedShaping | undefined, ingress?: ResolvedIngress): string {
  const parts = s
    ? [s.rate, s.delay && (s.jitter ? `${s.delay}±${s.jitter}` : s.delay), s.loss !== undefined ? `${s.loss}% loss` : undefined].filter(Boolean)
    : []
  return (parts.length ? ` [${parts.join(' ')}]` : '') + (ingress ? ` [in ${ingress.rate}]` : '')
}
