// Open vSwitch benchmarks: nsnet's OVSDB verbs against ovs-vsctl on the same private
// ovsdb-server + ovs-vswitchd (netdev datapath, internal ports: each one a tap vswitchd
// makes), and Ovs.start() against an ovs-ctl style start by shell. Every add waits for
// vswitchd to apply it, as ovs-vsctl does by default.
//
//   called by bench/run.ts as benchOvs({ runs, quick, log })
//   alone:  node test/run-hermetic.mjs --exec node_modules/.bin/tsx bench/ovs.ts [--quick]
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { Ovs } from '../src/ovs/ovs.js'
import { ovsInstalled } from '../src/ovs/service.js'
import { median, timeProcess } from './harness.js'
import type { ModuleRow } from './report.js'

export interface OvsBenchOptions {
  readonly runs?: number
  readonly quick?: boolean
  readonly log?: (s: string) => void
}

const N = 100

function row(r: Omit<ModuleRow, 'ratio' | 'measurement'>): ModuleRow {
  const ratio = r.nsnetValue != null && r.peerValue != null && r.peerValue > 0 ? r.nsnetValue / r.peerValue : null
  return { ...r, measurement: r.name, ratio }
}

/** Wall and CPU (this process) of `fn`, ms. */
async function timed(fn: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await fn()
  const c = process.cpuUsage(c0)
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 }
}

