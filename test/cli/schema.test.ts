// `nsnet schema` stays equal to the validator, checked by asking validate() itself: at every
// object of the schema, each field the schema names is accepted and every other name the
// validator knows anywhere is refused as an unknown field; each required field, when left out,
// is a problem; and a spec using every field of the schema passes validate().
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { specSchema } from '../../src/cli/spec-schema.js'
import { SpecError, validate } from '../../src/topology/validate/index.js'

interface Node {
  type?: unknown
  properties?: Record<string, Node>
  required?: string[]
  items?: Node
  oneOf?: Node[]
  additionalProperties?: unknown
}
interface SchemaObject {
  readonly path: string[]
  readonly fields: string[]
  readonly required: string[]
}

/** Every object in the schema with its path: property names, and `[]` for an array's items. */
function schemaObjects(n: Node, path: string[] = [], out: SchemaObject[] = []): SchemaObject[] {
  if (n.type === 'object' && n.properties) {
    out.push({ path, fields: Object.keys(n.properties).sort(), required: [...(n.required ?? [])].sort() })
    for (const [k, v] of Object.entries(n.properties)) schemaObjects(v, [...path, k], out)
  }
  if (n.items) schemaObjects(n.items, [...path, '[]'], out)
  for (const o of n.oneOf ?? []) schemaObjects(o, path, out)
  return out
}

/** A spec using every field of the schema at least once (an object at every place one may be). */
const everything = {
  name: 'all',
  prefix: 'sch-',
  pools: [
    { name: 'lan', subnet: '10.60.0.0/24' },
    { name: 'br', subnet: '10.63.0.0/24' },
  ],
  hosts: [
    {
      name: 'r',
      lo: true,
      forwarding: true,
      gateway: 'c',
      sysctls: { 'net.ipv4.conf.all.rp_filter': 0 },
      routes: [{ dst: '10.61.0.0/24', via: '10.60.0.2', dev: 'eth0', scope: 'global', src: '10.60.0.1', metric: 5, table: 'main' }],
      nat: [{ masquerade: '10.60.0.0/24', out: 'eth0', backend: 'nsnet' }],
      dns: { nameservers: ['10.60.0.2'], search: ['lab'] },
      processes: [{ name: 'p', command: ['sleep', '1'], env: { A: 'b' }, readyTcpPort: 7, readyText: 'ready' }],
    },
    { name: 'c', gateway: 'r' },
  ],
  bridges: [{ name: 'schbr0', in: 'host', addresses: [{ pool: 'br' }, '10.62.0.1/24'], mtu: 1500, kind: 'linux', vlanFiltering: true }],
  switches: [{ name: 'schsw0', kind: 'ovs', in: 'host', addresses: [{ pool: 'br' }], mtu: 1500, datapathType: 'netdev' }],
  links: [
    {
      a: {
        node: 'r',
        ifname: 'eth0',
        addresses: [{ pool: 'lan' }],
        mac: '02:00:00:00:00:01',
        ingress: { rate: 5_000_000, burst: 4096, limit: '64kb' },
        rate: '10mbit',
        burst: 4096,
        limit: '64kb',
        delay: '10ms',
        jitter: '1ms',
        loss: 1,
      },
      b: {
        node: 'c',
        ifname: 'eth0',
        addresses: [{ pool: 'lan' }],
        mac: '02:00:00:00:00:02',
        ingress: { rate: '5mbit', burst: '8kb', limit: 65536 },
        rate: 10_000_000,
        burst: '8kb',
        limit: 65536,
        delay: 1000,
        jitter: 100,
        loss: '0.5',
      },
      mtu: 1400,
      rate: '20mbit',
      burst: '8kb',
      limit: 65536,
      delay: 1000,
      jitter: 100,
      loss: '0.5',
    },
    { a: 'c', b: { node: 'schbr0', vlans: { pvid: 10, untagged: true, tagged: [20] } } },
    { a: { node: 'schbr0', vlans: { pvid: 20, untagged: false, tagged: [30] } }, b: 'r' },
  ],
}

