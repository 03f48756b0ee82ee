// The engine's public surface: one netlink socket (engine/socket.ts) and what its callers
// hand it. Its parts live in engine/: window, pending table, dump lock, batch planner, binding.

// Re-exported so callers can tell a multicast message from a reply without importing constants.
export { NLM_F_MULTI } from './constants.js'
export { answerCost, asNsnetError } from './engine/planner.js'
export { NetlinkSocket } from './engine/socket.js'
export type {
  BatchOptions,
  BatchResult,
  CallOptions,
  DumpOptions,
  EncodedRequests,
  ExchangeOptions,
  Request,
  SocketOptions,
} from './engine/types.js'
