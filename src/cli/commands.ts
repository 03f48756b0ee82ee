// The `nsnet` commands: each with its usage, options and what it does. Exit codes: 0 done,
// 1 a check failed (an invalid spec, a run not removed, sandboxes unsupported), 2 usage error;
// `up` interrupted by SIGINT/SIGTERM rolls back and exits 130/143.
import { NsnetError } from '../netlink/errors.js'
import { sandbox } from '../sandbox/sandbox.js'
import { checkSandboxSupport, describeUnsupported } from '../sandbox/support.js'
import { isRunId, listMarkers, processAlive, readMarker, sameWorld } from '../topology/marker.js'
import { type ReapResult, reap } from '../topology/reap.js'
import type { TopologySpec } from '../topology/spec.js'
import { Topology } from '../topology/topology.js'
import { SpecError } from '../topology/validate/index.js'
import { type Command, UsageError } from './args.js'
import { progress, progressMode } from './progress.js'
import { readSpecFile } from './spec-file.js'
import { specSchema } from './spec-schema.js'

const JSON_OPT = { type: 'boolean', help: 'print the result as JSON' } as const

function write(text: string): void {
  process.stdout.write(text)
}
function writeJson(v: unknown): void {
  write(`${JSON.stringify(v, null, 2)}\n`)
}

/** Run ids for a run id or a lab name (`nsnet down NAME`). */
function runIdsOf(lab: string, command: Command): string[] {
  if (isRunId(lab) && readMarker(lab)) return [lab]
  const named = listMarkers()
    .filter((m) => sameWorld(m) && m.name === lab)
    .map((m) => m.runId)
  if (!named.length) {
    const what = isRunId(lab) ? `no run ${lab}` : `${JSON.stringify(lab)} is not a run id nor the name of a lab`
    throw new NsnetError(`${what} in /run/nsnet`, { code: 'ENOTFOUND', operation: `nsnet ${command.name}`, hint: '`nsnet runs` lists them' })
  }
  if (named.length > 1) throw new UsageError(`${named.length} runs are named ${JSON.stringify(lab)} (${named.join(', ')}): give a run id`, command)
  return named
}

function printReap(r: ReapResult): void {
  write(
    `${r.runId} (${r.name}, pid ${r.pid || 'kept'}): ${r.status}` +
      `${r.namespaces.length ? `; netns ${r.namespaces.join(' ')}` : ''}${r.links.length ? `; links ${r.links.join(' ')}` : ''}\n`,
  )
  for (const f of r.report?.failed ?? []) write(`  could not remove ${f.object}: ${f.error}\n`)
}

const SPEC_DETAILS = 'SPEC is a JSON (.json) or YAML (.yaml, .yml) file, or - for stdin.'

const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const

