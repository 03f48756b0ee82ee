// Topology.up/down/reap against the kernel, with `ip -j` as the oracle: what up() builds,
// that a second up() changes nothing, that bad specs and taken names are refused before
// anything is made, that a failure half-way leaves nothing, that down() tolerates what is
// gone, and that reap() removes exactly what a SIGKILLed run left behind.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, test } from 'vitest'
import { isNsnetError } from '../../src/netlink/errors.js'
import { listMarkers, sameWorld } from '../../src/topology/marker.js'
import { reap } from '../../src/topology/reap.js'
import type { TopologySpec } from '../../src/topology/spec.js'
import { Topology } from '../../src/topology/topology.js'
import { alive, ensureHelperBundle, ip, ipj, runNetnsEntries, waitFor } from '../netns/support.js'

await ensureHelperBundle()

const labs: Topology[] = []
afterEach(async () => {
  for (const l of labs.splice(0).reverse()) await l.down().catch(() => undefined)
  expect(runNetnsEntries()).toEqual([])
})

// Other test files run at the same time and share /run/nsnet: count only this file's runs.
const markers = () =>
  listMarkers()
    .filter(sameWorld)
    .map((m) => `${m.runId}.json`)
    .sort()
const localLinks = () =>
  ipj<Array<{ ifname: string }>>('link')
    .map((l) => l.ifname)
    .sort()
const forwarding = () => readFileSync('/proc/sys/net/ipv4/conf/all/forwarding', 'utf8').trim()

/** a and b on bridge br-t (in the current namespace, 10.5.0.1/24), a with a default route. */
function spec(extra: Partial<TopologySpec> = {}): TopologySpec {
  return {
    name: 'lifecycle',
    hosts: [{ name: 'ta', gateway: 'br-t' }, { name: 'tb' }],
    bridges: [{ name: 'br-t', addresses: ['10.5.0.1/24'] }],
    links: [
      { a: { node: 'ta', addresses: ['10.5.0.2/24'] }, b: 'br-t' },
      { a: { node: 'tb', addresses: ['10.5.0.3/24'] }, b: 'br-t' },
    ],
    ...extra,
  }
}

/** Everything `ip` reports about the lab, for before/after comparisons. */
/** Addresses without `tentative`: IPv6 DAD ends on the kernel's clock, whatever up() does (a flake under load). */
function settled(addrs: unknown): unknown {
  return JSON.parse(JSON.stringify(addrs, (k, v) => (k === 'tentative' ? undefined : v)))
}

function snapshot(names: string[]) {
  return {
    netns: runNetnsEntries(),
    links: ipj('link'),
    addrs: settled(ipj('addr')),
    routes: ipj('route'),
    inside: names.map((n) => ({ n, links: ipj('-n', n, 'link'), addrs: settled(ipj('-n', n, 'addr')), routes: ipj('-n', n, 'route') })),
  }
}

