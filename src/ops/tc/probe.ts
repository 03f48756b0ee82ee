// Whether the kernel has a qdisc kind, asked without changing anything: an RTM_NEWQDISC for
// the kind on lo with options no kind accepts. A missing kind fails with ENOENT ("Specified
// qdisc kind is unknown") before options are read; a present one fails in its init with
// EINVAL/ERANGE and leaves nothing behind. The answer is the kernel's, so it is cached per process.
import { NLM_F_CREATE, NLM_F_EXCL } from '../../netlink/constants.js'
import { isNsnetError, NsnetError } from '../../netlink/errors.js'
import type { OpsContext } from '../context.js'
import { writeTcmsg } from './codec.js'
import { RTM_DELQDISC, RTM_NEWQDISC, TC_H_ROOT, TCA_KIND, TCA_OPTIONS } from './constants.js'

/** Kinds that some kernels lack and that the probe's malformed options cannot create (their init validates). */
export const PROBED_KINDS = new Set(['netem', 'fq_codel', 'tbf', 'htb'])
const LO = 1
const known = new Map<string, Promise<boolean>>()

/** Whether the kernel knows qdisc `kind`; only for PROBED_KINDS (others answer true). */
export function kernelHasQdisc(ctx: OpsContext, kind: string): Promise<boolean> {
  if (!PROBED_KINDS.has(kind)) return Promise.resolve(true)
  let p = known.get(kind)
  if (!p) {
    p = probe(ctx, kind)
    known.set(kind, p)
    p.catch(() => known.delete(kind))
  }
  return p
}

async function probe(ctx: OpsContext, kind: string): Promise<boolean> {
  try {
    await ctx.sock.request({
      type: RTM_NEWQDISC,
      flags: NLM_F_CREATE | NLM_F_EXCL,
      operation: 'tc.qdiscs.supports',
      object: `qdisc kind ${kind}`,
      body: (w) => {
        writeTcmsg(w, LO, 0, TC_H_ROOT)
        w.attrStr(TCA_KIND, kind)
        const at = w.beginNested(TCA_OPTIONS)
        w.attrU8(1, 0) // a 1-byte attribute 1: shorter than any kind's first option
        w.endNested(at)
      },
    })
  } catch (e) {
    if (isNsnetError(e, 'ENOENT')) return false
    if (isNsnetError(e, 'EINVAL') || isNsnetError(e, 'ERANGE') || isNsnetError(e, 'EEXIST')) return true
    throw e
  }
  // Accepted after all: take it away again so the probe leaves nothing.
  await ctx.sock
    .request({
      type: RTM_DELQDISC,
      operation: 'tc.qdiscs.supports',
      object: `qdisc kind ${kind}`,
      body: (w) => writeTcmsg(w, LO, 0, TC_H_ROOT),
    })
    .catch(() => undefined)
  return true
}

/** EUNSUPPORTED naming the missing kind, as links do for a missing link kind. */
export function missingQdisc(kind: string, operation: string, namespace: string | undefined): NsnetError {
  return new NsnetError(`kernel has no qdisc ${kind}`, {
    code: 'EUNSUPPORTED',
    operation,
    object: `qdisc ${kind}`,
    namespace,
    hint: `the running kernel was built without CONFIG_NET_SCH_${kind.toUpperCase()}`,
  })
}
