// The ruleset as `nft list ruleset` prints it, for walkthroughs and logs: a reader who
// knows nft reads our objects in the syntax they know (checked against nft's own output).

import type { Ruleset } from './nft.js'
import type { Chain, Rule, Table } from './objects.js'
import type { Left, NatSpec, PortSpec, Right, Statement } from './statements.js'

const PRIORITY_NAMES: Record<number, string> = { [-300]: 'raw', [-150]: 'mangle', [-100]: 'dstnat', 0: 'filter', 50: 'security', 100: 'srcnat' }

/** As `nft list ruleset`. */
export function formatRuleset(r: Ruleset): string {
  const out: string[] = []
  for (const item of r.nftables) {
    if (!('table' in item)) continue
    const t = item.table
    const chains = r.nftables.flatMap((x) => ('chain' in x && x.chain.family === t.family && x.chain.table === t.name ? [x.chain] : []))
    const rules = r.nftables.flatMap((x) => ('rule' in x && x.rule.family === t.family && x.rule.table === t.name ? [x.rule] : []))
    out.push(formatTable(t, chains, rules))
  }
  return out.join('')
}

/** As `nft list table FAMILY NAME`. */
export function formatTable(t: Table, chains: readonly Chain[], rules: readonly Rule[]): string {
  const body = chains
    .map((c) =>
      formatChain(
        c,
        rules.filter((r) => r.chain === c.name),
      ),
    )
    .join('\n')
  return `table ${t.family} ${t.name} {\n${body}}\n`
}

function formatChain(c: Chain, rules: readonly Rule[]): string {
  const lines = [`\tchain ${c.name} {`]
  if (c.hook !== undefined) {
    const prio = typeof c.prio === 'number' ? (PRIORITY_NAMES[c.prio] ?? String(c.prio)) : String(c.prio)
    lines.push(`\t\ttype ${c.type} hook ${c.hook} priority ${prio}; policy ${c.policy ?? 'accept'};`)
  }
  for (const r of rules) lines.push(`\t\t${formatRule(r)}`)
  lines.push('\t}')
  return `${lines.join('\n')}\n`
}

/** One rule's statements as nft prints them (`oifname != "br0" ip saddr 192.168.0.0/24 masquerade`). */
export function formatRule(r: Pick<Rule, 'expr' | 'comment'>): string {
  const s = r.expr.map(formatStatement).join(' ')
  return r.comment === undefined ? s : `${s} comment ${JSON.stringify(r.comment)}`
}

function formatStatement(s: Statement): string {
  if ('match' in s) {
    const { op, left, right } = s.match
    const l = formatLeft(left)
    const r = formatRight(left, right)
    if (op === 'in' || op === '==') return `${l} ${r}`
    return `${l} ${op} ${r}`
  }
  if ('accept' in s) return 'accept'
  if ('drop' in s) return 'drop'
  if ('return' in s) return 'return'
  if ('continue' in s) return 'continue'
  if ('jump' in s) return `jump ${s.jump.target}`
  if ('goto' in s) return `goto ${s.goto.target}`
  if ('counter' in s) return `counter packets ${s.counter?.packets ?? 0} bytes ${s.counter?.bytes ?? 0}`
  if ('limit' in s) {
    const l = s.limit
    return `limit rate ${l.inv ? 'over ' : ''}${l.rate}/${l.per}${l.burst !== undefined && l.burst !== 5 ? ` burst ${l.burst} packets` : ''}`
  }
  if ('masquerade' in s) return s.masquerade?.port === undefined ? 'masquerade' : `masquerade to :${formatPort(s.masquerade.port)}`
  if ('snat' in s) return `snat ${formatNat(s.snat)}`
  if ('dnat' in s) return `dnat ${formatNat(s.dnat)}`
  return `# raw ${s.raw.name} ${s.raw.data}`
}

function formatLeft(l: Left): string {
  if ('meta' in l) return l.meta.key === 'iifname' || l.meta.key === 'oifname' ? l.meta.key : `meta ${l.meta.key}`
  if ('payload' in l) return `${l.payload.protocol} ${l.payload.field}`
  if ('ct' in l) return `ct ${l.ct.key}`
  return `numgen ${l.numgen.mode} mod ${l.numgen.mod}${l.numgen.offset ? ` offset ${l.numgen.offset}` : ''}`
}

function formatRight(l: Left, r: Right): string {
  if (Array.isArray(r)) return r.join(',')
  if (typeof r === 'object' && r !== null && 'prefix' in r) return `${r.prefix.addr}/${r.prefix.len}`
  if (typeof r === 'object' && r !== null && 'range' in r) return `${r.range[0]}-${r.range[1]}`
  if ('meta' in l && (l.meta.key === 'iifname' || l.meta.key === 'oifname')) return JSON.stringify(r)
  if ('meta' in l && l.meta.key === 'mark' && typeof r === 'number') return `0x${r.toString(16).padStart(8, '0')}`
  return String(r)
}

function formatPort(p: PortSpec): string {
  return typeof p === 'number' ? String(p) : `${p.range[0]}-${p.range[1]}`
}

function formatNat(n: NatSpec): string {
  const addr = typeof n.addr === 'string' ? n.addr : `${n.addr.range[0]}-${n.addr.range[1]}`
  const a = addr.includes(':') && n.port !== undefined ? `[${addr}]` : addr
  return `${n.family ? `${n.family} ` : ''}to ${a}${n.port === undefined ? '' : `:${formatPort(n.port)}`}`
}
