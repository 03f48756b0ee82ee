// `nsnet schema` stays equal to the validator: the same objects with the same fields and the
// same required ones as validate()'s field checks, and a spec that uses every field the schema
// names is one that validate() accepts.
import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { specSchema } from '../../src/cli/spec-schema.js'
import { validate } from '../../src/topology/validate.js'

interface Node { type?: unknown; properties?: Record<string, Node>; required?: string[]; items?: Node; oneOf?: Node[]; additionalProperties?: unknown }

/** Every object in the schema, as `allowed | required` (sorted), with the paths it appears at. */
function schemaObjects(n: Node, path: string, out: Map<string, string[]>): Map<string, string[]> {
  if (n.type === 'object' && n.properties) {
    const sig = `${Object.keys(n.properties).sort().join(',')} | ${[...(n.required ?? [])].sort().join(',')}`
    out.set(sig, [...(out.get(sig) ?? []), path])
    expect(n.additionalProperties, `${path} refuses unknown fields, as validate() does`).toBe(false)
    for (const [k, v] of Object.entries(n.properties)) schemaObjects(v, `${path}.${k}`, out)
  }
  if (n.items) schemaObjects(n.items, `${path}[]`, out)
  for (const o of n.oneOf ?? []) schemaObjects(o, path, out)
  return out
}

/** What validate.ts checks with `c.fields(path, v, [allowed], [required])`, read from its source. */
function validatorObjects(): Set<string> {
  const src = readFileSync(new URL('../../src/topology/validate.ts', import.meta.url), 'utf8')
  const lists = (s: string) => [...s.matchAll(/'([^']+)'/g)].map((m) => m[1]!).sort().join(',')
  const out = new Set<string>()
  for (const m of src.matchAll(/c\.fields\([^,]+,[^,]+,\s*\[([^\]]*)\](?:,\s*\[([^\]]*)\])?\)/g)) out.add(`${lists(m[1]!)} | ${lists(m[2] ?? '')}`)
  return out
}

/** A spec using every field of the schema at least once. */
const everything = {
  name: 'all', prefix: 'sch-',
  pools: [{ name: 'lan', subnet: '10.60.0.0/24' }, { name: 'br', subnet: '10.63.0.0/24' }],
  hosts: [
    {
      name: 'r', lo: true, forwarding: true, sysctls: { 'net.ipv4.conf.all.rp_filter': 0 },
      routes: [{ dst: '10.61.0.0/24', via: '10.60.0.2', dev: 'eth0', scope: 'global', src: '10.60.0.1', metric: 5, table: 'main' }],
      nat: [{ masquerade: '10.60.0.0/24', out: 'eth0', backend: 'auto' }],
      dns: { nameservers: ['10.60.0.2'], search: ['lab'] },
      processes: [{ name: 'p', command: ['sleep', '1'], env: { A: 'b' }, readyTcpPort: 7, readyText: 'ready' }],
    },
    { name: 'c', gateway: 'r' },
  ],
  bridges: [{ name: 'schbr0', in: 'host', addresses: ['10.62.0.1/24', { pool: 'br' }], mtu: 1500 }],
  links: [
    { a: { node: 'r', ifname: 'eth0', addresses: [{ pool: 'lan' }], mac: '02:00:00:00:00:01' }, b: { node: 'c', ifname: 'eth0', addresses: [{ pool: 'lan' }], mac: '02:00:00:00:00:02' }, mtu: 1400 },
    { a: 'c', b: 'schbr0' },
  ],
}

function usedPaths(v: unknown, path: string, out: Set<string>): Set<string> {
  if (Array.isArray(v)) for (const x of v) usedPaths(x, `${path}[]`, out)
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.add(`${path}.${k}`)
      if (!k.includes('.') && path !== 'spec.hosts[].processes[].env') usedPaths(x, `${path}.${k}`, out)
    }
  }
  return out
}

describe('nsnet schema', () => {
  test('has the objects validate() checks: the same fields, the same required ones', () => {
    const schema = schemaObjects(specSchema as Node, 'spec', new Map())
    expect(new Set(schema.keys())).toEqual(validatorObjects())
  })

  test('a spec that uses every field the schema names passes validate()', () => {
    const fields = [...schemaObjects(specSchema as Node, 'spec', new Map()).entries()].flatMap(([sig, paths]) =>
      paths.flatMap((p) => sig.split(' | ')[0]!.split(',').map((k) => `${p}.${k}`)))
    const used = usedPaths(everything, 'spec', new Set())
    expect(fields.filter((f) => !used.has(f))).toEqual([])
    expect(() => validate(everything)).not.toThrow()
  })

  test('validate() refuses a field the schema does not name, at every object', () => {
    for (const [path, patch] of [
      ['spec', { ...everything, extra: 1 }],
      ['spec.hosts[0]', { ...everything, hosts: [{ ...everything.hosts[0], extra: 1 }, everything.hosts[1]] }],
      ['spec.links[0].a', { ...everything, links: [{ ...everything.links[0], a: { node: 'r', extra: 1 } }, everything.links[1]] }],
    ] as const) {
      expect(() => validate(patch), path).toThrow(/unknown field/)
    }
  })
})
