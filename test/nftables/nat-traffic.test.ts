// NAT that really passes traffic: a LAN host behind a router reaches an "internet"
// namespace (203.0.113.0/24) through rt.nft's masquerade and is seen there with the router's
// address; a dnat port forward on the router reaches a server on the LAN. Only our namespaces.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type NetnsHandle, netns } from '../../src/netns/index.js'
import { ensureHelperBundle } from '../netns/support.js'

const tag = process.pid.toString(36)
const LAN = `nsnet-lan-${tag}`,
  ROUTER = `nsnet-rtr-${tag}`,
  NET = `nsnet-inet-${tag}`
const sh = (ns: string, cmd: string): string => execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { encoding: 'utf8' })
const servers: ChildProcess[] = []
let router: NetnsHandle

/** A TCP server in `ns` answering each connection with the peer's address. */
function peerServer(ns: string, port: number): Promise<void> {
  const code = `require('net').createServer((s) => s.end(s.remoteAddress)).listen(${port}, '0.0.0.0', () => console.log('up'))`
  const c = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  servers.push(c)
  return new Promise((resolve, reject) => {
    c.stdout!.once('data', () => resolve())
    c.once('exit', (code) => reject(new Error(`server in ${ns} exited ${code}`)))
  })
}

/** Connects from `ns` to addr:port and returns what the server said (its view of our address). */
function ask(ns: string, addr: string, port: number): string {
  const code = `const s = require('net').connect(${port}, '${addr}'); let d = ''; s.on('data', (x) => d += x); s.on('end', () => console.log(d)); s.setTimeout(8000, () => { console.log('timeout'); s.destroy() })`
  return execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { encoding: 'utf8', timeout: 20_000 }).trim()
}

beforeAll(async () => {
  process.env.NSNET_HELPER = await ensureHelperBundle()
  for (const ns of [LAN, ROUTER, NET]) execFileSync('ip', ['netns', 'add', ns])
  execFileSync('ip', ['link', 'add', 'lan0', 'netns', LAN, 'type', 'veth', 'peer', 'name', 'rlan', 'netns', ROUTER])
  execFileSync('ip', ['link', 'add', 'wan0', 'netns', NET, 'type', 'veth', 'peer', 'name', 'rwan', 'netns', ROUTER])
  sh(LAN, 'ip link set lo up && ip link set lan0 up && ip addr add 192.168.0.2/24 dev lan0 && ip route add default via 192.168.0.1')
  sh(
    ROUTER,
    'ip link set lo up && ip link set rlan up && ip link set rwan up && ip addr add 192.168.0.1/24 dev rlan && ip addr add 203.0.113.1/24 dev rwan && sysctl -qw net.ipv4.ip_forward=1',
  )
  // The internet has no route back to 192.168.0.0/24: only NAT makes the answer come back.
  sh(NET, 'ip link set lo up && ip link set wan0 up && ip addr add 203.0.113.2/24 dev wan0')
  router = await netns.open(ROUTER)
}, 60_000)

afterAll(async () => {
  for (const s of servers) s.kill('SIGKILL')
  await router?.close()
  for (const ns of [LAN, ROUTER, NET]) execFileSync('ip', ['netns', 'del', ns])
})

describe('NAT through rt.nft, with traffic', () => {
  it('without NAT the internet cannot answer the LAN host', async () => {
    await peerServer(NET, 7000)
    expect(ask(LAN, '203.0.113.2', 7000)).toBe('timeout')
  }, 30_000)

  it('masquerade: the LAN host reaches the internet, which sees the router address', async () => {
    await router.nft.masquerade({ from: '192.168.0.0/24', out: 'rwan' })
    expect(ask(LAN, '203.0.113.2', 7000)).toBe('203.0.113.1')
  }, 30_000)

  it('dnat: a port forward on the router reaches a server on the LAN', async () => {
    await peerServer(LAN, 8080)
    await router.nft.dnat({ in: 'rwan', proto: 'tcp', port: 80, to: '192.168.0.2:8080' })
    // The LAN server sees the real client (dnat changes only the destination).
    expect(ask(NET, '203.0.113.1', 80)).toBe('203.0.113.2')
  }, 30_000)

  it('forward policy drop stops it; allowing the LAN and established traffic lets it through again', async () => {
    await router.nft.forwardPolicy('drop')
    expect(ask(LAN, '203.0.113.2', 7000)).toBe('timeout')
    await router.nft.allowForward({ established: true })
    await router.nft.allowForward({ in: 'rlan', from: '192.168.0.0/24' })
    expect(ask(LAN, '203.0.113.2', 7000)).toBe('203.0.113.1')
    await router.nft.forwardPolicy('accept')
    await router.nft.flushForward()
  }, 60_000)
})