describe('up and down', () => {
  test('builds what the spec says (checked with ip -j) and down() removes it', async () => {
    const before = markers()
    const lab = await Topology.up(spec())
    labs.push(lab)
    expect(lab.created).toBe(true)
    expect(runNetnsEntries()).toEqual(['ta', 'tb'])
    const br = ipj<Array<{ ifname: string; operstate: string; linkinfo: { info_kind: string } }>>('-d', 'link', 'show', 'br-t')[0]!
    expect(br.linkinfo.info_kind).toBe('bridge')
    expect(
      ipj<Array<{ ifname: string }>>('link', 'show', 'master', 'br-t')
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['v-ta', 'v-tb'])
    expect(
      ipj<Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>>('-4', 'addr', 'show', 'br-t')[0]!.addr_info.map(
        (a) => `${a.local}/${a.prefixlen}`,
      ),
    ).toEqual(['10.5.0.1/24'])
    const eth0 = ipj<Array<{ flags: string[]; addr_info: Array<{ local: string; prefixlen: number }> }>>('-n', 'ta', '-4', 'addr', 'show', 'eth0')[0]!
    expect(eth0.flags).toContain('UP')
    expect(eth0.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['10.5.0.2/24'])
    expect(ipj<Array<{ flags: string[] }>>('-n', 'ta', 'link', 'show', 'lo')[0]!.flags).toContain('UP')
    expect(ipj<Array<{ dst: string; gateway?: string; dev: string }>>('-n', 'ta', 'route').find((r) => r.dst === 'default')).toMatchObject({
      gateway: '10.5.0.1',
      dev: 'eth0',
    })
    expect((await lab.ping('ta', 'tb')).ok).toBe(true)
    expect((await lab.ping('tb', 'br-t')).ok).toBe(true)
    // The run marker names the owner and what it made; ifalias marks the links made here.
    expect(markers()).toEqual([...before, `${lab.runId}.json`].sort())
    expect(ipj<Array<{ ifalias?: string }>>('link', 'show', 'br-t')[0]!.ifalias).toBe(`nsnet:${lab.runId}`)

    const report = await lab.down()
    labs.pop()
    expect(report.failed).toEqual([])
    expect(runNetnsEntries()).toEqual([])
    expect(localLinks()).toEqual(['lo'])
    expect(markers()).toEqual(before)
  })

  test('up() twice is a no-op', async () => {
    const steps: string[] = []
    const lab = await Topology.up(spec())
    labs.push(lab)
    const before = snapshot(['ta', 'tb'])
    const again = await Topology.up(spec(), { onStep: (_s, c) => steps.push(c) })
    expect(again.created).toBe(false)
    expect(again.runId).toBe(lab.runId)
    expect(steps).toEqual([]) // nothing was even attempted
    expect(snapshot(['ta', 'tb'])).toEqual(before)
  })

  test('a second up() rebuilds a lab that lost a namespace behind its back', async () => {
    const lab = await Topology.up(spec())
    labs.push(lab)
    ip('netns', 'del', 'tb')
    const again = await Topology.up(spec())
    labs.push(again)
    expect(again.created).toBe(true)
    expect(again.runId).not.toBe(lab.runId)
    expect(runNetnsEntries()).toEqual(['ta', 'tb'])
    expect(ipj<Array<{ addr_info: Array<{ local: string }> }>>('-n', 'tb', '-4', 'addr', 'show', 'eth0')[0]!.addr_info.map((a) => a.local)).toEqual([
      '10.5.0.3',
    ])
    expect((await again.ping('ta', 'tb')).ok).toBe(true)
    expect(markers()).toEqual([`${again.runId}.json`])
  })

  test('await using removes the lab at the end of the block', async () => {
    {
      await using lab = await Topology.up(spec())
      expect(lab.created).toBe(true)
      expect(runNetnsEntries()).toEqual(['ta', 'tb'])
    }
    expect(runNetnsEntries()).toEqual([])
    expect(localLinks()).toEqual(['lo'])
  })

  test('down() tolerates what is already gone', async () => {
    const lab = await Topology.up(spec())
    labs.push(lab)
    ip('netns', 'del', 'tb')
    ip('link', 'del', 'br-t')
    const report = await lab.down()
    expect(report.failed).toEqual([])
    expect(runNetnsEntries()).toEqual([])
    expect(localLinks()).toEqual(['lo'])
    await lab.down() // twice is fine too
  })
})

describe('refused before anything is made', () => {
  const cases: Array<[string, TopologySpec, RegExp]> = [
    [
      'a bad address',
      spec({ links: [{ a: { node: 'ta', addresses: ['10.5.0.256/24'] }, b: 'br-t' }] }),
      /links\[0\]\.a\.addresses\[0\]: "10\.5\.0\.256\/24" is not an address/,
    ],
    ['a duplicate name', spec({ hosts: [{ name: 'ta' }, { name: 'tb' }, { name: 'ta' }] }), /hosts\[2\]\.name: duplicate host "ta"/],
    [
      'a link to an unknown node',
      spec({
        links: [
          { a: 'ta', b: 'br-t' },
          { a: 'tb', b: 'br-t' },
          { a: 'tc', b: 'br-t' },
        ],
      }),
      /links\[2\]\.a: unknown node "tc"/,
    ],
    [
      'a name over 15 bytes',
      spec({ bridges: [{ name: 'bridge-name-too-long', addresses: ['10.5.0.1/24'] }] }),
      /bridges\[0\]\.name: interface name "bridge-name-too-long" is 20 bytes/,
    ],
  ]
  for (const [what, bad, message] of cases) {
    test(what, async () => {
      const before = { netns: runNetnsEntries(), links: localLinks(), markers: markers() }
      const err = await Topology.up(bad).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isNsnetError(err, 'EINVAL_ARGUMENT')).toBe(true)
      expect((err as Error).message).toMatch(message)
      expect({ netns: runNetnsEntries(), links: localLinks(), markers: markers() }).toEqual(before)
    })
  }

  test('names that exist already', async () => {
    ip('netns', 'add', 'tb')
    try {
      const err = await Topology.up(spec()).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isNsnetError(err, 'EEXIST')).toBe(true)
      expect((err as Error).message).toMatch(/netns tb already exists; nothing was made/)
      expect(runNetnsEntries()).toEqual(['tb'])
      expect(localLinks()).toEqual(['lo'])
    } finally {
      ip('netns', 'del', 'tb')
    }
  })
})

