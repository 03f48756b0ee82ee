// nf_tables transactions: NFNL_MSG_BATCH_BEGIN (with the generation id), the members, each
// with NLM_F_ACK and a sequence number of its own, NFNL_MSG_BATCH_END, in one datagram (the
// kernel reads one batch per datagram, applies all of it or nothing, and answers every
// member). One answer is counted per member; a failure names the member (index and object).
import { Attrs, parseErrorMessage, type RawMessage, Writer } from '../netlink/codec.js'
import { NLM_F_ACK, NLM_F_ECHO, NLM_F_REQUEST, NLMSG_ERROR } from '../netlink/constants.js'
import { answerCost, asNsnetError, type CallOptions, type NetlinkSocket } from '../netlink/engine.js'
import { BatchError, kernelError, NsnetError } from '../netlink/errors.js'
import {
  NFGENMSG_LEN,
  NFNL_BATCH_GENID,
  NFNL_MSG_BATCH_BEGIN,
  NFNL_MSG_BATCH_END,
  NFNL_SUBSYS_NFTABLES,
  NFT_MSG_GETGEN,
  NFT_MSG_NEWGEN,
  NFTA_GEN_ID,
  nftType,
} from './constants.js'
import { nfgen } from './objects.js'

/** One change inside a transaction. */
export interface Member {
  /** NFT_MSG_* */
  readonly msg: number
  /** NLM_F_CREATE, NLM_F_APPEND, ... (REQUEST and ACK are added). */
  readonly flags: number
  /** Writes nfgenmsg and the attributes. */
  readonly body: (w: Writer) => void
  /** The nft command it stands for, for errors: `nft add rule`. */
  readonly operation: string
  /** What it is about: `rule inet nsnet forward`. */
  readonly object: string
  /** Ask the kernel to send the object back (NLM_F_ECHO), e.g. to learn a new rule's handle. */
  readonly echo?: boolean
}

export interface CommitOptions extends CallOptions {
  /**
   * The generation the change was computed from (from readGeneration() before a listing);
   * the kernel refuses the batch with ERESTART if the ruleset changed since. Without it the
   * current generation is read and a race with another writer is retried.
   */
  readonly genid?: number
  /** How often ERESTART is retried when no genid was given; default 3. */
  readonly retries?: number
}

export interface CommitResult {
  /** Members committed. */
  readonly members: number
  /** Kernel transactions used: 1 unless the batch outgrew one datagram or the receive window. */
  readonly transactions: number
  /** For members sent with `echo`: the object the kernel sent back, by member index. */
  readonly echoes: ReadonlyMap<number, RawMessage>
}

const BEGIN_BYTES = 16 + NFGENMSG_LEN + 8
const END_BYTES = 16 + NFGENMSG_LEN
const ERESTART = 85

/** Reads the ruleset generation (NFT_MSG_GETGEN), as nft does before each change. */
export async function readGeneration(sock: NetlinkSocket, opts: CallOptions = {}): Promise<number> {
  const replies = await sock.request(
    {
      type: nftType(NFT_MSG_GETGEN),
      expectsReply: true,
      operation: 'nft list ruleset',
      object: 'generation',
      body: (w) => nfgen(w, 0),
    },
    opts,
  )
  const m = replies[0]
  const id = m && new Attrs(m.buf, m.start + NFGENMSG_LEN, m.end, 3).u32be(NFTA_GEN_ID)
  if (id === undefined) throw new NsnetError('the kernel sent no generation id', { code: 'EDECODE', operation: 'NFT_MSG_GETGEN', namespace: sock.namespace })
  return id
}

/**
 * Encodes every member first (a member that cannot be encoded fails before anything is
 * sent), then sends them as one transaction, or as consecutive ones when they outgrow one
 * datagram or the share of the receive buffer their answers may need.
 */
export async function commit(sock: NetlinkSocket, members: readonly Member[], opts: CommitOptions = {}): Promise<CommitResult> {
  const w = new Writer(Math.max(4096, members.length * 256))
  const starts: number[] = []
  members.forEach((m, index) => {
    starts.push(w.pos)
    try {
      const at = w.beginMessage(nftType(m.msg), NLM_F_REQUEST | NLM_F_ACK | m.flags | (m.echo ? NLM_F_ECHO : 0), 0)
      m.body(w)
      w.endMessage(at)
    } catch (e) {
      throw asNsnetError(e, { operation: m.operation, object: m.object, namespace: sock.namespace, index })
    }
  })
  starts.push(w.pos)
  const buf = w.view()
  const echoes = new Map<number, RawMessage>()
  let transactions = 0
  let genid = opts.genid
  for (let first = 0; first < members.length; ) {
    const last = cut(sock, members, starts, first)
    genid = await send(sock, members, buf, starts, first, last, genid, opts, echoes)
    transactions++
    first = last
  }
  return { members: members.length, transactions, echoes }
}

/** The end (exclusive) of the transaction that starts at member `first`. */
function cut(sock: NetlinkSocket, members: readonly Member[], starts: readonly number[], first: number): number {
  const maxBytes = sock.maxDatagramBytes - BEGIN_BYTES - END_BYTES
  const window = sock.windowBytes
  let i = first
  let echoBytes = 0
  while (i < members.length) {
    const bytes = starts[i + 1]! - starts[first]!
    if (members[i]!.echo) echoBytes += answerCost(1, 0) + (starts[i + 1]! - starts[i]!)
    if (i > first && (bytes > maxBytes || answerCost(i - first + 4, bytes + BEGIN_BYTES + END_BYTES) + echoBytes > window)) break
    i++
  }
  return i
}

