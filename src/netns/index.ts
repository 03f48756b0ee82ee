// The `netns` namespace of the public API: what `ip netns` does, plus handles that
// run the Rtnl API inside a named namespace through a helper process.
import { type ExecOptions, execIn, type NamedExecResult } from './exec.js'
import { checkExecOptions } from './exec-options.js'
import { add, exists, id, identify, list, listIds, pids, remove, setId, setResolvConf } from './lifecycle.js'
import { netnsPath } from './names.js'
import { attach, inode, openRef } from './refs.js'
import { monitor } from './watch.js'

/** Runs argv in every named namespace in turn, as `ip -all netns exec argv...`. */
async function execAll(argv: readonly string[], opts?: ExecOptions): Promise<NamedExecResult[]> {
  checkExecOptions(opts, { operation: 'netns.execAll' })
  const out: NamedExecResult[] = []
  for (const { name } of await list()) out.push({ name, ...(await execIn(name, argv, opts)) })
  return out
}

export const netns = Object.freeze({
  /** `ip netns add NAME` */
  add,
  /** `ip netns delete NAME` (+ rm -r /etc/netns/NAME); waits until the kernel released it. */
  delete: remove,
  /** `ip -j netns list` */
  list,
  /** test -e /run/netns/NAME */
  exists,
  /** `ip netns pids NAME` */
  pids,
  /** `ip netns identify PID` */
  identify,
  /** `ip netns set NAME ID|auto` */
  setId,
  /** The id shown by `ip netns list` "(id: N)", or undefined. */
  id,
  /** `ip -j netns list-id` */
  listIds,
  /** /run/netns/NAME, to open as a namespace fd (IFLA_NET_NS_FD, setns). */
  path: netnsPath,
  /** Writes /etc/netns/NAME/resolv.conf. */
  setResolvConf,
  /** A handle running the Rtnl API, exec, sysctl and files inside NAME (or `{ pid }`, `{ path }`) through a helper. */
  open: openRef,
  /** `ip netns attach NAME PID` */
  attach,
  /** `ip netns monitor`: add/delete events as an async iterable. */
  monitor,
  /** The namespace's nsfs inode (`lsns -t net`), also for unnamed ones: a pid, `{ pid }`, `{ path }` or a name. */
  inode,
  /** `ip netns exec NAME argv...`, to completion. */
  exec: execIn,
  /** `ip -all netns exec argv...` */
  execAll,
})

export type { NamespaceRef } from '../ops/netns-ref.js'
export type { ExecOptions, ExecResult, NamedExecResult, SpawnInOptions } from './exec.js'
export { type NetnsFiles, NetnsHandle, type NetnsSysctl, type Remote } from './handle.js'
export type { HelperOptions } from './helper/client.js'
export type { DeleteOptions, NetnsInfo, NsidInfo } from './lifecycle.js'
export type { SysctlValue } from './sysctl.js'
export type { NetnsEvent, NetnsMonitor, NetnsMonitorOptions } from './watch.js'
