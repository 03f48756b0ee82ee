#!/usr/bin/env node
// The `nsnet` command.
//
//   nsnet sandbox [--] COMMAND [ARGS...]   run COMMAND in a throwaway user+network+mount namespace
//   nsnet reap [--dry-run] [--kept] [--json] remove what dead nsnet runs left behind
//   nsnet down RUNID                        remove one run (also a kept one)
//   nsnet runs [--all] [--json]             the runs recorded in /run/nsnet
//   nsnet up SPEC.json                      build a topology and keep it up after nsnet exits
//   nsnet check SPEC.json                   validate a topology spec, touching nothing
//   nsnet draw SPEC.json [--mermaid]        draw it
//   nsnet script SPEC.json                  print it as ip commands
import { readFileSync } from 'node:fs'
import { isNsnetError } from './netlink/errors.js'
import { sandbox } from './sandbox/sandbox.js'
import { checkSandboxSupport, describeUnsupported } from './sandbox/support.js'
import { listMarkers, processAlive, sameWorld } from './topology/marker.js'
import { reap } from './topology/reap.js'
import type { TopologySpec } from './topology/spec.js'
import { Topology } from './topology/topology.js'

const USAGE = `usage:
  nsnet sandbox [--] COMMAND [ARGS...]    run COMMAND in a throwaway user+network+mount namespace
                                          (private /run/netns, /etc/netns, /run/nsnet, /sys; no root needed)
  nsnet sandbox --check                   say whether sandboxes work here, and if not why
  nsnet reap [--dry-run] [--kept] [--json]
                                          remove what nsnet runs whose process died left behind
  nsnet down RUNID                        remove one run, also a kept one
  nsnet runs [--all] [--json]             list the runs recorded in /run/nsnet (--all: also those of
                                          other mount/PID namespaces, which reap leaves alone)
  nsnet up SPEC.json                      build a topology and keep it up (remove it with nsnet down)
  nsnet check SPEC.json                   validate a spec without touching anything
  nsnet draw SPEC.json [--mermaid]        draw a spec as text or as a Mermaid flowchart
  nsnet script SPEC.json                  print the ip commands that build a spec
`

function readSpec(path: string | undefined): TopologySpec {
  if (!path) throw new Error('a spec file is needed')
  return JSON.parse(readFileSync(path === '-' ? 0 : path, 'utf8')) as TopologySpec
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  const json = rest.includes('--json')
  switch (cmd) {
    case 'sandbox': {
      if (rest[0] === '--check') {
        const s = checkSandboxSupport()
        process.stdout.write(s.ok ? 'sandboxes work here\n' : `${describeUnsupported(s)}\n`)
        return s.ok ? 0 : 1
      }
      const command = rest[0] === '--' ? rest.slice(1) : rest
      if (!command.length) command.push(process.env.SHELL || '/bin/sh')
      // Ctrl-C belongs to the command inside.
      process.on('SIGINT', () => undefined)
      return (await sandbox.run(command)).code
    }
    case 'reap': {
      const results = await reap({ dryRun: rest.includes('--dry-run'), kept: rest.includes('--kept') })
      if (json) process.stdout.write(JSON.stringify(results, null, 2) + '\n')
      else if (!results.length) process.stdout.write('no nsnet runs recorded\n')
      else for (const r of results.filter((x) => x.status !== 'foreign')) {
        process.stdout.write(`${r.runId} (${r.name}, pid ${r.pid || 'kept'}): ${r.status}` +
          `${r.namespaces.length ? `; netns ${r.namespaces.join(' ')}` : ''}${r.links.length ? `; links ${r.links.join(' ')}` : ''}\n`)
        for (const f of r.report?.failed ?? []) process.stdout.write(`  could not remove ${f.object}: ${f.error}\n`)
      }
      return results.some((r) => r.status === 'partial') ? 1 : 0
    }
    case 'down': {
      if (!rest[0]) throw new Error('nsnet down needs a run id (see nsnet runs)')
      const [r] = await reap({ runId: rest[0] })
      if (!r) throw new Error(`no run ${rest[0]} in /run/nsnet`)
      process.stdout.write(`${r.runId}: ${r.status}\n`)
      for (const f of r.report?.failed ?? []) process.stdout.write(`  could not remove ${f.object}: ${f.error}\n`)
      return r.status === 'removed' ? 0 : 1
    }
    case 'runs': {
      const runs = listMarkers().filter((m) => rest.includes('--all') || sameWorld(m)).map((m) => ({
        runId: m.runId, name: m.name, pid: m.pid,
        state: !sameWorld(m) ? 'foreign (another mount or PID namespace)' : m.pid === 0 ? 'kept' : processAlive(m.pid, m.pidStart) ? 'alive' : 'dead (nsnet reap removes it)',
        created: m.created, namespaces: m.namespaces.map((n) => n.name), links: m.links.map((l) => l.name),
      }))
      if (json) process.stdout.write(JSON.stringify(runs, null, 2) + '\n')
      else for (const r of runs) process.stdout.write(`${r.runId}  ${r.name}  ${r.state}  netns: ${r.namespaces.join(' ') || '-'}\n`)
      return 0
    }
    case 'up': {
      const lab = await Topology.up(readSpec(rest[0]), { onStep: (_s, c) => process.stdout.write(`${c}\n`) })
      await lab.keep()
      process.stdout.write(`up: run ${lab.runId} (remove it with: nsnet down ${lab.runId})\n`)
      return 0
    }
    case 'check': {
      Topology.validate(readSpec(rest[0]))
      process.stdout.write('spec is valid\n')
      return 0
    }
    case 'draw': {
      process.stdout.write(Topology.draw(readSpec(rest[0]), rest.includes('--mermaid') ? 'mermaid' : 'text'))
      return 0
    }
    case 'script': {
      process.stdout.write(Topology.script(readSpec(rest[0])))
      return 0
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE)
      return cmd === undefined ? 2 : 0
    default:
      process.stderr.write(`nsnet: unknown command "${cmd}"\n${USAGE}`)
      return 2
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
  const problems = (e as { problems?: Array<{ path: string; message: string }> }).problems
  if (problems && problems.length > 1) {
    process.stderr.write(`nsnet: the spec has ${problems.length} problems:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}\n`)
  } else {
    process.stderr.write(`nsnet: ${isNsnetError(e) ? e.message : (e as Error)?.message ?? e}\n`)
  }
  process.exit(1)
})
