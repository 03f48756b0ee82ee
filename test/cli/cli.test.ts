// The nsnet command as its users meet it: --help for every command, --version, exit codes
// 0/1/2, --json, and Ctrl-C (SIGINT) or SIGTERM during `nsnet up` rolling back what it made.
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, test } from 'vitest'
import { commands } from '../../src/cli/commands.js'
import { specSchema } from '../../src/cli/spec-schema.js'
import { RUN_DIR } from '../../src/topology/marker.js'
import { ensureHelperBundle, ipj, runNetnsEntries, waitFor } from '../netns/support.js'

await ensureHelperBundle()

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'nsnet-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function nsnet(args: string[], onStdout?: (all: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    // The bundle (ensureHelperBundle built it): a tsx start per call is slow on a loaded machine.
    const child = spawn(process.execPath, ['dist/cli.js', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d
      onStdout?.(stdout, child)
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

function specFile(name: string, spec: unknown): string {
  const p = join(dir, name)
  writeFileSync(p, JSON.stringify(spec))
  return p
}

const leftovers = () => ({
  netns: runNetnsEntries(),
  links: ipj<Array<{ ifname: string }>>('link')
    .map((l) => l.ifname)
    .filter((n) => n !== 'lo'),
  markers: (() => {
    try {
      return readdirSync(RUN_DIR)
    } catch {
      return []
    }
  })(),
})

describe('usage', () => {
  test("nsnet CMD --help prints that command's usage and exits 0, for every command", { timeout: 120_000 }, async () => {
    const runs = await Promise.all(commands.map((c) => nsnet([c.name, '--help'])))
    runs.forEach((r, i) => {
      expect(r.code, commands[i]!.name).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`^usage: nsnet ${commands[i]!.name}\\b`))
      expect(r.stdout).toContain('--help')
    })
    expect(commands.map((c) => c.name).sort()).toEqual(['check', 'down', 'draw', 'reap', 'runs', 'sandbox', 'schema', 'script', 'up'])
  })

  test('--version, --help, and usage errors exit 2 with the usage', { timeout: 120_000 }, async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    const [version, help, none, unknown, missing, badFlag, extra] = await Promise.all([
      nsnet(['--version']),
      nsnet(['--help']),
      nsnet([]),
      nsnet(['frobnicate']),
      nsnet(['up']),
      nsnet(['check', '--bogus', 'x.json']),
      nsnet(['draw', 'a.json', 'b.json']),
    ])
    expect(version).toMatchObject({ code: 0, stdout: `nsnet ${pkg.version}\n` })
    expect(help.code).toBe(0)
    for (const c of commands) expect(help.stdout).toContain(`nsnet ${c.name}`)
    expect(none.code).toBe(2)
    expect(unknown).toMatchObject({ code: 2, stdout: '' })
    expect(unknown.stderr).toMatch(/^nsnet: unknown command "frobnicate"\n/)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^nsnet: nsnet up needs SPEC\n\nusage: nsnet up SPEC\n/)
    expect(badFlag.code).toBe(2)
    expect(badFlag.stderr).toMatch(/^nsnet: unknown option --bogus/)
    expect(extra.code).toBe(2)
  })

  test('check --json: { valid, problems }, exit 1 when a check fails; a missing file exits 1', { timeout: 60_000 }, async () => {
    const good = specFile('good.json', { name: 'j', hosts: [{ name: 'a' }] })
    const bad = specFile('bad.json', { hosts: [{ name: 'a' }, { name: 'a' }] })
    const [g, b, gone] = await Promise.all([nsnet(['check', '--json', good]), nsnet(['check', bad, '--json']), nsnet(['check', join(dir, 'none.json')])])
    expect(g.code).toBe(0)
    expect(JSON.parse(g.stdout)).toEqual({ valid: true, name: 'j', problems: [] })
    expect(b.code).toBe(1)
    expect(JSON.parse(b.stdout)).toEqual({ valid: false, problems: [{ path: 'hosts[1].name', message: 'duplicate host "a" (also hosts[0])' }] })
    expect(gone.code).toBe(1)
    expect(gone.stderr).toMatch(/^nsnet: cannot read the spec .*none\.json/)
  })

  test("nsnet schema prints the spec's JSON Schema", async () => {
    const r = await nsnet(['schema'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(specSchema)))
  })
})

describe('up, runs, down by name, --json', () => {
  test('up --json, runs --json, down NAME --json', { timeout: 120_000 }, async () => {
    const spec = specFile('named.json', { name: 'cli-named', hosts: [{ name: 'na' }, { name: 'nb' }], links: [{ a: 'na', b: 'nb' }] })
    const up = await nsnet(['up', '--json', spec])
    expect(up.code).toBe(0)
    const made = JSON.parse(up.stdout) as { runId: string; name: string; created: boolean; namespaces: string[] }
    expect(made).toMatchObject({ name: 'cli-named', created: true, namespaces: ['na', 'nb'] })
    expect(runNetnsEntries()).toEqual(['na', 'nb'])
    const runs = JSON.parse((await nsnet(['runs', '--json'])).stdout) as Array<{ runId: string; state: string }>
    expect(runs.find((r) => r.runId === made.runId)?.state).toBe('kept')
    const down = await nsnet(['down', 'cli-named', '--json'])
    expect(down.code).toBe(0)
    expect(JSON.parse(down.stdout)).toMatchObject([{ runId: made.runId, name: 'cli-named', status: 'removed' }])
    expect(leftovers()).toEqual({ netns: [], links: [], markers: [] })
    const again = await nsnet(['down', 'cli-named'])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/"cli-named" is not a run id nor the name of a lab in \/run\/nsnet/)
  })
})

describe('a signal during nsnet up', () => {
  // Many hosts on one bridge: enough steps that the signal lands half-way.
  const spec = specFile('many.json', {
    name: 'cli-many',
    bridges: [{ name: 'sigbr0' }],
    hosts: Array.from({ length: 40 }, (_, i) => ({ name: `sg${i}` })),
    links: Array.from({ length: 40 }, (_, i) => ({ a: { node: `sg${i}`, addresses: [`10.77.${i}.1/24`] }, b: { node: 'sigbr0', ifname: `sgp${i}` } })),
  })

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    test(`${signal} half-way rolls back everything and exits ${code}`, async () => {
      let sent = false
      const r = await nsnet(['up', '--verbose', spec], (out, child) => {
        // after the namespaces, while the links are being made
        if (!sent && (out.match(/^ip link add /gm)?.length ?? 0) >= 5) {
          sent = true
          child.kill(signal)
        }
      })
      expect(sent).toBe(true)
      expect({ code: r.code, signal: r.signal }).toEqual({ code, signal: null })
      expect(r.stderr).toContain(`nsnet up: ${signal}: removing what this run made`)
      await waitFor(() => leftovers().netns.length === 0, 10_000)
      expect(leftovers()).toEqual({ netns: [], links: [], markers: [] })
    }, 120_000)
  }
})
