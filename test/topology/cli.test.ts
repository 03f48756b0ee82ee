// The nsnet command's topology side: check, draw, script, up (kept), runs, down, reap.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, test } from 'vitest'
import { ensureHelperBundle, runNetnsEntries } from '../netns/support.js'

await ensureHelperBundle()

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'nsnet-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function nsnet(...args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d
    })
    child.stderr.on('data', (d: Buffer) => {
      out += d
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, out }))
  })
}

function specFile(name: string, spec: unknown): string {
  const p = join(dir, name)
  writeFileSync(p, JSON.stringify(spec))
  return p
}

const good = specFile('good.json', {
  name: 'cli',
  hosts: [{ name: 'ca', gateway: '10.4.0.2' }, { name: 'cb' }],
  links: [{ a: { node: 'ca', addresses: ['10.4.0.1/24'] }, b: { node: 'cb', addresses: ['10.4.0.2/24'] } }],
})

test('check, draw and script read a spec without touching anything', { timeout: 120_000 }, async () => {
  expect(await nsnet('check', good)).toEqual({ code: 0, out: 'spec is valid\n' })
  const bad = specFile('bad.json', { hosts: [{ name: 'a' }, { name: 'a' }], links: [{ a: 'a', b: 'zz' }] })
  const r = await nsnet('check', bad)
  expect(r.code).toBe(1)
  expect(r.out).toBe('nsnet: the spec has 2 problems:\n  hosts[1].name: duplicate host "a" (also hosts[0])\n  links[0].b: unknown node "zz"\n')
  expect((await nsnet('draw', good)).out).toMatch(/netns ca\n {2}eth0 {2}10\.4\.0\.1\/24 {2}veth ── cb eth0\n {2}route default via 10\.4\.0\.2/)
  expect((await nsnet('draw', good, '--mermaid')).out).toMatch(/^flowchart LR\n/)
  expect((await nsnet('script', good)).out).toContain('ip link add eth0 netns ca up type veth peer name eth0 netns cb\n')
  expect(runNetnsEntries()).toEqual([])
})

test('up keeps the lab; runs lists it; down removes it; reap leaves kept labs alone', async () => {
  const up = await nsnet('up', '--verbose', good)
  expect(up.code).toBe(0)
  const runId = /up: run (\S+)/.exec(up.out)![1]!
  expect(up.out).toContain('ip netns add ca\n')
  expect(runNetnsEntries()).toEqual(['ca', 'cb'])
  expect((await nsnet('runs')).out).toMatch(new RegExp(`${runId}\\s+cli\\s+kept\\s+netns: ca cb`))
  expect((await nsnet('reap', '--dry-run')).out).toMatch(new RegExp(`${runId} \\(cli, pid kept\\): kept`))
  expect(runNetnsEntries()).toEqual(['ca', 'cb'])
  const down = await nsnet('down', runId)
  expect(down).toEqual({ code: 0, out: `${runId}: removed\n` })
  expect(runNetnsEntries()).toEqual([])
  expect((await nsnet('runs')).out).not.toContain(runId)
}, 120_000) // six CLI processes one after another: well over 30 s when the machine is loaded
