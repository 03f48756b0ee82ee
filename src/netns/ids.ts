// Namespace ids (nsid): the numbers by which this namespace refers to its peers
// (IFLA_LINK_NETNSID of a veth whose peer lives elsewhere). RTM_NEWNSID / RTM_GETNSID.
import { closeSync, openSync } from 'node:fs'
import { Attrs, type RawMessage } from '../netlink/codec.js'
import type { NetlinkSocket } from '../netlink/engine.js'
import { codeOf, NsnetError } from '../netlink/errors.js'
import { AF_UNSPEC, RTGENMSG_LEN, RTM_GETNSID, RTM_NEWNSID } from '../ops/rtnl.js'
import { netnsPath, noSuchNetns } from './names.js'

// linux/net_namespace.h
const NETNSA_NSID = 1
const NETNSA_FD = 3
const NETNSA_NSID_NOT_ASSIGNED = -1

function nsidOf(m: RawMessage): number | undefined {
  const id = new Attrs(m.buf, m.start + RTGENMSG_LEN, m.end, NETNSA_FD).s32(NETNSA_NSID)
  return id === undefined || id === NETNSA_NSID_NOT_ASSIGNED ? undefined : id
}

/** Runs `fn` with an fd of /run/netns/NAME open, closing it after. */
export async function withNetnsFd<T>(name: string, operation: string, fn: (fd: number) => Promise<T>): Promise<T> {
  let fd: number
  try {
    fd = openSync(netnsPath(name), 'r')
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    if (err.code === 'EINVAL_ARGUMENT') throw e
    if (err.code === 'ENOENT') throw noSuchNetns(name, operation)
    throw new NsnetError(`cannot open ${netnsPath(name)}: ${err.message}`, { code: codeOf(err), operation, object: `netns ${name}` })
  }
  try {
    return await fn(fd)
  } finally {
    closeSync(fd)
  }
}

/** The id the caller's namespace gives to NAME, or undefined when none is assigned (`ip netns list` "(id: N)"). */
export function getNsid(sock: NetlinkSocket, name: string): Promise<number | undefined> {
  return withNetnsFd(name, 'netns.id', async (fd) => {
    const replies = await sock.request({
      type: RTM_GETNSID,
      expectsReply: true,
      object: `netns ${name}`,
      body: (w) => {
        w.u8(AF_UNSPEC).zeros(3)
        w.attrU32(NETNSA_FD, fd)
      },
    })
    const m = replies.find((r) => r.type === RTM_NEWNSID)
    return m ? nsidOf(m) : undefined
  })
}

/** Assigns NAME an id in the caller's namespace, as `ip netns set NAME ID` (`'auto'`: the kernel picks). */
export async function setNsid(sock: NetlinkSocket, name: string, id: number | 'auto'): Promise<void> {
  const nsid = id === 'auto' ? NETNSA_NSID_NOT_ASSIGNED : id
  await withNetnsFd(name, 'netns.setId', (fd) =>
    sock.request({
      type: RTM_NEWNSID,
      object: `netns ${name}`,
      operation: 'netns.setId',
      body: (w) => {
        w.u8(AF_UNSPEC).zeros(3)
        w.attrU32(NETNSA_FD, fd)
        w.attrS32(NETNSA_NSID, nsid)
      },
    }),
  )
}

/** Every id assigned in the caller's namespace, as `ip netns list-id`. */
export function dumpNsids(sock: NetlinkSocket): Promise<number[]> {
  return sock.dump(
    {
      type: RTM_GETNSID,
      operation: 'netns.listIds',
      body: (w) => {
        w.u8(AF_UNSPEC).zeros(3)
      },
    },
    (m) => (m.type === RTM_NEWNSID ? nsidOf(m) : undefined),
  )
}