async function send(
  sock: NetlinkSocket,
  members: readonly Member[],
  buf: Buffer,
  starts: readonly number[],
  first: number,
  last: number,
  givenGenid: number | undefined,
  opts: CommitOptions,
  echoes: Map<number, RawMessage>,
): Promise<number> {
  const retries = givenGenid === undefined ? (opts.retries ?? 3) : 0
  let genid = givenGenid
  for (let attempt = 0; ; attempt++) {
    genid ??= await readGeneration(sock, opts)
    const w = new Writer(starts[last]! - starts[first]! + BEGIN_BYTES + END_BYTES)
    const begin = w.beginMessage(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 0)
    nfgen(w, 0, NFNL_SUBSYS_NFTABLES)
    w.attrU32be(NFNL_BATCH_GENID, genid)
    w.endMessage(begin)
    w.bytes(buf.subarray(starts[first]!, starts[last]!))
    const end = w.beginMessage(NFNL_MSG_BATCH_END, NLM_F_REQUEST, 0)
    nfgen(w, 0, NFNL_SUBSYS_NFTABLES)
    w.endMessage(end)
    let seq0 = 0
    let echoBytes = 0
    for (let i = first; i < last; i++) if (members[i]!.echo) echoBytes += answerCost(1, 0) + starts[i + 1]! - starts[i]!
    const answers = await sock.exchange(w.toBuffer(), {
      ...opts,
      operation: 'nft -f',
      object: `batch of ${last - first}`,
      extraAnswerBytes: echoBytes,
      onSequence: (s) => {
        seq0 = s
      },
    })
    const outcome = judge(sock, members, first, last, seq0, answers, echoes)
    if (outcome === 'ok') return genidAfter(genid)
    if (outcome === 'restart' && attempt < retries) {
      genid = undefined
      continue
    }
    if (outcome === 'restart') {
      throw new NsnetError('the ruleset changed while the batch was computed (ERESTART)', {
        code: 'ERESTART',
        errno: ERESTART,
        operation: 'nft -f',
        namespace: sock.namespace,
        hint: givenGenid === undefined ? `another writer kept changing it; tried ${retries + 1} times` : 'list again and recompute the change',
      })
    }
    throw outcome
  }
}

/** The generation after one commit of ours (base_seq + 1, skipping 0). */
const genidAfter = (g: number): number => (g + 1) >>> 0 || 1

/** Reads the answers to one transaction: ok, a generation race, or the error to throw. */
function judge(
  sock: NetlinkSocket,
  members: readonly Member[],
  first: number,
  last: number,
  seq0: number,
  answers: readonly RawMessage[],
  echoes: Map<number, RawMessage>,
): 'ok' | 'restart' | NsnetError {
  const count = last - first
  const errnos: Array<number[] | undefined> = new Array(count)
  let batchErrno = 0
  for (const m of answers) {
    const k = m.seq - seq0
    if (m.type !== NLMSG_ERROR) {
      // With ECHO the kernel also sends NFT_MSG_NEWGEN, numbered like the first member.
      if (k >= 1 && k <= count && m.type !== nftType(NFT_MSG_NEWGEN) && !echoes.has(first + k - 1)) echoes.set(first + k - 1, m)
      continue
    }
    const { errno } = parseErrorMessage(m)
    if (k === 0 || k === count + 1) {
      if (errno) batchErrno = errno
      continue
    }
    if (k < 1 || k > count) continue
    ;(errnos[k - 1] ??= []).push(errno)
  }
  const ns = sock.namespace
  if (batchErrno === ERESTART) return 'restart'
  if (batchErrno) return kernelError(batchErrno, { operation: 'nft -f', object: 'batch', namespace: ns, hint: hintFor(batchErrno) })
  const failures: NsnetError[] = []
  // A commit-time failure is one more error against the first member, before its own ACK.
  const firstAnswers = errnos[0]
  if (firstAnswers && firstAnswers.length > 1 && firstAnswers[0] !== 0) {
    return kernelError(firstAnswers[0]!, {
      operation: 'nft -f',
      object: `commit of batch of ${count}`,
      namespace: ns,
      hint: 'the kernel refused the batch as a whole; nothing was applied',
    })
  }
  let unanswered = 0
  for (let k = 0; k < count; k++) {
    const a = errnos[k]
    if (!a) {
      unanswered++
      continue
    }
    const errno = a.find((e) => e !== 0)
    if (errno) {
      const m = members[first + k]!
      const earlier = first > 0 ? `; members 0..${first - 1} were committed by earlier transactions, this one and later ones were not` : ''
      failures.push(
        kernelError(errno, {
          operation: m.operation,
          object: m.object,
          namespace: ns,
          index: first + k,
          hint: `${hintFor(errno, m) ?? ''}${earlier}` || undefined,
        }),
      )
    }
  }
  if (failures.length) {
    return new BatchError(failures, members.length, { operation: 'nft -f', namespace: ns })
  }
  if (unanswered) {
    return new NsnetError(`${unanswered} of ${count} members got no answer: the kernel dropped the batch`, {
      code: 'EPROTO',
      operation: 'nft -f',
      namespace: ns,
    })
  }
  return 'ok'
}

function hintFor(errno: number, m?: Member): string | undefined {
  switch (errno) {
    case 2:
      return m?.msg === 6 ? 'no such table or chain, or a jump/goto to a chain that does not exist' : 'no such table, chain or rule'
    case 16:
      return 'it is in use (a chain that is jumped to, or a table that is not empty)'
    case 17:
      return 'it already exists'
    case 1:
      return 'needs CAP_NET_ADMIN in this network namespace'
    case 95:
      return 'the kernel lacks this chain type, hook or expression'
    default:
      return undefined
  }
}
