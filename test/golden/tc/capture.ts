// Records what iproute2's tc sends for each golden case: runs `tc` under strace in a throwaway
// network namespace and keeps the last RTM_*QDISC/TCLASS/TFILTER it writes. The kernel may refuse
// (netem and fq_codel are not built here); the request is what we want.
// Regenerate vectors.json (inside the hermetic runner, never on the host):
//   node test/run-hermetic.mjs --exec npx tsx test/golden/tc/capture.ts
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sendmsgBuffers } from '../strace-sendmsg.js'
import { CASES, INDEXES, SETUP, type TcGoldenCase } from './cases.js'

export interface TcVector {
  readonly tc: string
  readonly type: number
  readonly flags: number
  /** The message after its 16-byte header (tcmsg and attributes), hex. */
  readonly payload: string
}

export const VECTORS_PATH = join(dirname(fileURLToPath(import.meta.url)), 'vectors.json')

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

export function capture(c: TcGoldenCase): TcVector {
  const dir = mkdtempSync(join(tmpdir(), 'nsnet-golden-tc-'))
  const out = join(dir, 'strace.txt')
  try {
    const check = Object.entries(INDEXES).map(([n, i]) => `[ "$(ip -o link show dev ${n} | cut -d: -f1)" = ${i} ]`)
    const script = [
      'set -e',
      'ip link set lo up',
      ...SETUP,
      ...check,
      `strace -f -e trace=sendmsg -e write=3 -xx -s 65536 -o ${quote(out)} tc ${c.tc.map(quote).join(' ')} >/dev/null 2>&1 || true`,
    ].join('\n')
    const r = spawnSync('unshare', ['--net', '--', 'bash', '-c', script], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`capture of ${c.name} failed: ${r.stderr}`)
    return parse(readFileSync(out, 'utf8'), c)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function parse(text: string, c: TcGoldenCase): TcVector {
  const messages = sendmsgBuffers(text)
  const hit = messages.filter((m) => m.length >= 16 && m.readUInt16LE(4) >= 36 && m.readUInt16LE(4) <= 45).pop()
  if (!hit) throw new Error(`no tc message captured for ${c.name}`)
  return {
    tc: `tc ${c.tc.join(' ')}`,
    type: hit.readUInt16LE(4),
    flags: hit.readUInt16LE(6),
    payload: hit.subarray(16, hit.readUInt32LE(0)).toString('hex'),
  }
}

export function loadVectors(): Record<string, TcVector> {
  return JSON.parse(readFileSync(VECTORS_PATH, 'utf8')).cases
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.env.NSNET_HERMETIC !== '1') {
    console.error('run me inside the hermetic runner: node test/run-hermetic.mjs --exec npx tsx test/golden/tc/capture.ts')
    process.exit(2)
  }
  const version = spawnSync('tc', ['-V'], { encoding: 'utf8' }).stdout.trim()
  const cases: Record<string, TcVector> = {}
  for (const c of CASES) cases[c.name] = capture(c)
  writeFileSync(VECTORS_PATH, JSON.stringify({ generatedBy: `${version}, test/golden/tc/capture.ts`, cases }, null, 2) + '\n')
  console.log(`wrote ${Object.keys(cases).length} vectors to ${VECTORS_PATH}`)
}
