// The helper bundle's stand-in for the `netlink` package (scripts/build.mjs aliases `netlink`
// to this file for dist/helper.js only). It loads just the raw socket binding, and only
// when the first rtnetlink request arrives: the package's index loads every netlink family
// (~50 ms), and even the binding alone would delay "ready" by ~10 ms.
import { createRequire } from 'node:module'
import type { RawNetlinkSocket as RawSocket } from 'netlink'

const load = createRequire(import.meta.url)
export const RawNetlinkSocket: typeof RawSocket = (load('netlink/dist/raw.js') as { RawNetlinkSocket: typeof RawSocket }).RawNetlinkSocket
