// Records what iproute2 sends for each golden case: runs `ip` under strace in a throwaway
// network namespace and keeps the RTM_NEWLINK/RTM_DELLINK it writes to the netlink socket.
// Regenerate vectors.json (inside the hermetic runner, never on the host):
//   node test/run-hermetic.mjs --exec npx tsx test/golden/links/capture.ts
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sendmsgBuffers } from '../strace-sendmsg.js'
import { CASES, type GoldenCase, NETNS, SETUP } from './cases.js'

export interface Vector {
  /** The command line, for people. */
  readonly ip: string
  /** nlmsg_type and nlmsg_flags ip used. */
  readonly type: number
  readonly flags: number
  /** The message after its 16-byte header (ifinfomsg and attributes), hex. */
  readonly payload: string
  /** The fd number ip passed in IFLA_NET_NS_FD, when it did. */
  readonly fd?: number
}

export const VECTORS_PATH = join(dirname(fileURLToPath(import.meta.url)), 'vectors.json')

export function haveStrace(): boolean {
  return spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** Runs one case's ip command in a fresh network namespace and returns what it sent. */
export function capture(c: GoldenCase): Vector {
  const dir = mkdtempSync(join(tmpdir(), 'nsnet-golden-'))
  const out = join(dir, 'strace.txt')
  try {
    const script = [
      'set -e',
      'ip link set lo up',
      ...SETUP,
      `ip netns add ${NETNS} 2>/dev/null || true`,
      // ip fails for kinds this kernel lacks; the request is what we want.
      `strace -f -e trace=sendmsg -e write=3 -xx -s 65536 -o ${quote(out)} ip ${c.ip.map(quote).join(' ')} >/dev/null 2>&1 || true`,
      `ip netns del ${NETNS} 2>/dev/null || true`,
    ].join('\n')
    const r = spawnSync('unshare', ['--net', '--', 'bash', '-c', script], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`capture of ${c.name} failed: ${r.stderr}`)
    return parseStrace(readFileSync(out, 'utf8'), c)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The last RTM_NEWLINK (16) or RTM_DELLINK (17) in strace's hex dumps of fd 3. */
function parseStrace(text: string, c: GoldenCase): Vector {
  const messages = sendmsgBuffers(text)
  const hit = messages.filter((m) => m.length >= 16 && [16, 17].includes(m.readUInt16LE(4))).pop()
  if (!hit) throw new Error(`no RTM_NEWLINK/RTM_DELLINK captured for ${c.name}`)
  const payload = hit.subarray(16, hit.readUInt32LE(0))
  return {
    ip: `ip ${c.ip.join(' ')}`,
    type: hit.readUInt16LE(4),
    flags: hit.readUInt16LE(6),
    payload: payload.toString('hex'),
    ...(c.namespaces?.length ? { fd: netnsFd(payload) } : {}),
  }
}

/** The value of the first IFLA_NET_NS_FD (u32, type 28) at any nesting depth; attributes are 4-aligned. */
function netnsFd(payload: Buffer): number {
  for (let i = 16; i + 8 <= payload.length; i += 4) {
    if (payload.readUInt16LE(i) === 8 && (payload.readUInt16LE(i + 2) & 0x3fff) === 28) return payload.readUInt32LE(i + 4)
  }
  throw new Error('no IFLA_NET_NS_FD in the captured message')
}

export function loadVectors(): Record<string, Vector> {
  return JSON.parse(readFileSync(VECTORS_PATH, 'utf8')).cases
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.env.NSNET_HERMETIC !== '1') {
    console.error('run me inside the hermetic runner: node test/run-hermetic.mjs --exec npx tsx test/golden/links/capture.ts')
    process.exit(2)
  }
  const ipVersion = spawnSync('ip', ['-V'], { encoding: 'utf8' }).stdout.trim()
  const cases: Record<string, Vector> = {}
  for (const c of CASES) cases[c.name] = capture(c)
  writeFileSync(VECTORS_PATH, JSON.stringify({ generatedBy: `${ipVersion}, test/golden/links/capture.ts`, cases }, null, 2) + '\n')
  console.log(`wrote ${Object.keys(cases).length} vectors to ${VECTORS_PATH}`)
}
