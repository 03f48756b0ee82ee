// NexthopObject message types (<linux/rtnetlink.h>), named for NSNET_DEBUG traces.
import { registerMessageType } from '../../netlink/trace.js'

export const RTM_NEWNEXTHOP = 104
export const RTM_DELNEXTHOP = 105
export const RTM_GETNEXTHOP = 106
/** struct nhmsg: family, scope, protocol, resvd, flags. */
export const NHMSG_LEN = 8

registerMessageType(RTM_NEWNEXTHOP, 'RTM_NEWNEXTHOP', NHMSG_LEN)
registerMessageType(RTM_DELNEXTHOP, 'RTM_DELNEXTHOP', NHMSG_LEN)
registerMessageType(RTM_GETNEXTHOP, 'RTM_GETNEXTHOP', NHMSG_LEN)
