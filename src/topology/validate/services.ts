// Phase 5d: what runs in a host: its resolv.conf (dns) and processes[] (argv, env,
// readiness), each program looked up now rather than after the namespaces exist.
import type { NsnetError } from '../../netlink/errors.js'
import { resolveProgram } from '../../netns/exec.js'
import type { ResolvedHost, ResolvedProcess } from '../spec.js'
import { type Checker, isObject } from './checker.js'
import { describeHost, type HostDraft } from './drafts.js'

export function resolveDns(c: Checker, h: HostDraft): ResolvedHost['dns'] {
  const path = h.path
  const hs = h.spec
  if (hs.dns === undefined || !c.fields(`${path}.dns`, hs.dns, ['nameservers', 'search'], ['nameservers'])) return undefined
  const d = hs.dns
  if (h.netns === null) c.fail(`${path}.dns`, 'resolv.conf is per named namespace (/etc/netns/<name>/); the current namespace has none')
  const ns = c
    .array(`${path}.dns.nameservers`, d.nameservers)
    .map((v, i) => c.ip(`${path}.dns.nameservers[${i}]`, v)?.text)
    .filter((x): x is string => !!x)
  if (Array.isArray(d.nameservers) && d.nameservers.length === 0) c.fail(`${path}.dns.nameservers`, 'needs at least one address')
  const search = c
    .array(`${path}.dns.search`, d.search)
    .filter((v, i) => c.string(`${path}.dns.search[${i}]`, v) && domainName(c, `${path}.dns.search[${i}]`, v as string)) as string[]
  return { nameservers: ns, search }
}

/** Whether `v` is a domain name; reports it when not. */
function domainName(c: Checker, path: string, v: string): boolean {
  if (/^[A-Za-z0-9.-]+$/.test(v)) return true
  c.fail(path, 'is not a domain name')
  return false
}

export function resolveProcesses(c: Checker, h: HostDraft): ResolvedProcess[] {
  const path = h.path
  const processes: ResolvedProcess[] = []
  const pnames = new Set<string>()
  c.array(`${path}.processes`, h.spec.processes).forEach((pr, i) => {
    const p = `${path}.processes[${i}]`
    if (!c.fields(p, pr, ['name', 'command', 'env', 'readyTcpPort', 'readyText'], ['name', 'command'])) return
    if (!c.string(`${p}.name`, pr.name)) return
    if (pnames.has(pr.name)) return c.fail(`${p}.name`, `duplicate process "${pr.name}" in ${describeHost(h)}`)
    pnames.add(pr.name)
    if (!Array.isArray(pr.command) || pr.command.length === 0 || !pr.command.every((a) => typeof a === 'string' && !a.includes('\0')) || pr.command[0] === '') {
      return c.fail(`${p}.command`, 'must be a non-empty array of strings without NUL (argv)')
    }
    if (pr.env !== undefined) {
      if (!isObject(pr.env)) c.fail(`${p}.env`, 'must map names to strings')
      else
        for (const [k, v] of Object.entries(pr.env)) {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) c.fail(`${p}.env`, `${JSON.stringify(k)} is not an environment variable name`)
          else if (typeof v !== 'string' || v.includes('\0')) c.fail(`${p}.env.${k}`, 'must be a string without NUL')
        }
    }
    // A program missing from PATH is found now, not after the namespaces exist.
    const program = programProblem(pr.command[0] as string, isObject(pr.env) && typeof pr.env.PATH === 'string' ? pr.env.PATH : undefined)
    if (program) c.fail(`${p}.command[0]`, program)
    const readyTcpPort = c.integer(`${p}.readyTcpPort`, pr.readyTcpPort, 1, 65535)
    if (pr.readyText !== undefined) c.string(`${p}.readyText`, pr.readyText)
    processes.push({
      name: pr.name,
      command: pr.command as string[],
      ...(pr.env ? { env: pr.env as Record<string, string> } : {}),
      ...(readyTcpPort ? { readyTcpPort } : {}),
      ...(typeof pr.readyText === 'string' ? { readyText: pr.readyText } : {}),
    })
  })
  return processes
}

/** Why `prog` cannot be started (as execvp would look it up, inside a namespace: same files), or undefined. */
function programProblem(prog: string, path: string | undefined): string | undefined {
  try {
    resolveProgram(prog, undefined, 'topology.validate', path === undefined ? process.env : { ...process.env, PATH: path })
    return undefined
  } catch (e) {
    return (e as NsnetError).summary + (prog.includes('/') ? '' : ' in PATH')
  }
}
