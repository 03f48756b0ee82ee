// Namespace benchmarks: how fast a helper is ready, how much of the parent's route-add rate
// survives the trip through it, what an idle helper costs in memory, and how namespace
// creation compares with doing it natively. Peers: `node -e 0`, the same API in the parent
// process, pyroute2's NetNS (Debian python3-pyroute2) when importable.
//
//   called by bench/run.ts as benchNetns({ runs, quick, log })
//   alone:  node test/run-hermetic.mjs --exec node_modules/.bin/tsx bench/netns.ts [--quick]
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { netns } from '../src/netns/index.js'
import { Rtnl } from '../src/rtnl.js'
import { median } from './harness.js'
import type { ModuleRow } from './report.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'

export type NetnsBenchRow = ModuleRow

export interface NetnsBenchOptions {
  readonly runs?: number
  readonly quick?: boolean
  readonly log?: (s: string) => void
}

function row(r: Omit<NetnsBenchRow, 'ratio' | 'measurement'> & { ratio?: number | null }): NetnsBenchRow {
  const ratio = r.ratio !== undefined ? r.ratio : r.nsnetValue != null && r.peerValue != null && r.peerValue > 0 ? r.nsnetValue / r.peerValue : null
  return { ...r, measurement: r.name, ratio }
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`)
  return r.stdout
}

/** Wall time of a process from spawn to exit. */
function timeExit(argv: string[]): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = performance.now()
    const c = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' })
    c.on('error', rej)
    c.on('exit', () => res(performance.now() - t0))
  })
}

function ensureHelper(): void {
  const bundle = path.join(ROOT, 'dist/helper.js')
  if (!existsSync(bundle)) sh(process.execPath, [path.join(ROOT, 'scripts/build.mjs')])
}

const blackhole = (i: number, table: number) => ({ dst: `10.${(i >> 8) & 255}.${i & 255}.0/24`, type: 'blackhole', table })

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

function pyroute2Available(): boolean {
  return spawnSync(PYTHON, ['-c', 'import pyroute2'], { stdio: 'ignore' }).status === 0
}

// pyroute2's NetNS: start (fork + setns child), N sequential route adds, the child's RSS.
const PY_NETNS = `
import json, os, sys, time
from pyroute2 import NetNS
name, n = sys.argv[1], int(sys.argv[2])
t0 = time.perf_counter()
ns = NetNS(name)
ns.link_lookup(ifname='lo')
t1 = time.perf_counter()
print('ready', flush=True)
for i in range(n):
    ns.route('add', dst='10.%d.%d.0/24' % ((i >> 8) & 255, i & 255), type='blackhole', table=101)
t2 = time.perf_counter()
me = os.getpid()
kids = [p for p in os.listdir('/proc') if p.isdigit() and open('/proc/%s/stat' % p).read().rsplit(')', 1)[1].split()[1] == str(me)]
rss = 0
for k in kids:
    for line in open('/proc/%s/status' % k):
        if line.startswith('VmRSS:'): rss += int(line.split()[1])
print(json.dumps({'startMs': (t1 - t0) * 1000, 'addMs': (t2 - t1) * 1000, 'childRssKb': rss, 'children': len(kids)}))
ns.close()
`

export async function benchNetns(opts: NetnsBenchOptions = {}): Promise<NetnsBenchRow[]> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'))
  const quick = opts.quick ?? false
  const rows: NetnsBenchRow[] = []
  ensureHelper()
  const NS = 'bench-netns'
  if (await netns.exists(NS)) await netns.delete(NS, { kill: true })
  await netns.add(NS)
  try {
    // 1. Helper ready vs `node -e 0`, interleaved so both see the same machine load.
    const samples = quick ? 8 : 25
    const ready: number[] = []
    const bare: number[] = []
    const ipExec: number[] = []
    await (await netns.open(NS)).close() // warm the page cache
    for (let i = 0; i < samples; i++) {
      bare.push(await timeExit([process.execPath, '-e', '0']))
      const t0 = performance.now()
      const h = await netns.open(NS, { idleMs: 0 })
      ready.push(performance.now() - t0)
      await h.close()
      ipExec.push(await timeExit(['ip', 'netns', 'exec', NS, process.execPath, '-e', '0']))
    }
    rows.push(
      row({
        name: 'helper ready (spawn to "ready")',
        nsnet: 'netns.open()',
        nsnetValue: median(ready),
        peer: 'node -e 0 (exit)',
        peerValue: median(bare),
        target: 1.2,
        samples: { nsnet: ready, peer: bare },
        note: `median of ${samples}, interleaved; includes ip netns exec`,
      }),
    )
    rows.push(
      row({
        name: 'helper ready vs the same launcher',
        nsnet: 'netns.open()',
        nsnetValue: median(ready),
        peer: 'ip netns exec NS node -e 0',
        peerValue: median(ipExec),
        status: 'INFO',
        samples: { nsnet: ready, peer: ipExec },
      }),
    )
    log(`  helper ready ${median(ready).toFixed(1)} ms, node -e 0 ${median(bare).toFixed(1)} ms, ip netns exec node -e 0 ${median(ipExec).toFixed(1)} ms`)

    // 2. 10,000 pipelined route adds: through the helper vs the same API in this process.
    const N = quick ? 2000 : 10_000
    const runs = Math.max(1, opts.runs ?? 3)
    const viaHelper: number[] = []
    const inParent: number[] = []
    await using h = await netns.open(NS)
    const local = await Rtnl.open()
    // Both sides warm: the helper loads its rtnetlink code on the first request.
    await h.routes.list({ table: 100 } as never)
    await local.routes.list({ table: 100 } as never)
    try {
      for (let r = 0; r < runs; r++) {
        let t0 = performance.now()
        await Promise.all(Array.from({ length: N }, (_, i) => h.routes.add(blackhole(i, 100))))
        viaHelper.push(performance.now() - t0)
        const got = sh('ip', ['-n', NS, 'route', 'show', 'table', '100']).trim().split('\n').length
        if (got !== N) throw new Error(`helper: ${got} routes in table 100 instead of ${N}`)
        sh('ip', ['-n', NS, 'route', 'flush', 'table', '100'])

        t0 = performance.now()
        await Promise.all(Array.from({ length: N }, (_, i) => local.routes.add(blackhole(i, 100))))
        inParent.push(performance.now() - t0)
        const here = sh('ip', ['route', 'show', 'table', '100']).trim().split('\n').length
        if (here !== N) throw new Error(`parent: ${here} routes in table 100 instead of ${N}`)
        sh('ip', ['route', 'flush', 'table', '100'])
      }
    } finally {
      await local.close()
    }
    const rateHelper = N / (median(viaHelper) / 1000)
    const rateParent = N / (median(inParent) / 1000)
    rows.push(
      row({
        name: `${N.toLocaleString('en-US')} pipelined routes.add`,
        nsnet: 'through the helper',
        nsnetValue: median(viaHelper),
        peer: 'same calls in the parent',
        peerValue: median(inParent),
        target: 2.0,
        samples: { nsnet: viaHelper, peer: inParent },
        note: `rate ${Math.round(rateHelper)}/s vs ${Math.round(rateParent)}/s = ${(rateHelper / rateParent).toFixed(2)} of the parent's (target >= 0.5, i.e. time ratio <= 2)`,
      }),
    )
    log(`  ${N} adds: helper ${median(viaHelper).toFixed(0)} ms, parent ${median(inParent).toFixed(0)} ms`)

    // 3. Memory of one idle helper: a fresh one that opened its socket and served a few requests.
    const busyRss = rssMiB(h.pid!)
    let rss: number
    {
      await using idle = await netns.open(NS)
      await idle.routes.list({ table: 100 } as never)
      await idle.sysctl.get('net.ipv4.ip_forward')
      await new Promise((r) => setTimeout(r, 200))
      rss = rssMiB(idle.pid!)
    }
    rows.push(
      row({
        name: `RSS of a helper after ${N.toLocaleString('en-US')} pipelined adds`,
        nsnet: 'nsnet helper',
        nsnetValue: busyRss,
        unit: 'MiB',
        status: 'INFO',
        note: 'requests read each datagram at its exact size (dumps use their own 32 KiB-buffer socket); the rest is V8 heap not yet collected',
      }),
    )

    // 4. pyroute2 NetNS as a peer: start, adds (sequential: its API is synchronous), child RSS.
    if (pyroute2Available()) {
      const pyN = quick ? 500 : 2000
      // Wall time from spawn to NetNS answering, interpreter and import included, like netns.open().
      const { out, readyMs } = await new Promise<{ out: string; readyMs: number }>((res, rej) => {
        const t0 = performance.now()
        const c = spawn(PYTHON, ['-c', PY_NETNS, NS, String(pyN)], { stdio: ['ignore', 'pipe', 'inherit'] })
        let text = ''
        let readyMs = NaN
        c.stdout.setEncoding('utf8').on('data', (t: string) => {
          if (Number.isNaN(readyMs) && (text + t).includes('ready\n')) readyMs = performance.now() - t0
          text += t
        })
        c.on('error', rej)
        c.on('close', (code) => (code === 0 ? res({ out: text, readyMs }) : rej(new Error(`pyroute2 peer exited with ${code}`))))
      })
      const py = JSON.parse(out.trim().split('\n').pop()!) as { startMs: number; addMs: number; childRssKb: number; children: number }
      sh('ip', ['-n', NS, 'route', 'flush', 'table', '101'])
      rows.push(
        row({
          name: 'namespace handle start, from spawn',
          nsnet: 'netns.open()',
          nsnetValue: median(ready),
          peer: 'python3: import pyroute2, NetNS()',
          peerValue: readyMs,
          status: 'INFO',
          note: `one pyroute2 run; NetNS() alone (import excluded, it forks the loaded interpreter) took ${py.startMs.toFixed(1)} ms`,
        }),
      )
      const perRoute = py.addMs / pyN
      rows.push(
        row({
          name: `${N.toLocaleString('en-US')} route adds in another namespace`,
          nsnet: 'helper, pipelined',
          nsnetValue: median(viaHelper),
          peer: 'pyroute2 NetNS.route(add)',
          peerValue: perRoute * N,
          target: 1.0,
          note: `pyroute2 ran ${pyN} adds (${perRoute.toFixed(3)} ms each), scaled to ${N}`,
        }),
      )
      rows.push(
        row({
          name: 'RSS of an idle namespace helper',
          nsnet: 'nsnet helper',
          nsnetValue: rss,
          unit: 'MiB',
          peer: 'pyroute2 NetNS child',
          peerValue: py.childRssKb / 1024,
          status: 'INFO',
          note: `VmRSS after serving requests; pyroute2: ${py.children} child process(es)`,
        }),
      )
    } else {
      rows.push(row({ name: 'RSS of an idle namespace helper', nsnet: 'nsnet helper', nsnetValue: rss, unit: 'MiB', status: 'INFO' }))
      rows.push(row({ name: 'pyroute2 NetNS peer', nsnet: '-', nsnetValue: null, status: 'SKIPPED', note: `pyroute2 is not importable by ${PYTHON}` }))
    }
    log(`  idle helper RSS ${rss.toFixed(1)} MiB`)

    // 5. Creating a namespace: `ip netns add` (what nsnet does) vs natively (file + unshare --net=FILE).
    const k = quick ? 10 : 30
    const viaIp: number[] = []
    const native: number[] = []
    const del: number[] = []
    for (let i = 0; i < k; i++) {
      let t0 = performance.now()
      await netns.add(`bench-a${i}`)
      viaIp.push(performance.now() - t0)
      t0 = performance.now()
      writeFileSync(`/run/netns/bench-b${i}`, '')
      sh('unshare', [`--net=/run/netns/bench-b${i}`, 'true'])
      native.push(performance.now() - t0)
    }
    for (let i = 0; i < k; i++) {
      const t0 = performance.now()
      await netns.delete(`bench-a${i}`)
      del.push(performance.now() - t0)
      sh('umount', ['-l', `/run/netns/bench-b${i}`])
      sh('rm', [`/run/netns/bench-b${i}`])
    }
    rows.push(
      row({
        name: 'create a named namespace',
        nsnet: 'netns.add (ip netns add)',
        nsnetValue: median(viaIp),
        peer: 'native: touch + unshare --net=FILE',
        peerValue: median(native),
        status: 'INFO',
        samples: { nsnet: viaIp, peer: native },
      }),
    )
    rows.push(
      row({
        name: 'delete a named namespace',
        nsnet: 'netns.delete (waits for release)',
        nsnetValue: median(del),
        status: 'INFO',
        samples: { nsnet: del },
      }),
    )
  } finally {
    await netns.delete(NS, { kill: true }).catch(() => undefined)
  }
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.env.NSNET_HERMETIC !== '1') {
    process.stderr.write('bench/netns.ts: run it inside the hermetic runner (node test/run-hermetic.mjs --exec node_modules/.bin/tsx bench/netns.ts)\n')
    process.exit(2)
  }
  const rows = await benchNetns({ quick: process.argv.includes('--quick') })
  for (const r of rows) {
    const v = (x: number | null | undefined) => (x == null ? 'n/a' : x.toFixed(r.unit === 'MiB' ? 1 : 1))
    process.stdout.write(
      `${r.name}: ${r.nsnet} ${v(r.nsnetValue)}${r.unit === 'MiB' ? ' MiB' : ' ms'}` +
        (r.peer ? ` | ${r.peer} ${v(r.peerValue)} | ratio ${r.ratio == null ? 'n/a' : r.ratio.toFixed(2)}${r.target ? ` (target <= ${r.target})` : ''}` : '') +
        (r.note ? ` — ${r.note}` : '') +
        '\n',
    )
  }
  process.exit(0)
}