export async function benchOvs(opts: OvsBenchOptions = {}): Promise<ModuleRow[]> {
  const runs = opts.runs ?? 3
  const log = opts.log ?? (() => undefined)
  if (!ovsInstalled()) {
    return [row({ name: 'ovs benchmarks', nsnet: 'Ovs', nsnetValue: null, status: 'SKIPPED', note: 'Open vSwitch is not installed' })]
  }
  const rows: ModuleRow[] = []
  const ovs = await Ovs.start()
  const db = ovs.service!.dbSocket
  const vsctl = ['ovs-vsctl', `--db=unix:${db}`]
  const ports = (b: string) => Array.from({ length: N }, (_, i) => `${b}p${i}`)
  try {
    const seq: number[] = [],
      par: number[] = [],
      seqCpu: number[] = [],
      parCpu: number[] = []
    const each: number[] = [],
      eachCpu: number[] = [],
      one: number[] = [],
      oneCpu: number[] = []
    for (let r = 0; r < runs; r++) {
      log(`  ovs run ${r + 1}/${runs}`)
      await ovs.addBridge('bs')
      let t = await timed(async () => {
        for (const p of ports('bs')) await ovs.addPort('bs', p, { type: 'internal' })
      })
      seq.push(t.wall)
      seqCpu.push(t.cpu)
      await ovs.deleteBridge('bs')
      await ovs.addBridge('bp')
      t = await timed(async () => {
        await Promise.all(ports('bp').map((p) => ovs.addPort('bp', p, { type: 'internal' })))
      })
      par.push(t.wall)
      parCpu.push(t.cpu)
      await ovs.deleteBridge('bp')
      // 100 ovs-vsctl processes, one after the other (a shell loop, timed with its CPU).
      execFileSync(vsctl[0]!, [...vsctl.slice(1), 'add-br', 'be', '--', 'set', 'bridge', 'be', 'datapath_type=netdev'])
      const loop = ports('be')
        .map((p) => `${vsctl.join(' ')} add-port be ${p} -- set interface ${p} type=internal`)
        .join('\n')
      const e = await timeProcess(['sh', '-c', loop], { cpu: true })
      each.push(e.wallMs)
      eachCpu.push((e.userMs ?? 0) + (e.sysMs ?? 0))
      execFileSync(vsctl[0]!, [...vsctl.slice(1), 'del-br', 'be'])
      execFileSync(vsctl[0]!, [...vsctl.slice(1), 'add-br', 'bo', '--', 'set', 'bridge', 'bo', 'datapath_type=netdev'])
      const clauses = ports('bo').flatMap((p) => ['--', 'add-port', 'bo', p, '--', 'set', 'interface', p, 'type=internal'])
      const o = await timeProcess([...vsctl, ...clauses], { cpu: true })
      one.push(o.wallMs)
      oneCpu.push((o.userMs ?? 0) + (o.sysMs ?? 0))
      execFileSync(vsctl[0]!, [...vsctl.slice(1), 'del-br', 'bo'])
    }
    const cpuNote = (a: number[], b: number[]) => `CPU ${median(a).toFixed(0)} ms (nsnet process) vs ${median(b).toFixed(0)} ms (ovs-vsctl processes)`
    rows.push(
      row({
        name: `${N} addPort, one after the other`,
        nsnet: 'ovs.addPort (each waits)',
        nsnetValue: median(seq),
        peer: `${N} ovs-vsctl add-port processes`,
        peerValue: median(each),
        target: 0.5,
        samples: { nsnet: seq, peer: each },
        note: cpuNote(seqCpu, eachCpu),
      }),
    )
    rows.push(
      row({
        name: `${N} addPort, concurrent`,
        nsnet: 'Promise.all(ovs.addPort)',
        nsnetValue: median(par),
        peer: `${N} ovs-vsctl add-port processes`,
        peerValue: median(each),
        target: 0.5,
        samples: { nsnet: par, peer: each },
        note: cpuNote(parCpu, eachCpu),
      }),
    )
    rows.push(
      row({
        name: `${N} addPort vs one transaction`,
        nsnet: 'Promise.all(ovs.addPort)',
        nsnetValue: median(par),
        peer: `one ovs-vsctl with ${N} -- add-port`,
        peerValue: median(one),
        target: 1.0,
        samples: { nsnet: par, peer: one },
        note: cpuNote(parCpu, oneCpu),
      }),
    )
  } finally {
    await ovs.close()
  }

  // Start to ready, and stopped again: Ovs.start()+close() vs the same by shell.
  const mine: number[] = [],
    shell: number[] = []
  for (let r = 0; r < runs; r++) {
    const t = await timed(async () => {
      const o = await Ovs.start()
      await o.close()
    })
    mine.push(t.wall)
    const dir = mkdtempSync('/tmp/nsnet-bench-')
    const env = `OVS_RUNDIR=${dir} OVS_LOGDIR=${dir} OVS_DBDIR=${dir} OVS_SYSCONFDIR=${dir}`
    const script = `export ${env}
      ovsdb-tool create ${dir}/conf.db /usr/share/openvswitch/vswitch.ovsschema
      ovsdb-server --detach --no-chdir --pidfile=${dir}/s.pid --log-file=${dir}/s.log -vconsole:off --remote=punix:${dir}/db.sock ${dir}/conf.db
      ovs-vsctl --db=unix:${dir}/db.sock --no-wait init
      ovs-vswitchd --detach --no-chdir --pidfile=${dir}/v.pid --log-file=${dir}/v.log -vconsole:off unix:${dir}/db.sock
      kill $(cat ${dir}/v.pid) $(cat ${dir}/s.pid)
      while kill -0 $(cat ${dir}/v.pid) 2>/dev/null || kill -0 $(cat ${dir}/s.pid) 2>/dev/null; do sleep 0.01; done`
    const s = await timeProcess(['sh', '-c', script])
    shell.push(s.wallMs)
    rmSync(dir, { recursive: true, force: true })
  }
  rows.push(
    row({
      name: 'private OVS: start to ready, then stop',
      nsnet: 'Ovs.start() + close()',
      nsnetValue: median(mine),
      peer: 'ovs-ctl style by shell (ovsdb-tool, ovsdb-server, init, ovs-vswitchd, kill)',
      peerValue: median(shell),
      samples: { nsnet: mine, peer: shell },
      status: 'INFO',
    }),
  )
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ;(await import('node:fs')).mkdirSync(new URL('../.bench-out', import.meta.url), { recursive: true })
  const rows = await benchOvs({ runs: process.argv.includes('--quick') ? 1 : 3, log: (s) => process.stderr.write(s + '\n') })
  for (const r of rows) {
    process.stdout.write(
      `${r.name}: nsnet ${r.nsnetValue?.toFixed(0)} ms, ${r.peer ?? ''} ${r.peerValue?.toFixed(0) ?? ''} ms, ratio ${r.ratio?.toFixed(2) ?? '-'}${r.target ? ` (target ${r.target})` : ''}${r.note ? `; ${r.note}` : ''}\n`,
    )
  }
}
