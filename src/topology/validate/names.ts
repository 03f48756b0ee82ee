// Phase 1: the spec's shape and the names in it: top-level fields, the lab name and
// prefix, pools, hosts (and the namespace names they become).
import { Pool } from '../addressing.js'
import { CURRENT_NODE } from '../spec.js'
import type { Drafts } from './drafts.js'

const NETNS_NAME = /^[A-Za-z0-9_.+-]+$/

export function checkNames(d: Drafts): void {
  const { c, spec: s } = d
  d.name = s.name === undefined ? 'lab' : c.string('name', s.name) ? s.name : 'lab'
  if (s.prefix !== undefined) {
    if (typeof s.prefix === 'string' && (s.prefix === '' || NETNS_NAME.test(s.prefix))) d.prefix = s.prefix
    else c.fail('prefix', `${JSON.stringify(s.prefix)} may hold only letters, digits and _ . + -`)
  }

  c.array('pools', s.pools).forEach((p, i) => {
    const path = `pools[${i}]`
    if (!c.fields(path, p, ['name', 'subnet'], ['name', 'subnet'])) return
    const subnet = c.interfaceCidr(`${path}.subnet`, p.subnet)
    if (!c.string(`${path}.name`, p.name) || !subnet) return
    if (d.pools.has(p.name)) return c.fail(`${path}.name`, `duplicate pool "${p.name}" (also ${d.pools.get(p.name)!.path})`)
    d.pools.set(p.name, { pool: new Pool(subnet), cidr: subnet, path })
  })

  c.array('hosts', s.hosts).forEach((h, i) => {
    const path = `hosts[${i}]`
    if (!c.fields(path, h, ['name', 'lo', 'forwarding', 'sysctls', 'gateway', 'routes', 'nat', 'dns', 'processes'], ['name'])) return
    if (!c.string(`${path}.name`, h.name)) return
    const current = h.name === CURRENT_NODE
    const netns = current ? null : d.prefix + h.name
    if (netns !== null && (!NETNS_NAME.test(netns) || netns === '.' || netns === '..' || Buffer.byteLength(netns) > 255)) {
      return c.fail(`${path}.name`, `namespace name "${netns}" may hold only letters, digits and _ . + - (at most 255 bytes)`)
    }
    if (d.hosts.has(h.name)) return c.fail(`${path}.name`, `duplicate host "${h.name}" (also ${d.hosts.get(h.name)!.path})`)
    d.hosts.set(h.name, { node: h.name, path, netns, spec: h, ifnames: new Map([['lo', 'the loopback device']]) })
  })
}