describe('a failure half-way leaves nothing', () => {
  const host = { name: 'host', sysctls: { 'net.ipv4.conf.all.forwarding': 1 } }
  test('injected at the second veth', async () => {
    const fwd = forwarding()
    let n = 0
    const err = await Topology.up(spec({ hosts: [host, ...spec().hosts!] }), {
      onStep: (s) => {
        if (s.kind === 'veth' && ++n === 2) throw new Error('injected failure')
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect((err as Error).message).toMatch(/injected failure; everything it made was removed/)
    expect((err as Error).message).toMatch(/step `ip link add \S+ netns tb up type veth peer name v-tb/)
    expect(runNetnsEntries()).toEqual([])
    expect(localLinks()).toEqual(['lo'])
    expect(forwarding()).toBe(fwd)
    expect(markers().length).toBe(0)
  })

  test('a real failure in the last phase (a process that exits before it is ready)', async () => {
    // (A program missing from PATH is refused by validation, before anything is made.)
    const nope = { name: 'nope', command: ['sh', '-c', 'exit 3'], readyText: 'never printed' }
    const err = await Topology.up(spec({ hosts: [{ name: 'ta', gateway: 'br-t', processes: [nope] }, { name: 'tb' }] })).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isNsnetError(err)).toBe(true)
    expect((err as Error).message).toMatch(/process nope exited before it was ready/)
    expect((err as Error).message).toMatch(/everything it made was removed/)
    expect(runNetnsEntries()).toEqual([])
    expect(localLinks()).toEqual(['lo'])
  })

  test('aborted through its signal', async () => {
    const ac = new AbortController()
    const err = await Topology.up(spec(), {
      signal: ac.signal,
      onStep: (s) => {
        if (s.kind === 'address') ac.abort()
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isNsnetError(err, 'EABORTED') || (err as Error).name === 'AbortError' || /abort/i.test(String(err))).toBe(true)
    expect(runNetnsEntries()).toEqual([])
    expect(localLinks()).toEqual(['lo'])
  })
})

describe('reap', () => {
  test('removes what a SIGKILLed run left behind, and nothing else', async () => {
    // Our own lab stays up throughout: its owner (this process) is alive.
    const mine = await Topology.up({
      name: 'mine',
      hosts: [{ name: 'mine1' }],
      links: [{ a: { node: 'mine1', addresses: ['10.6.0.2/24'] }, b: { node: 'host', ifname: 'v-mine', addresses: ['10.6.0.1/24'] } }],
    })
    labs.push(mine)
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `
      const { Topology } = await import(${JSON.stringify(new URL('../../src/topology/topology.ts', import.meta.url).href)})
      const lab = await Topology.up({
        name: 'doomed',
        hosts: [{ name: 'host', sysctls: { 'net.ipv4.conf.all.forwarding': 1 } }, { name: 'da' }, { name: 'db' }, { name: 'dc' }],
        bridges: [{ name: 'br-d', addresses: ['10.7.0.1/24'] }],
        links: [{ a: { node: 'da', addresses: ['10.7.0.2/24'] }, b: 'br-d' }, { a: { node: 'db', addresses: ['10.7.0.3/24'] }, b: 'br-d' },
                { a: { node: 'dc', addresses: ['10.7.0.4/24'] }, b: 'br-d' }],
      })
      const echo = await lab.echoServer('da', { tcp: 7 })
      console.log(JSON.stringify({ runId: lab.runId, echo: echo.pid }))
      setInterval(() => {}, 1000)
    `,
      ],
      { cwd: new URL('../../', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    const line = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout!.on('data', (d: Buffer) => {
        out += d
        if (out.includes('\n')) resolve(out.split('\n')[0]!)
      })
      child.on('exit', (c) => reject(new Error(`child exited ${c} before it was up`)))
    })
    const { runId, echo } = JSON.parse(line) as { runId: string; echo: number }
    child.kill('SIGKILL')
    await new Promise((r) => child.once('exit', r))

    // The leftovers are there: namespaces, links here, the process, the sysctl.
    expect(runNetnsEntries()).toEqual(['da', 'db', 'dc', 'mine1'])
    expect(localLinks()).toEqual(expect.arrayContaining(['br-d', 'v-da', 'v-db', 'v-dc']))
    expect(alive(echo)).toBe(true)
    expect(forwarding()).toBe('1')

    // Someone reuses two of its names in the meantime: those must survive the reap.
    ip('netns', 'del', 'dc')
    ip('netns', 'add', 'dc')
    expect(await waitFor(() => !localLinks().includes('v-dc'), 5000)).toBe(true) // went with the old dc
    ip('link', 'add', 'v-dc', 'type', 'veth', 'peer', 'name', 'v-dc-peer')

    const results = await reap()
    const r = results.find((x) => x.runId === runId)!
    expect(r.status).toBe('removed')
    expect(results.find((x) => x.runId === mine.runId)!.status).toBe('alive')
    expect(await waitFor(() => !alive(echo), 2000)).toBe(true)
    expect(runNetnsEntries()).toEqual(['dc', 'mine1'])
    expect(localLinks()).toEqual(['lo', 'v-dc', 'v-dc-peer', 'v-mine'])
    expect(markers()).toEqual([`${mine.runId}.json`])
    expect(forwarding()).toBe('0') // the sysctl it changed here is back
    // Our lab is untouched.
    expect((await mine.ping('host', 'mine1')).ok).toBe(true)

    ip('netns', 'del', 'dc')
    ip('link', 'del', 'v-dc')
  }, 60_000)

  test('removes what a run SIGKILLed in the middle of its build had made so far', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `
      const { Topology } = await import(${JSON.stringify(new URL('../../src/topology/topology.ts', import.meta.url).href)})
      await Topology.up({
        name: 'halfway',
        hosts: [{ name: 'ha' }, { name: 'hb' }],
        bridges: [{ name: 'br-h', addresses: ['10.7.1.1/24'] }],
        links: [{ a: { node: 'ha', addresses: ['10.7.1.2/24'] }, b: 'br-h' }, { a: { node: 'hb', addresses: ['10.7.1.3/24'] }, b: 'br-h' }],
      }, { sequential: true, onStep: (s) => { if (s.kind === 'address') process.kill(process.pid, 'SIGKILL') } })
    `,
      ],
      { cwd: new URL('../../', import.meta.url).pathname, stdio: 'inherit' },
    )
    await new Promise((r) => child.once('exit', r))
    expect(runNetnsEntries()).toEqual(['ha', 'hb'])
    expect(localLinks()).toEqual(expect.arrayContaining(['br-h', 'v-ha', 'v-hb']))
    const results = await reap()
    expect(results.filter((r) => r.name === 'halfway').map((r) => r.status)).toEqual(['removed'])
    expect(runNetnsEntries()).toEqual([])
    expect(localLinks()).toEqual(['lo'])
    expect(markers()).toEqual([])
  }, 60_000)

  test('keep() leaves a lab to reap() and to a later up(), which adopts it', async () => {
    const lab = await Topology.up(spec())
    await lab.keep()
    expect((await reap()).find((r) => r.runId === lab.runId)!.status).toBe('kept')
    expect(runNetnsEntries()).toEqual(['ta', 'tb'])
    const again = await Topology.up(spec())
    labs.push(again)
    expect(again.created).toBe(false)
    expect(again.runId).toBe(lab.runId)
    await again.down()
    expect(runNetnsEntries()).toEqual([])
  })
})
