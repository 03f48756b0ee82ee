// The public rtnetlink handle for the caller's own namespace. The namespace helper
// builds the same object inside another namespace, so the ops code is written once.

import type { RtnlApi } from './api.js'
import { NetlinkSocket, type SocketOptions } from './netlink/engine.js'
import { NETLINK_GENERIC } from './netlink/genl.js'
import { NETLINK_NETFILTER } from './nftables/constants.js'
import { Nft } from './nftables/nft.js'
import { Addresses } from './ops/addresses/operations.js'
import { Bridge } from './ops/bridge/index.js'
import type { OpsContext } from './ops/context.js'
import { Ethtool } from './ops/ethtool/operations.js'
import { Links } from './ops/links/operations.js'
import { type Monitor, type MonitorKind, type MonitorOptions, monitor } from './ops/monitor/operations.js'
import { Neighbors } from './ops/neighbors/operations.js'
import { Nexthops } from './ops/nexthops/operations.js'
import { Routes } from './ops/routes/operations.js'
import { Rules } from './ops/rules/operations.js'
import { Tc } from './ops/tc/index.js'

export type { RtnlApi }

export interface RtnlOptions {
  /** Default timeout of each kernel call in ms (default 15000). */
  readonly timeoutMs?: number
  /** Label used in errors for the namespace this socket lives in. */
  readonly namespace?: string
  /** Requested SO_RCVBUF in bytes (default 1 MiB, capped by net.core.rmem_max). */
  readonly receiveBufferBytes?: number
}

export class Rtnl implements RtnlApi, AsyncDisposable {
  readonly links: Links
  readonly addresses: Addresses
  readonly routes: Routes
  readonly neighbors: Neighbors
  readonly rules: Rules
  readonly ethtool: Ethtool
  readonly tc: Tc
  readonly nexthops: Nexthops
  readonly bridge: Bridge
  readonly context: OpsContext
  readonly nft: Nft
  private nftSocket: NetlinkSocket | undefined
  private genlSocket: NetlinkSocket | undefined

  private constructor(
    readonly socket: NetlinkSocket,
    namespace: string | undefined,
    private readonly timeoutMs?: number,
  ) {
    this.context = { sock: socket, namespace }
    this.links = new Links(this.context)
    this.addresses = new Addresses(this.context)
    this.routes = new Routes(this.context)
    this.neighbors = new Neighbors(this.context)
    this.rules = new Rules(this.context)
    // Opened on first use; 4 MiB buffers so big transactions and their answers fit (capped by rmem_max/wmem_max).
    this.nft = new Nft(
      () =>
        (this.nftSocket ??= NetlinkSocket.open({
          protocol: NETLINK_NETFILTER,
          namespace,
          timeoutMs,
          receiveBufferBytes: 4 << 20,
          sendBufferBytes: 4 << 20,
        })),
      namespace,
    )
    this.ethtool = new Ethtool(this.context, () => (this.genlSocket ??= NetlinkSocket.open({ protocol: NETLINK_GENERIC, namespace, timeoutMs })))
    this.tc = new Tc(this.context)
    this.nexthops = new Nexthops(this.context)
    this.bridge = new Bridge(this.context)
  }

  /** Opens a rtnetlink socket in the current network namespace (what `ip` does on start). */
  static async open(opts: RtnlOptions = {}): Promise<Rtnl> {
    const sockOpts: SocketOptions = {
      namespace: opts.namespace,
      timeoutMs: opts.timeoutMs,
      receiveBufferBytes: opts.receiveBufferBytes,
    }
    return new Rtnl(NetlinkSocket.open(sockOpts), opts.namespace, opts.timeoutMs)
  }

  /** Typed change events, as `ip monitor link address route`. Stops when `signal` aborts; `await m.ready` before changing things. */
  monitor(kinds: readonly MonitorKind[], opts: MonitorOptions = {}): Monitor {
    return monitor(this.context, kinds, opts)
  }

  /** Closes the socket; pending calls reject with ECLOSED. */
  async close(): Promise<void> {
    this.socket.close()
    this.nftSocket?.close()
    this.genlSocket?.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
