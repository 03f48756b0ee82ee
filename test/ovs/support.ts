// Shared by the OVS tests: whether OVS is installed (tests skip with the reason when not),
// ovs-vsctl as the oracle, and a check that nothing of OVS is left running.
import { execFileSync, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { ovsInstalled } from '../../src/ovs/service.js'

export const haveOvs = ovsInstalled()
export const skipReason = 'Open vSwitch is not installed (apt-get install openvswitch-switch)'
if (!haveOvs) console.warn(`skipping OVS tests: ${skipReason}`)

/** Runs ovs-vsctl against the given database socket; returns stdout. */
export function vsctl(db: string, ...args: string[]): string {
  return execFileSync('ovs-vsctl', [`--db=unix:${db}`, '--timeout=20', ...args], { encoding: 'utf8' })
}

/** `ovs-vsctl --format=json list TABLE` rows as objects of column -> raw OVSDB JSON. */
export function vsctlList(db: string, table: string, ...records: string[]): Array<Record<string, unknown>> {
  const out = JSON.parse(vsctl(db, '--format=json', 'list', table, ...records)) as { headings: string[]; data: unknown[][] }
  return out.data.map((row) => Object.fromEntries(out.headings.map((h, i) => [h, row[i]])))
}

/**
 * Pids of live (not zombie) ovsdb-server / ovs-vswitchd processes whose command line names
 * `dir` (other test files run their own OVS at the same time).
 */
export function ovsPids(dir: string): number[] {
  const pids: number[] = []
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8')
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      if ((comm !== 'ovsdb-server' && comm !== 'ovs-vswitchd') || state === 'Z') continue
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(dir)) pids.push(Number(e))
    } catch {
      /* gone */
    }
  }
  return pids
}

/** Live OVS daemons in this process's network namespace (each test file has its own). */
export function ovsPidsHere(): number[] {
  const here = statSync('/proc/self/ns/net').ino
  return ovsPids('').filter((p) => {
    try {
      return statSync(`/proc/${p}/ns/net`).ino === here
    } catch {
      return false
    }
  })
}

/** Link names in this namespace (or `ns`), from `ip -j link`. */
export function linkNames(ns?: string): string[] {
  const args = [...(ns ? ['-n', ns] : []), '-j', 'link', 'show']
  return (JSON.parse(execFileSync('ip', args, { encoding: 'utf8' })) as Array<{ ifname: string }>).map((l) => l.ifname).sort()
}

export function sh(cmd: string): { code: number; out: string } {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' })
  return { code: r.status ?? 128, out: r.stdout + r.stderr }
}

/**
 * ovsdb-server + ovs-vswitchd started by shell in `dir`, the way ovs-ctl / ovs-sandbox do,
 * so tests and benches have an OVS that nsnet did not start. stop() kills both by pidfile.
 */
export function startOvsByShell(dir: string): { db: string; stop: () => void } {
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir, OVS_SYSCONFDIR: dir }
  const run = (cmd: string) => execFileSync('sh', ['-c', cmd], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  run(`ovsdb-tool create ${dir}/conf.db /usr/share/openvswitch/vswitch.ovsschema &&
    ovsdb-server --detach --no-chdir --pidfile=${dir}/ovsdb-server.pid --log-file=${dir}/ovsdb-server.log -vconsole:off --remote=punix:${dir}/db.sock ${dir}/conf.db &&
    ovs-vsctl --db=unix:${dir}/db.sock --no-wait init &&
    ovs-vswitchd --detach --no-chdir --pidfile=${dir}/ovs-vswitchd.pid --log-file=${dir}/ovs-vswitchd.log -vconsole:off unix:${dir}/db.sock`)
  return {
    db: `${dir}/db.sock`,
    stop: () => {
      for (const f of ['ovs-vswitchd.pid', 'ovsdb-server.pid']) {
        try {
          process.kill(Number(readFileSync(`${dir}/${f}`, 'utf8')), 'SIGKILL')
        } catch {
          /* gone */
        }
      }
    },
  }
}
