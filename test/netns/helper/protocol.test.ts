// The helper protocol's pieces that need no namespace: line framing, write coalescing,
// options splitting, the server's dispatch and error serialisation.
import { describe, expect, it } from 'vitest'
import { errorFromJSON, NsnetError } from '../../../src/netlink/errors.js'
import { splitOptions } from '../../../src/netns/helper/client.js'
import { CHUNK_ITEMS } from '../../../src/netns/helper/protocol.js'
import type { ServedRtnl } from '../../../src/netns/helper/server.js'
import { HelperServer } from '../../../src/netns/helper/server.js'
import { LineSplitter, LineWriter } from '../../../src/util/lines.js'

describe('LineSplitter', () => {
  it('splits across chunk boundaries and skips empty lines', () => {
    const lines: string[] = []
    const s = new LineSplitter((l) => lines.push(l))
    for (const part of ['{"a":1}\n{"b"', ':2}', '\n\n{"c":3}\n{"d', '":4}\n']) s.push(part)
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}'])
  })
})

describe('LineWriter', () => {
  it('writes everything sent in one turn with one write', async () => {
    const writes: string[] = []
    const w = new LineWriter((t) => writes.push(t))
    for (let i = 0; i < 1000; i++) w.send(`{"id":${i}}`)
    expect(writes).toEqual([])
    await Promise.resolve()
    expect(writes.length).toBe(1)
    expect(writes[0]!.split('\n').length).toBe(1001)
    expect(writes[0]!.endsWith('\n')).toBe(true)
  })
})

describe('splitOptions', () => {
  it('takes the signal out of the call options (the last parameter) and keeps timeoutMs', () => {
    const signal = new AbortController().signal
    expect(splitOptions('links.get', ['v0', { timeoutMs: 5, signal }])).toEqual({ args: ['v0', { timeoutMs: 5 }], signal, timeoutMs: 5 })
    expect(splitOptions('links.get', ['v0', { signal }])).toEqual({ args: ['v0'], signal, timeoutMs: undefined })
    expect(splitOptions('routes.add', [{ dst: 'x' }, undefined, undefined])).toEqual({ args: [{ dst: 'x' }] })
    expect(splitOptions('routes.list', [])).toEqual({ args: [] })
  })

  it('looks for them in the last parameter only, and sends no more arguments than the method takes', () => {
    const signal = new AbortController().signal
    // A first argument that happens to hold `timeoutMs` is not the call options.
    expect(splitOptions('routes.list', [{ timeoutMs: 5 }])).toEqual({ args: [{ timeoutMs: 5 }] })
    expect(splitOptions('tc.filters.list', ['v0', {}, { signal }])).toEqual({ args: ['v0', {}], signal })
    expect(splitOptions('links.list', [{}, {}, 'extra'])).toEqual({ args: [{}, {}] })
  })
})

/** A server with fake ops, and the lines it answers with. */
function server(groups: Record<string, object>) {
  const out: Record<string, unknown>[] = []
  const srv = new HelperServer({
    namespace: 'fake',
    openRtnl: async () => groups as unknown as ServedRtnl,
    write: (t) => {
      for (const l of t.split('\n')) if (l) out.push(JSON.parse(l))
    },
  })
  const settle = () => new Promise((r) => setTimeout(r, 20))
  return { srv, out, settle }
}

describe('HelperServer', () => {
  it('answers ready, results, unset args as undefined (a null passed stays null), and chunks large arrays', async () => {
    const seen: unknown[][] = []
    const { srv, out, settle } = server({
      links: {
        set: async (...a: unknown[]) => {
          seen.push(a)
        },
      },
      routes: {
        list: async () => Array.from({ length: CHUNK_ITEMS * 2 + 5 }, (_, i) => ({ i })),
      },
    })
    srv.ready()
    expect(out.shift()).toEqual({ ready: true })
    srv.push('{"id":1,"op":"links.set","args":[{"dst":"x"},null,null],"unset":[1]}\n{"id":2,"op":"routes.list","args":[]}\n')
    await settle()
    expect(seen).toEqual([[{ dst: 'x' }, undefined, null]])
    expect(out[0]).toEqual({ id: 1 })
    const chunks = out.filter((m) => m.id === 2 && 'chunk' in m)
    expect(chunks.map((c) => (c.chunk as unknown[]).length)).toEqual([CHUNK_ITEMS, CHUNK_ITEMS, 5])
    expect(out[out.length - 1]).toEqual({ id: 2, done: true })
  })

  it('serialises errors as NsnetError with the namespace, and refuses unknown operations', async () => {
    const { srv, out, settle } = server({
      links: {
        add: async () => {
          throw new NsnetError('EEXIST (File exists)', { code: 'EEXIST', errno: 17, operation: 'RTM_NEWLINK', object: 'link v0' })
        },
        set: async () => {
          throw new TypeError('x is not a function')
        },
        // A method the class keeps private is a function at run time too: not an operation.
        explainAddError: async () => 'called',
      },
    })
    srv.push(
      [
        'links.add',
        'links.set',
        'links.nope',
        'links.__proto__',
        'links.constructor',
        'links.toString',
        'evil.x',
        'sysctl.get',
        'links.explainAddError',
        'ethtool.close',
        'toString',
        'links.list',
      ]
        .map((op, i) => JSON.stringify({ id: i, op, args: op === 'sysctl.get' ? ['kernel.x'] : op === 'links.list' ? [{}, {}, {}] : [] }))
        .join('\n') + '\nnot json\n',
    )
    await settle()
    const byId = new Map(out.map((m) => [m.id, m.error as Parameters<typeof errorFromJSON>[0]]))
    const e0 = errorFromJSON(byId.get(0)!)
    expect(e0).toMatchObject({ code: 'EEXIST', errno: 17, namespace: 'fake', object: 'link v0' })
    expect(errorFromJSON(byId.get(1)!)).toMatchObject({ code: 'EINTERNAL', namespace: 'fake', operation: 'links.set' })
    expect(errorFromJSON(byId.get(1)!).message).toContain('TypeError: x is not a function')
    for (const id of [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) expect(byId.get(id)?.code, `request ${id}`).toBe('EINVAL_ARGUMENT')
    expect(errorFromJSON(byId.get(8)!)).toMatchObject({ namespace: 'fake', operation: 'links.explainAddError' })
    expect(errorFromJSON(byId.get(8)!).message).toMatch(/links has no public method "explainAddError"/)
    expect(errorFromJSON(byId.get(8)!).hint).toMatch(/^links offers list, get, add/)
    expect(errorFromJSON(byId.get(9)!).message).toMatch(/ethtool has no public method "close"/)
    expect(errorFromJSON(byId.get(6)!).message).toMatch(/unknown operation "evil.x"/)
    expect(errorFromJSON(byId.get(11)!).message).toMatch(/links.list takes 2 arguments, got 3/)
    expect(byId.get(-1)?.code).toBe('EHELPER')
  })
})
