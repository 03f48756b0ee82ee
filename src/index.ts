// The public surface of nsnet.
export { Rtnl, type RtnlApi, type RtnlOptions } from './rtnl.js'
export { NsnetError, BatchError, isNsnetError, type NsnetErrorCode, type ErrorContext } from './netlink/errors.js'
export { NetlinkSocket, type Request, type CallOptions, type DumpOptions, type BatchOptions } from './netlink/engine.js'
