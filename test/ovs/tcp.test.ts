// TCP, not only ping, through an OVS netdev bridge nsnet did not make, on a vswitchd nsnet
// did not start (ovs-ctl style, by shell, without userspace TSO): nsnet's addPort turns TX
// checksum offload off on each veth's peer inside its namespace and says so; a port added
// with checksumOffload 'keep' is the control that shows TCP failing without it.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Ovs } from '../../src/ovs/ovs.js'
import { deleteTaps } from '../../src/ovs/service.js'
import { ensureHelperBundle, ip } from '../netns/support.js'
import { haveOvs, ovsPids, skipReason, startOvsByShell, vsctl } from './support.js'

const hosts = [
  ['tm', '10.9.8.1'],
  ['tl', '10.9.8.2'],
  ['tk', '10.9.8.3'],
] as const

function tcpWorks(from: string, to: string): boolean {
  // An echo of 256 KiB through nc (netcat-openbsd), both ends in their namespaces.
  const srv = `timeout 10 nc -l -N ${to} 5009 > /dev/null`
  const server = spawnSync(
    'sh',
    [
      '-c',
      `ip netns exec ${hosts.find((h) => h[1] === to)![0]} sh -c '${srv}' & sleep 0.5; head -c 262144 /dev/zero | ip netns exec ${from} timeout 6 nc -N -w 3 ${to} 5009; echo rc=$?; wait`,
    ],
    { encoding: 'utf8' },
  )
  return /rc=0/.test(server.stdout)
}

describe.skipIf(!haveOvs)(`TCP through a bridge nsnet did not start${haveOvs ? '' : ` (skipped: ${skipReason})`}`, () => {
  let dir: string
  let daemons: { db: string; stop: () => void }
  let ovs: Ovs
  beforeAll(async () => {
    await ensureHelperBundle()
    dir = mkdtempSync('/tmp/nsnet-shell-')
    daemons = startOvsByShell(dir)
    vsctl(daemons.db, 'add-br', 'tbr', '--', 'set', 'bridge', 'tbr', 'datapath_type=netdev')
    for (const [h, a] of hosts) {
      ip('netns', 'add', h)
      ip('link', 'add', `${h}-ovs`, 'up', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h)
      ip('-n', h, 'addr', 'add', `${a}/24`, 'dev', 'eth0')
      ip('-n', h, 'link', 'set', 'eth0', 'up')
      ip('-n', h, 'link', 'set', 'lo', 'up')
    }
    ovs = await Ovs.connect(daemons.db)
  })
  afterAll(async () => {
    await ovs?.close()
    daemons?.stop()
    await deleteTaps(undefined, ['tbr'])
    for (const [h] of hosts) spawnSync('ip', ['netns', 'del', h])
    for (const [h] of hosts) spawnSync('ip', ['link', 'del', `${h}-ovs`])
    if (dir) {
      expect(ovsPids(dir)).toEqual([])
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('addPort turns TX checksums off on the peer in its namespace, says so, and TCP works', async () => {
    for (const h of ['tm', 'tl']) {
      const r = await ovs.addPort('tbr', `${h}-ovs`)
      expect(r.offload).toMatchObject({ namespace: h, link: 'eth0' })
      expect(Object.values(r.offload!.changed)).toContain(false)
      const k = JSON.parse(execFileSync('ip', ['netns', 'exec', h, 'ethtool', '--json', '-k', 'eth0'], { encoding: 'utf8' }))[0]
      expect(k['tx-checksumming'].active).toBe(false)
      // The bridge-side end is left alone.
      expect(JSON.parse(execFileSync('ethtool', ['--json', '-k', `${h}-ovs`], { encoding: 'utf8' }))[0]['tx-checksumming'].active).toBe(true)
    }
    expect(vsctl(daemons.db, 'list-ports', 'tbr').trim().split('\n')).toEqual(['tl-ovs', 'tm-ovs'])
    expect(tcpWorks('tm', '10.9.8.2')).toBe(true)
    expect(tcpWorks('tl', '10.9.8.1')).toBe(true)
  })

  test("control: with checksumOffload 'keep' ping works but TCP does not", async () => {
    const r = await ovs.addPort('tbr', 'tk-ovs', { checksumOffload: 'keep' })
    expect(r.offload).toBeUndefined()
    expect(spawnSync('ip', ['netns', 'exec', 'tk', 'ping', '-c', '1', '-W', '3', '10.9.8.1']).status).toBe(0)
    expect(tcpWorks('tk', '10.9.8.1')).toBe(false)
  })
})
