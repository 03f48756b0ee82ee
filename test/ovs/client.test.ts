// The OVSDB client against a real private ovsdb-server (no vswitchd needed), with
// ovs-vsctl as the oracle, and against a scripted fake server for what a real one does
// not do on demand (no monitor_cond, its own echo, replies cut anywhere, dying mid-call).

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { isNsnetError } from '../../src/netlink/errors.js'
import { OvsdbClient } from '../../src/ovs/client.js'
import { type OvsService, startService, VSWITCH_SCHEMA } from '../../src/ovs/service.js'
import { haveOvs, ovsPids, skipReason, vsctl, vsctlList } from './support.js'

describe.skipIf(!haveOvs)(`OvsdbClient against ovsdb-server${haveOvs ? '' : ` (skipped: ${skipReason})`}`, () => {
  let service: OvsService
  let client: OvsdbClient
  beforeAll(async () => {
    service = await startService({ vswitchd: false }, async (sock) => {
      vsctl(sock, '--no-wait', 'init')
    })
    client = await OvsdbClient.connect(`unix:${service.dbSocket}`)
  })
  afterAll(async () => {
    client?.close()
    await service?.stop()
    if (service) expect(ovsPids(service.dir)).toEqual([])
  })

  test('list_dbs and get_schema match ovsdb-tool', async () => {
    expect(await client.listDbs()).toEqual(['Open_vSwitch', '_Server'])
    const schema = await client.getSchema('Open_vSwitch')
    expect(schema.version).toBe(execFileSync('ovsdb-tool', ['schema-version', VSWITCH_SCHEMA], { encoding: 'utf8' }).trim())
    expect(schema.tables.Port!.columns.tag).toMatchObject({ min: 0, max: 1, key: { type: 'integer', minInteger: 0, maxInteger: 4095 } })
    expect(schema.tables.Bridge!.columns.ports!.max).toBe(Infinity)
    expect(schema.tables.Bridge!.isRoot).toBe(false)
    expect(Object.isFrozen(schema)).toBe(true)
  })

  test('echo returns its params', async () => {
    expect(await client.echo(['a', 1])).toEqual(['a', 1])
  })

  test('transact decodes sets, maps and uuids; ovs-vsctl sees the rows', async () => {
    const [, , , sel] = await client.transact('Open_vSwitch', [
      {
        op: 'insert',
        table: 'Interface',
        'uuid-name': 'i',
        row: {
          name: 'tx0',
          options: [
            'map',
            [
              ['k', 'v'],
              ['a', 'b'],
            ],
          ],
        },
      },
      { op: 'insert', table: 'Port', 'uuid-name': 'p', row: { name: 'tx0', interfaces: ['named-uuid', 'i'], trunks: ['set', [5, 7]], tag: 3 } },
      { op: 'insert', table: 'Bridge', 'uuid-name': 'b', row: { name: 'tbr', ports: ['named-uuid', 'p'], external_ids: ['map', [['owner', 'nsnet']]] } },
      { op: 'select', table: 'Port', where: [['name', '==', 'tx0']] },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'b']]]]] },
    ])
    // Rows inserted in this transaction are visible to a later select in it.
    const port = sel!.rows![0]!
    expect(port.name).toBe('tx0')
    expect(port.trunks).toEqual([5, 7])
    expect(port.tag).toBe(3)
    expect(typeof port.interfaces).toBe('object')
    expect((port.interfaces as string[])[0]).toMatch(/^[0-9a-f-]{36}$/)
    expect(Object.isFrozen(port)).toBe(true)
    const [viaVsctl] = vsctlList(service.dbSocket, 'Port', 'tx0')
    expect(viaVsctl!._uuid).toEqual(['uuid', port._uuid])
    expect(viaVsctl!.trunks).toEqual(['set', [5, 7]])
    expect(vsctl(service.dbSocket, 'get', 'Interface', 'tx0', 'options:k').trim()).toBe('v')
    expect(vsctl(service.dbSocket, 'list-br').trim()).toBe('tbr')
    // And the other direction: what ovs-vsctl writes, select reads back decoded.
    vsctl(service.dbSocket, '--no-wait', 'set', 'Bridge', 'tbr', 'other_config:x=1', 'other_config:y=2')
    const [b] = await client.transact('Open_vSwitch', [
      { op: 'select', table: 'Bridge', where: [['name', '==', 'tbr']], columns: ['other_config', 'external_ids'] },
    ])
    expect(b!.rows![0]).toEqual({ other_config: { x: '1', y: '2' }, external_ids: { owner: 'nsnet' } })
  })

  test('a failing operation rejects with EOVSDB naming the operation and the OVSDB error', async () => {
    const e = await client
      .transact('Open_vSwitch', [
        { op: 'select', table: 'Bridge', where: [] },
        { op: 'select', table: 'NoSuchTable', where: [] },
      ])
      .catch((x) => x)
    expect(isNsnetError(e, 'EOVSDB')).toBe(true)
    expect(e.index).toBe(1)
    expect(e.summary).toMatch(/operation 1 \(select NoSuchTable\) failed: syntax error.*No table named NoSuchTable/)
  })

  test('a commit error (the extra result slot) rejects: duplicate bridge name is a constraint violation', async () => {
    const mk = (n: string) => [
      { op: 'insert', table: 'Interface', 'uuid-name': `i${n}`, row: { name: `dupi${n}` } },
      { op: 'insert', table: 'Port', 'uuid-name': `p${n}`, row: { name: `dupp${n}`, interfaces: ['named-uuid', `i${n}`] } },
      { op: 'insert', table: 'Bridge', 'uuid-name': `b${n}`, row: { name: 'dup', ports: ['named-uuid', `p${n}`] } },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', `b${n}`]]]]] },
    ]
    const e = await client.transact('Open_vSwitch', [...mk('1'), ...mk('2')]).catch((x) => x)
    expect(isNsnetError(e, 'EOVSDB')).toBe(true)
    expect(e.summary).toMatch(/the commit failed: constraint violation/)
    expect(e.index).toBeUndefined()
    expect(vsctl(service.dbSocket, 'list-br')).not.toMatch(/dup/)
  })

  test('a wait with timeout 0 that does not hold is "timed out"', async () => {
    const e = await client
      .transact('Open_vSwitch', [
        { op: 'wait', table: 'Bridge', where: [['name', '==', 'tbr']], columns: ['name'], until: '==', rows: [{ name: 'other' }], timeout: 0 },
      ])
      .catch((x) => x)
    expect(e.summary).toMatch(/timed out/)
    expect(e.hint).toMatch(/changed meanwhile/)
  })

  test('monitor_cond keeps a replica current with what ovs-vsctl changes (update2)', async () => {
    const changes: string[] = []
    const m = await client.monitor(
      'Open_vSwitch',
      { Bridge: { columns: ['name', 'other_config', 'ports'] } },
      {
        onChange: (cs) => {
          for (const c of cs) changes.push(`${c.kind} ${c.row?.name ?? c.uuid}`)
        },
      },
    )
    expect(m.method).toBe('monitor_cond')
    expect(m.rows('Bridge').map((b) => b.name)).toContain('tbr')
    vsctl(service.dbSocket, '--no-wait', 'add-br', 'mbr', '--', 'set', 'Bridge', 'mbr', 'other_config:a=1', 'other_config:b=2')
    vsctl(service.dbSocket, '--no-wait', 'set', 'Bridge', 'mbr', 'other_config:a=9', '--', 'remove', 'Bridge', 'mbr', 'other_config', 'b')
    vsctl(service.dbSocket, '--no-wait', 'set', 'Bridge', 'mbr', 'other_config:c=3')
    const row = await m.until(
      () => {
        const r = m.rows('Bridge').find((b) => b.name === 'mbr')
        return r && (r.other_config as Record<string, string>).c ? r : undefined
      },
      { timeoutMs: 10_000, onTimeout: () => new Error('no update') as never },
    )
    // The replica equals ovs-vsctl's view of the same row (map diffs applied right).
    expect(row.other_config).toEqual({ a: '9', c: '3' })
    const [oracle] = vsctlList(service.dbSocket, 'Bridge', 'mbr')
    expect(['set', (row.ports as string[]).map((u) => ['uuid', u])]).toEqual(
      Array.isArray(oracle!.ports) && oracle!.ports[0] === 'uuid' ? ['set', [oracle!.ports]] : oracle!.ports,
    )
    vsctl(service.dbSocket, '--no-wait', 'del-br', 'mbr')
    await m.until(() => (m.rows('Bridge').some((b) => b.name === 'mbr') ? undefined : true), {
      timeoutMs: 10_000,
      onTimeout: () => new Error('no delete') as never,
    })
    expect(changes).toContain('insert mbr')
    expect(changes).toContain('modify mbr')
    expect(changes.some((c) => c.startsWith('delete'))).toBe(true)
    await m.cancel()
  })

  test('a call times out with ETIMEDOUT, and an aborted one rejects with EABORTED; the session stays usable', async () => {
    const blocking = (timeoutMs?: number, signal?: AbortSignal) =>
      client.transact(
        'Open_vSwitch',
        [
          // A wait without timeout blocks server-side until the condition holds (never here).
          { op: 'wait', table: 'Bridge', where: [['name', '==', 'tbr']], columns: ['name'], until: '==', rows: [{ name: 'never' }] },
        ],
        { timeoutMs, signal },
      )
    const t = await blocking(300).catch((x) => x)
    expect(t.code).toBe('ETIMEDOUT')
    const ac = new AbortController()
    const p = blocking(undefined, ac.signal).catch((x) => x)
    setTimeout(() => ac.abort(), 100)
    expect((await p).code).toBe('EABORTED')
    expect(await client.echo(['still'])).toEqual(['still'])
  })

  test('ovsdb-server killed: every pending call rejects at once with EOVSDB', async () => {
    const own = await startService({ vswitchd: false }, async (sock) => {
      vsctl(sock, '--no-wait', 'init')
    })
    try {
      const c = await OvsdbClient.connect(own.dbSocket)
      const waits = [1, 2, 3].map(() =>
        c
          .transact('Open_vSwitch', [{ op: 'wait', table: 'Open_vSwitch', where: [], columns: ['next_cfg'], until: '==', rows: [{ next_cfg: 99 }] }], {
            timeoutMs: 60_000,
          })
          .catch((x) => x),
      )
      await c.echo()
      const t0 = Date.now()
      process.kill(own.daemons[0]!.pid, 'SIGKILL')
      const errors = await Promise.all(waits)
      expect(Date.now() - t0).toBeLessThan(10_000)
      for (const e of errors) {
        expect(isNsnetError(e, 'EOVSDB')).toBe(true)
        expect(e.operation).toBe('transact')
        expect(e.hint).toMatch(/ovsdb-server/)
      }
      expect((await c.echo().catch((x) => x)).code).toBe('EOVSDB')
    } finally {
      await own.stop()
    }
    expect(ovsPids(own.dir)).toEqual([])
  })
})

