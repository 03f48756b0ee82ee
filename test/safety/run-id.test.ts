// Issue 8, item 4: a run id is a run id (a fixed pattern), never a path. On the old code
// reap({ runId: '../x' }) and `nsnet down ../x` read a marker planted outside the run
// directory and removed what it listed.
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { NsnetError } from '../../src/netlink/errors.js'
import { currentNetns, currentWorld, newRunId, RUN_DIR } from '../../src/topology/marker.js'
import { reap } from '../../src/topology/reap.js'
import { ip, runNetnsEntries } from '../netns/support.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const PLANT = `${RUN_DIR}/../planted`

beforeAll(() => {
  // A namespace somebody else made, and a marker outside the run directory that names it.
  ip('netns', 'add', 'victim')
  mkdirSync(PLANT, { recursive: true })
  const runId = newRunId()
  writeFileSync(
    `${PLANT}/evil.json`,
    JSON.stringify({
      version: 1,
      runId: '../planted/evil',
      name: 'evil',
      fingerprint: 'x',
      created: new Date().toISOString(),
      pid: 0,
      pidStart: '',
      netns: currentNetns(),
      ...currentWorld(),
      namespaces: [{ name: 'victim' }],
      links: [],
      sysctls: [],
      processes: [],
      etcDirs: [],
      topology: { name: 'evil', prefix: '', hosts: [], bridges: [], veths: [] },
      note: runId,
    }),
  )
})
afterAll(() => {
  rmSync(PLANT, { recursive: true, force: true })
  ip('netns', 'del', 'victim')
})

test.each(['../planted/evil', '/run/planted/evil', 'a/b', '', 'x'.repeat(80), 'UPPER-case-id'])(
  'reap({ runId: %j }) is EINVAL_ARGUMENT and touches nothing',
  async (runId) => {
    const err = await reap({ runId }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(NsnetError)
    expect((err as NsnetError).code).toBe('EINVAL_ARGUMENT')
    expect((err as NsnetError).message).toMatch(/is not a run id/)
    expect(runNetnsEntries()).toEqual(['victim'])
  },
)

test('nsnet down ../planted/evil is refused and touches nothing', async () => {
  const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'down', '../planted/evil'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
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
  expect(r.code).toBe(1)
  expect(r.out).toMatch(/is not a run id/)
  expect(runNetnsEntries()).toEqual(['victim'])
})

test('a marker file whose name is not a run id is not listed (nor reaped)', async () => {
  writeFileSync(`${RUN_DIR}/not-a-run.json`, '{}')
  try {
    const results = await reap({ kept: true })
    expect(results.map((r) => r.runId)).not.toContain('not-a-run')
    expect(runNetnsEntries()).toEqual(['victim'])
  } finally {
    rmSync(`${RUN_DIR}/not-a-run.json`)
  }
})