type Json = Record<string, unknown>
/** Every object at a schema path in `spec`: fields that only fit some places (a port's vlans) sit on another one. */
function locateAll(spec: unknown, path: string[]): Json[] {
  if (path.length === 0) return spec !== null && typeof spec === 'object' && !Array.isArray(spec) ? [spec as Json] : []
  const [seg, ...rest] = path
  if (seg === '[]') return Array.isArray(spec) ? spec.flatMap((x) => locateAll(x, rest)) : []
  return spec !== null && typeof spec === 'object' ? locateAll((spec as Json)[seg!], rest) : []
}
/** The first object at a schema path in `spec` (trying each array element in turn), with validate()'s path for it (`hosts[0].routes[0]`). */
function locate(spec: unknown, path: string[], where = ''): { obj: Json; where: string } | undefined {
  if (path.length === 0) return spec !== null && typeof spec === 'object' && !Array.isArray(spec) ? { obj: spec as Json, where: where || 'spec' } : undefined
  const [seg, ...rest] = path
  if (seg === '[]') {
    if (!Array.isArray(spec)) return undefined
    for (let i = 0; i < spec.length; i++) {
      const found = locate(spec[i], rest, `${where}[${i}]`)
      if (found) return found
    }
    return undefined
  }
  if (spec === null || typeof spec !== 'object') return undefined
  return locate((spec as Json)[seg!], rest, where ? `${where}.${seg}` : seg!)
}

function problems(spec: unknown): Array<{ path: string; message: string }> {
  try {
    validate(spec)
    return []
  } catch (e) {
    if (e instanceof SpecError) return [...e.problems]
    throw e
  }
}

/** Every name the validator ever allows in a field list (its quoted words inside c.fields(...) calls). */
function validatorNames(): string[] {
  const dir = new URL('../../src/topology/validate/', import.meta.url)
  const src = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(new URL(f, dir), 'utf8'))
    .join('\n')
  const names = new Set<string>()
  for (const call of src.split('c.fields(').slice(1)) {
    for (const m of call.slice(0, call.indexOf(')) ') >= 0 ? call.indexOf(')) ') : 200).matchAll(/'([A-Za-z]+)'/g)) names.add(m[1]!)
  }
  return [...names]
}

describe('nsnet schema', () => {
  const objects = schemaObjects(specSchema as Node)

  test('a spec that uses every field the schema names passes validate()', () => {
    expect(problems(everything)).toEqual([])
    for (const o of objects) {
      const all = locateAll(everything, o.path)
      expect(all.length, `the example has an object at ${o.path.join('.')}`).toBeGreaterThan(0)
      expect([...new Set(all.flatMap((x) => Object.keys(x)))].sort(), `every field at ${o.path.join('.')}`).toEqual(o.fields)
    }
  })

  // Hundreds of validate() runs, each looking the processes' programs up in PATH: slow on a loaded machine.
  test('at every object, validate() accepts exactly the fields the schema names', { timeout: 180_000 }, () => {
    const candidates = [...new Set([...validatorNames(), ...objects.flatMap((o) => o.fields), 'zzUnknown'])]
    for (const o of objects) {
      const accepted: string[] = []
      for (const name of candidates) {
        const spec = structuredClone(everything) as Json
        const at = locate(spec, o.path)!
        if (!(name in at.obj)) at.obj[name] = null
        const unknown = problems(spec).some((p) => p.path === `${at.where}.${name}` && /unknown field/.test(p.message))
        if (!unknown) accepted.push(name)
      }
      expect(accepted.sort(), `fields validate() accepts at ${o.path.join('.') || 'the top'}`).toEqual(o.fields)
    }
  })

  test('each required field of the schema is required by validate()', () => {
    for (const o of objects) {
      for (const r of o.required) {
        const spec = structuredClone(everything) as Json
        const at = locate(spec, o.path)!
        delete at.obj[r]
        expect(problems(spec).length, `${at.where} without ${r}`).toBeGreaterThan(0)
      }
    }
  })
})