/** A scripted server on a unix socket: `reply(msg, sock)` answers each request. */
async function fakeServer(
  reply: (msg: { id: unknown; method: string; params: unknown[] }, sock: Socket) => void,
): Promise<{ path: string; server: Server; done: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'nsnet-fake-'))
  const path = join(dir, 'db.sock')
  const server = createServer((sock) => {
    let buf = ''
    sock.on('data', (d) => {
      buf += d.toString()
      // The client sends one message per write; good enough for a fake.
      for (;;) {
        let depth = 0,
          inStr = false,
          esc = false,
          end = -1
        for (let i = 0; i < buf.length; i++) {
          const c = buf[i]
          if (inStr) {
            if (esc) esc = false
            else if (c === '\\') esc = true
            else if (c === '"') inStr = false
            continue
          }
          if (c === '"') inStr = true
          else if (c === '{' || c === '[') depth++
          else if ((c === '}' || c === ']') && --depth === 0) {
            end = i
            break
          }
        }
        if (end < 0) break
        const msg = JSON.parse(buf.slice(0, end + 1))
        buf = buf.slice(end + 1)
        reply(msg, sock)
      }
    })
  })
  await new Promise<void>((r) => server.listen(path, r))
  return {
    path,
    server,
    done: () => {
      server.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const tinySchema = {
  name: 'Open_vSwitch',
  version: '1.0.0',
  tables: { T: { columns: { name: { type: 'string' }, s: { type: { key: 'integer', min: 0, max: 'unlimited' } } } } },
}

describe('OvsdbClient against a scripted server', () => {
  test('falls back to monitor when monitor_cond is an unknown method; replies split into odd chunks', async () => {
    const fake = await fakeServer((msg, sock) => {
      const send = (o: unknown) => {
        // Write every reply in 3-byte pieces to exercise the reader through the socket.
        const s = Buffer.from(JSON.stringify(o))
        for (let i = 0; i < s.length; i += 3) sock.write(s.subarray(i, i + 3))
      }
      if (msg.method === 'get_schema') send({ id: msg.id, result: tinySchema, error: null })
      else if (msg.method === 'monitor_cond') send({ id: msg.id, error: 'unknown method', result: null })
      else if (msg.method === 'monitor') {
        send({ id: msg.id, result: { T: { u1: { new: { name: 'a', s: ['set', [1, 2]] } } } }, error: null })
        send({ id: null, method: 'update', params: [msg.params[1], { T: { u1: { old: { s: ['set', [1, 2]] }, new: { name: 'a', s: 3 } } } }] })
      }
    })
    try {
      const c = await OvsdbClient.connect(fake.path)
      const m = await c.monitor('Open_vSwitch', { T: {} })
      expect(m.method).toBe('monitor')
      const row = await m.until(
        () => {
          const r = m.row('T', 'u1')
          return r !== undefined && (r.s as number[]).length === 1 ? r : undefined
        },
        { timeoutMs: 5000, onTimeout: () => new Error('x') as never },
      )
      // A one-element set arrives as a bare atom; the schema makes it an array again.
      expect(row).toEqual({ _uuid: 'u1', name: 'a', s: [3] })
      c.close()
    } finally {
      fake.done()
    }
  })

  test("answers the server's echo, and a dying server rejects pending calls with EOVSDB at once", async () => {
    let echoed: unknown
    const fake = await fakeServer((msg, sock) => {
      if (msg.method === 'list_dbs')
        sock.write(JSON.stringify({ id: null, method: 'nothing', params: [] }) + JSON.stringify({ id: 'probe', method: 'echo', params: ['hi'] }))
      else if (msg.id === 'probe') {
        echoed = msg
        sock.write(JSON.stringify({ id: msg.id === 'probe' ? 1 : 0, result: ['db'], error: null }))
      } else if (msg.method === 'transact') sock.destroy()
    })
    try {
      const c = await OvsdbClient.connect(`unix:${fake.path}`)
      expect(await c.listDbs()).toEqual(['db'])
      expect(echoed).toEqual({ id: 'probe', result: ['hi'], error: null })
      const pending = [c.transact('x', []), c.transact('x', [])].map((p) => p.catch((x) => x))
      for (const e of await Promise.all(pending)) {
        expect(e.code).toBe('EOVSDB')
        expect(e.summary).toMatch(/closed/)
      }
    } finally {
      fake.done()
    }
  })

  test('connecting to nothing is EOVSDB with a hint; a bad endpoint is EINVAL_ARGUMENT', async () => {
    const e = await OvsdbClient.connect('/nonexistent/db.sock').catch((x) => x)
    expect(e.code).toBe('EOVSDB')
    expect(e.hint).toMatch(/no ovsdb-server/)
    expect((await OvsdbClient.connect('ssl:1.2.3.4:6640').catch((x) => x)).code).toBe('EINVAL_ARGUMENT')
  })
})
