// TEMPORARY SHIM -- remove once src/ops/addresses.ts has add() (it is a placeholder while
// its owner writes it). Until then an address is added with iproute2 itself
// (`ip [-n NS] addr add CIDR dev IFNAME`); as soon as Addresses.prototype.add exists, the
// real netlink call is used instead and this file does nothing.
import { Addresses } from '../ops/addresses.js'
import { NsnetError } from '../netlink/errors.js'
import { runCommand } from '../netns/exec.js'

export const addressesLanded = typeof (Addresses.prototype as unknown as { add?: unknown }).add === 'function'

export async function shimAddAddress(netns: string | null, ifname: string, cidr: string): Promise<void> {
  const argv = ['ip', ...(netns === null ? [] : ['-n', netns]), 'addr', 'add', cidr, 'dev', ifname]
  const r = await runCommand(argv, { timeoutMs: 15_000 }, { operation: 'addresses.add (shim)', namespace: netns ?? undefined })
  if (r.code !== 0) {
    const msg = r.stderr.trim()
    throw new NsnetError(msg || `exit ${r.code}`, {
      code: /File exists/.test(msg) ? 'EEXIST' : 'EIO', operation: 'addresses.add', object: `address ${cidr} dev ${ifname}`, namespace: netns ?? undefined,
    })
  }
}
