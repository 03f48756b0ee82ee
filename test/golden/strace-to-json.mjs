// Turns `strace -e write=all -e read=all` output into a golden vector file (JSON on stdout):
// every netlink datagram sent or received by the traced command, in order, as hex.
// Usage: node strace-to-json.mjs TRACE NAME COMMAND [SETUP]

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { release } from 'node:os'

const [file, name, command, setup = ''] = process.argv.slice(2)
const lines = readFileSync(file, 'utf8').split('\n')
const call = /^(?:\d+\s+)?(sendmsg|recvmsg|sendto|recvfrom)\((\d+),.*\)\s+=\s+(-?\d+)/
const dumpRow = /^ \| [0-9a-f]{5} {2}(.{49})/
const exchanges = []
let current
for (const line of lines) {
  const c = call.exec(line)
  if (c) {
    current = undefined
    // A peek only measures the next datagram; the real read follows.
    if (line.includes('MSG_PEEK') || Number(c[3]) <= 0) continue
    current = { dir: c[1].startsWith('send') ? 'send' : 'recv', syscall: c[1], fd: Number(c[2]), bytes: Number(c[3]), hex: '' }
    exchanges.push(current)
    continue
  }
  const d = dumpRow.exec(line)
  if (d && current) current.hex += d[1].match(/[0-9a-f]{2}/g).join('')
}
for (const e of exchanges) {
  // recvmsg dumps show the datagram; sendmsg may dump several iovecs that we joined above.
  if (e.hex.length / 2 !== e.bytes) throw new Error(`${name}: ${e.syscall} returned ${e.bytes} bytes but the dump has ${e.hex.length / 2}`)
  delete e.bytes
}
const iproute2 = execFileSync('ip', ['-V'], { encoding: 'utf8' }).trim()
process.stdout.write(
  JSON.stringify(
    {
      name,
      command,
      setup: setup || undefined,
      note: `captured by test/golden/capture.sh with strace; kernel ${release()}; ${iproute2}`,
      exchanges,
    },
    null,
    2,
  ) + '\n',
)
