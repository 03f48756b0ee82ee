// Printing nsnet's decoded objects the way `ip` prints them, so a walkthrough's output
// reads like the commands it stands for.
import type { Route } from '../../src/ops/routes/types.js'

/** One line of `ip route`: `10.0.2.0/24 dev veth1 proto kernel scope link src 10.0.2.1`. */
export function routeLine(r: Route): string {
  const parts: string[] = []
  if (r.type && r.type !== 'unicast') parts.push(r.type)
  parts.push(r.dst)
  if (r.gateway) parts.push('via', r.gateway)
  if (r.dev) parts.push('dev', r.dev)
  if (r.table && r.table !== 'main') parts.push('table', r.table)
  if (r.protocol && r.protocol !== 'boot' && r.protocol !== 'unspec') parts.push('proto', r.protocol)
  if (r.scope && r.scope !== 'global') parts.push('scope', r.scope)
  if (r.prefsrc) parts.push('src', r.prefsrc)
  if (r.metric !== undefined) parts.push('metric', String(r.metric))
  for (const f of r.flags ?? []) parts.push(f)
  return parts.join(' ')
}

/** Two blocks of text next to each other, with titles. */
export function sideBySide(left: { title: string; lines: string[] }, right: { title: string; lines: string[] }): string {
  const width = Math.max(left.title.length, ...left.lines.map((l) => l.length)) + 4
  const rows = Math.max(left.lines.length, right.lines.length)
  const out = [`${left.title.padEnd(width)}${right.title}`, `${'-'.repeat(left.title.length).padEnd(width)}${'-'.repeat(right.title.length)}`]
  for (let i = 0; i < rows; i++) out.push(`${(left.lines[i] ?? '').padEnd(width)}${right.lines[i] ?? ''}`.trimEnd())
  return out.join('\n')
}

/** `ip -br addr`-like lines from an address list shaped like `ip -j addr`. */
export function briefAddresses(list: ReadonlyArray<Record<string, unknown>>): string[] {
  return list.map((a) => {
    const local = (a.local ?? a.address) as string | undefined
    const plen = (a.prefixlen ?? a.prefixLength) as number | undefined
    return `${String(a.ifname ?? a.dev ?? a.label ?? '?').padEnd(16)} ${local ?? '?'}${plen !== undefined ? `/${plen}` : ''}`
  })
}