export const commands: readonly Command[] = [
  {
    name: 'up',
    args: 'SPEC',
    positionals: [1, 1],
    summary: 'Build a topology and keep it up after nsnet exits.',
    details: `${SPEC_DETAILS}\nRemove it with nsnet down. Progress shows on a terminal.\nCtrl-C (SIGINT) or SIGTERM during the build removes what it made\nand exits 130 or 143.`,
    options: {
      json: { type: 'boolean', help: 'print the run (id, name, namespaces) as JSON' },
      verbose: { type: 'boolean', short: 'v', help: 'print each step as the ip command that does the same' },
      quiet: { type: 'boolean', short: 'q', help: 'print nothing while building' },
    },
    async run(flags, [file]) {
      const spec = await readSpecFile(file!)
      const steps = Topology.plan(spec) // validates first: an invalid spec touches nothing
      const phaseOf = new Map(steps.map((s) => [s.command, s.phase]))
      const shown = progress(progressMode(flags, process.stderr.isTTY === true), steps.length, flags.json ? process.stderr : process.stdout)
      const ac = new AbortController()
      let signalled: keyof typeof SIGNAL_EXIT | undefined
      const stop = (sig: keyof typeof SIGNAL_EXIT) => {
        if (signalled) return // a second Ctrl-C must not cut the rollback short
        signalled = sig
        shown.note(`nsnet up: ${sig}: removing what this run made`)
        ac.abort()
      }
      const onInt = () => stop('SIGINT')
      const onTerm = () => stop('SIGTERM')
      process.on('SIGINT', onInt)
      process.on('SIGTERM', onTerm)
      try {
        let lab: Topology
        try {
          lab = await Topology.up(spec, { signal: ac.signal, onStep: (_s, command) => shown.step(phaseOf.get(command) ?? '', command) })
        } catch (e) {
          if (signalled) return SIGNAL_EXIT[signalled] // Topology.up has rolled back
          throw e
        }
        if (!signalled) await lab.keep()
        if (signalled) {
          await lab.down()
          return SIGNAL_EXIT[signalled]
        }
        shown.end()
        const namespaces = lab.spec.hosts.flatMap((h) => (h.netns === null ? [] : [h.netns]))
        if (flags.json) writeJson({ runId: lab.runId, name: lab.spec.name, created: lab.created, namespaces })
        else if (!flags.quiet) write(`up: run ${lab.runId}${lab.created ? '' : ' (already up)'} (remove it with: nsnet down ${lab.runId})\n`)
        return 0
      } finally {
        shown.end()
        process.off('SIGINT', onInt)
        process.off('SIGTERM', onTerm)
      }
    },
  },
  {
    name: 'check',
    args: 'SPEC',
    positionals: [1, 1],
    summary: 'Validate a spec without touching anything.',
    details: `${SPEC_DETAILS}\nExits 1 if the spec has problems (each is listed, with its path).`,
    options: { json: { type: 'boolean', help: 'print { valid, problems } as JSON' } },
    async run(flags, [file]) {
      let spec: TopologySpec
      try {
        spec = await readSpecFile(file!)
      } catch (e) {
        // --json answers in JSON whatever is wrong: a file that cannot be read or parsed too.
        if (!flags.json || !(e instanceof NsnetError)) throw e
        writeJson({ valid: false, problems: [{ path: '', message: e.message }] })
        return 1
      }
      try {
        const t = Topology.validate(spec)
        if (flags.json) writeJson({ valid: true, name: t.name, problems: [] })
        else write('spec is valid\n')
        return 0
      } catch (e) {
        if (!(e instanceof SpecError) || !flags.json) throw e
        writeJson({ valid: false, problems: e.problems })
        return 1
      }
    },
  },
  {
    name: 'draw',
    args: 'SPEC',
    positionals: [1, 1],
    summary: 'Draw a spec as a text outline, or as a Mermaid flowchart.',
    details: SPEC_DETAILS,
    options: { mermaid: { type: 'boolean', help: 'a Mermaid flowchart instead of text' } },
    async run(flags, [file]) {
      write(Topology.draw(await readSpecFile(file!), flags.mermaid ? 'mermaid' : 'text'))
      return 0
    },
  },
  {
    name: 'script',
    args: 'SPEC',
    positionals: [1, 1],
    summary: 'Print the ip commands that build a spec.',
    details: SPEC_DETAILS,
    options: {},
    async run(_flags, [file]) {
      write(Topology.script(await readSpecFile(file!)))
      return 0
    },
  },
  {
    name: 'schema',
    args: '',
    positionals: [0, 0],
    summary: 'Print the JSON Schema of a topology spec, for editors.',
    options: {},
    async run() {
      writeJson(specSchema)
      return 0
    },
  },
  {
    name: 'runs',
    args: '',
    positionals: [0, 0],
    summary: 'List the runs recorded in /run/nsnet.',
    options: {
      all: { type: 'boolean', help: 'also runs of other mount/PID namespaces (which reap leaves alone)' },
      json: JSON_OPT,
    },
    async run(flags) {
      const runs = listMarkers()
        .filter((m) => flags.all || sameWorld(m))
        .map((m) => ({
          runId: m.runId,
          name: m.name,
          pid: m.pid,
          state: !sameWorld(m)
            ? 'foreign (another mount or PID namespace)'
            : m.pid === 0
              ? 'kept'
              : processAlive(m.pid, m.pidStart)
                ? 'alive'
                : 'dead (nsnet reap removes it)',
          created: m.created,
          namespaces: m.namespaces.map((n) => n.name),
          links: m.links.map((l) => l.name),
        }))
      if (flags.json) writeJson(runs)
      else for (const r of runs) write(`${r.runId}  ${r.name}  ${r.state}  netns: ${r.namespaces.join(' ') || '-'}\n`)
      return 0
    },
  },
  {
    name: 'down',
    args: 'RUNID|NAME',
    positionals: [1, 1],
    summary: 'Remove one run (also a kept one), by run id or lab name.',
    details: 'Exits 1 if something could not be removed (each is listed).',
    options: { json: JSON_OPT },
    async run(flags, [lab]) {
      const results: ReapResult[] = []
      for (const runId of runIdsOf(lab!, this)) results.push(...(await reap({ runId })))
      if (flags.json) writeJson(results)
      else
        for (const r of results) {
          write(`${r.runId}: ${r.status}\n`)
          for (const f of r.report?.failed ?? []) write(`  could not remove ${f.object}: ${f.error}\n`)
        }
      return results.every((r) => r.status === 'removed') ? 0 : 1
    },
  },
  {
    name: 'reap',
    args: '[RUNID|NAME]',
    positionals: [0, 1],
    summary: 'Remove what nsnet runs whose process died left behind.',
    details:
      'With RUNID or NAME, only the runs of that lab. Runs whose process lives, and kept runs\n(unless --kept), are left alone. Exits 1 if something could not be removed.',
    options: {
      'dry-run': { type: 'boolean', help: 'only say what would be removed' },
      kept: { type: 'boolean', help: 'also remove runs kept up on purpose (nsnet up, --keep)' },
      json: JSON_OPT,
    },
    async run(flags, [lab]) {
      const results = await reap({ dryRun: flags['dry-run'] === true, kept: flags.kept === true, ...(lab === undefined ? {} : { lab }) })
      if (flags.json) writeJson(results)
      else if (!results.length) write(lab === undefined ? 'no nsnet runs recorded\n' : `no run or lab named ${JSON.stringify(lab)} recorded\n`)
      else for (const r of results.filter((x) => x.status !== 'foreign')) printReap(r)
      return results.some((r) => r.status === 'partial') ? 1 : 0
    },
  },
  {
    name: 'sandbox',
    args: '[--] [COMMAND [ARGS...]]',
    positionals: [0, Infinity],
    passThrough: true,
    summary: 'Run COMMAND (default: $SHELL) in a throwaway user+network+mount namespace.',
    details: 'Private /run/netns, /etc/netns, /run/nsnet and /sys; no root needed. Exits with its code.',
    options: { check: { type: 'boolean', help: 'say whether sandboxes work here, and if not why (exit 1)' } },
    async run(flags, command) {
      if (flags.check) {
        const s = checkSandboxSupport()
        write(s.ok ? 'sandboxes work here\n' : `${describeUnsupported(s)}\n`)
        return s.ok ? 0 : 1
      }
      const argv = command.length ? [...command] : [process.env.SHELL || '/bin/sh']
      // Ctrl-C belongs to the command inside.
      process.on('SIGINT', () => undefined)
      return (await sandbox.run(argv)).code
    },
  },
]
