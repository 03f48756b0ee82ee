// The tc golden cases: a `tc` command line and the nsnet spec that must encode to the same
// bytes. capture.ts records what iproute2 sends for each (vectors.json); test/ops/tc-golden.test.ts
// encodes the spec and compares. Options are given to tc in the order nsnet writes them.
//
// Every case runs in a fresh network namespace prepared by SETUP, so indexes are fixed:
// lo = 1, v1 = 2, v0 = 3 (a veth's peer registers first), ifb9 = 4. Kinds this kernel lacks
// (netem, fq_codel) are refused by the kernel, which the capture does not mind.

export const SETUP = [
  'ip link add v0 type veth peer name v1',
  'ip link add ifb9 type ifb',
  'tc qdisc add dev v1 root handle 5: htb default 1',
  'tc qdisc add dev v1 handle ffff: ingress',
]
export const INDEXES: Readonly<Record<string, number>> = { lo: 1, v1: 2, v0: 3, ifb9: 4 }

export interface TcGoldenCase {
  readonly name: string
  /** Arguments to `tc`. */
  readonly tc: readonly string[]
  readonly object: 'qdisc' | 'class' | 'filter'
  readonly op: 'add' | 'replace' | 'change' | 'delete'
  /** The nsnet spec (dev by name; INDEXES resolves it). */
  readonly spec: Record<string, unknown>
}

const q = (name: string, op: TcGoldenCase['op'], tc: string[], spec: Record<string, unknown>): TcGoldenCase =>
  ({ name, tc: ['qdisc', op === 'delete' ? 'del' : op, ...tc], object: 'qdisc', op, spec })
const c = (name: string, op: TcGoldenCase['op'], tc: string[], spec: Record<string, unknown>): TcGoldenCase =>
  ({ name, tc: ['class', op === 'delete' ? 'del' : op, ...tc], object: 'class', op, spec })
const f = (name: string, op: TcGoldenCase['op'], tc: string[], spec: Record<string, unknown>): TcGoldenCase =>
  ({ name, tc: ['filter', op === 'delete' ? 'del' : op, ...tc], object: 'filter', op, spec })

export const CASES: readonly TcGoldenCase[] = [
  // ---- tbf ----
  q('tbf-latency', 'add', ['dev', 'v0', 'root', 'tbf', 'rate', '10mbit', 'burst', '32kbit', 'latency', '400ms'],
    { dev: 'v0', kind: 'tbf', options: { rate: '10mbit', burst: '32kbit', latency: '400ms' } }),
  q('tbf-numbers', 'add', ['dev', 'v0', 'root', 'handle', '5:', 'tbf', 'rate', '1000000', 'burst', '15000', 'limit', '30000'],
    { dev: 'v0', kind: 'tbf', handle: '5:', options: { rate: 1_000_000, burst: 15000, limit: 30000 } }),
  q('tbf-peakrate', 'add', ['dev', 'v0', 'root', 'tbf', 'rate', '1mbit', 'burst', '10kb', 'limit', '30000', 'peakrate', '2mbit', 'mtu', '1600'],
    { dev: 'v0', kind: 'tbf', options: { rate: '1mbit', burst: '10kb', limit: 30000, peakrate: '2mbit', mtu: 1600 } }),
  q('tbf-rate64', 'add', ['dev', 'v0', 'root', 'tbf', 'rate', '40gbit', 'burst', '1mb', 'latency', '10ms'],
    { dev: 'v0', kind: 'tbf', options: { rate: '40gbit', burst: '1mb', latency: '10ms' } }),
  q('tbf-replace', 'replace', ['dev', 'v0', 'parent', '5:1', 'handle', '10:', 'tbf', 'rate', '50mbit', 'burst', '64kb', 'latency', '50ms'],
    { dev: 'v0', kind: 'tbf', parent: '5:1', handle: '10:', options: { rate: '50mbit', burst: '64kb', latency: '50ms' } }),
  q('tbf-change', 'change', ['dev', 'v0', 'root', 'tbf', 'rate', '2mbit', 'burst', '4000', 'latency', '20ms'],
    { dev: 'v0', kind: 'tbf', root: true, options: { rate: '2mbit', burst: 4000, latency: '20ms' } }),
  // ---- htb, ingress, clsact, fifo ----
  q('htb', 'add', ['dev', 'v0', 'root', 'handle', '5:', 'htb', 'default', '1'],
    { dev: 'v0', kind: 'htb', handle: '5:', options: { default: 1 } }),
  q('htb-r2q', 'add', ['dev', 'v0', 'root', 'handle', '1:0', 'htb', 'r2q', '20', 'default', '10', 'direct_qlen', '500'],
    { dev: 'v0', kind: 'htb', handle: '1:0', options: { r2q: 20, default: '10', direct_qlen: 500 } }),
  q('ingress', 'add', ['dev', 'v0', 'handle', 'ffff:', 'ingress'], { dev: 'v0', kind: 'ingress', handle: 'ffff:' }),
  q('clsact', 'add', ['dev', 'v0', 'clsact'], { dev: 'v0', kind: 'clsact' }),
  q('pfifo', 'add', ['dev', 'v0', 'root', 'handle', '2:', 'pfifo', 'limit', '100'], { dev: 'v0', kind: 'pfifo', handle: '2:', options: { limit: 100 } }),
  q('bfifo', 'add', ['dev', 'v0', 'parent', '5:1', 'bfifo', 'limit', '10kb'], { dev: 'v0', kind: 'bfifo', parent: '5:1', options: { limit: '10kb' } }),
  q('pfifo-default', 'add', ['dev', 'v0', 'root', 'pfifo'], { dev: 'v0', kind: 'pfifo' }),
  // ---- netem, fq_codel (not in this kernel) ----
  q('netem-delay', 'add', ['dev', 'v0', 'root', 'netem', 'delay', '100ms'], { dev: 'v0', kind: 'netem', options: { delay: '100ms' } }),
  q('netem-full', 'add', ['dev', 'v0', 'root', 'handle', '10:', 'netem', 'limit', '500', 'delay', '10ms', '2ms', '25%', 'loss', '1%', '30%',
    'duplicate', '2%', 'reorder', '3%', '50%', 'rate', '1mbit'],
    { dev: 'v0', kind: 'netem', handle: '10:', options: { limit: 500, delay: '10ms', jitter: '2ms', correlation: '25%', loss: '1%', loss_correlation: 30, duplicate: 2, reorder: '3%', reorder_correlation: '50%', rate: '1mbit' } }),
  q('netem-loss', 'replace', ['dev', 'v0', 'parent', '5:1', 'netem', 'loss', '10%'], { dev: 'v0', kind: 'netem', parent: '5:1', options: { loss: 10 } }),
  q('fq_codel', 'add', ['dev', 'v0', 'root', 'fq_codel', 'limit', '1000', 'flows', '512', 'quantum', '1514', 'target', '5ms', 'interval', '100ms', 'ecn'],
    { dev: 'v0', kind: 'fq_codel', options: { limit: 1000, flows: 512, quantum: 1514, target: '5ms', interval: '100ms', ecn: true } }),
  q('fq_codel-default', 'add', ['dev', 'v0', 'root', 'fq_codel'], { dev: 'v0', kind: 'fq_codel' }),
  // ---- deletes ----
  q('del-root', 'delete', ['dev', 'v0', 'root'], { dev: 'v0', parent: 'root' }),
  q('del-ingress', 'delete', ['dev', 'v0', 'handle', 'ffff:', 'ingress'], { dev: 'v0', kind: 'ingress' }),
  q('del-handle', 'delete', ['dev', 'v0', 'parent', '5:1', 'handle', '10:'], { dev: 'v0', parent: '5:1', handle: '10:' }),
  // ---- htb classes ----
  c('htb-class', 'add', ['dev', 'v1', 'parent', '5:', 'classid', '5:1', 'htb', 'rate', '10mbit', 'burst', '15k'],
    { dev: 'v1', kind: 'htb', parent: '5:', classid: '5:1', options: { rate: '10mbit', burst: '15k' } }),
  c('htb-class-full', 'add', ['dev', 'v1', 'parent', '5:', 'classid', '5:2', 'htb', 'rate', '10mbit', 'ceil', '20mbit', 'burst', '15k',
    'cburst', '3000', 'prio', '2', 'quantum', '1500'],
    { dev: 'v1', kind: 'htb', parent: '5:', classid: '5:2', options: { rate: '10mbit', ceil: '20mbit', burst: '15k', cburst: 3000, prio: 2, quantum: 1500 } }),
  c('htb-class-rate64', 'replace', ['dev', 'v1', 'parent', '5:', 'classid', '5:3', 'htb', 'rate', '50gbit', 'quantum', '200000'],
    { dev: 'v1', kind: 'htb', parent: '5:', handle: '5:3', options: { rate: '50gbit', quantum: 200000 } }),
  c('htb-class-child', 'add', ['dev', 'v1', 'parent', '5:1', 'classid', '5:10', 'htb', 'rate', '2mbit', 'ceil', '10mbit'],
    { dev: 'v1', kind: 'htb', parent: '5:1', classid: '5:10', options: { rate: 2_000_000, ceil: '10mbit' } }),
  c('htb-class-change', 'change', ['dev', 'v1', 'parent', '5:', 'classid', '5:1', 'htb', 'rate', '5mbit'],
    { dev: 'v1', kind: 'htb', parent: '5:', classid: '5:1', options: { rate: '5mbit' } }),
  c('class-del', 'delete', ['dev', 'v1', 'classid', '5:1'], { dev: 'v1', classid: '5:1' }),
  // ---- u32 filters ----
  f('u32-mirred', 'add', ['dev', 'v1', 'parent', 'ffff:', 'protocol', 'all', 'prio', '1', 'u32', 'match', 'u32', '0', '0',
    'action', 'mirred', 'egress', 'redirect', 'dev', 'ifb9'],
    { dev: 'v1', parent: 'ffff:', protocol: 'all', pref: 1, kind: 'u32', options: { actions: [{ kind: 'mirred', to_dev: 'ifb9' }] } }),
  f('u32-classid', 'add', ['dev', 'v1', 'parent', '5:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', 'src', '10.0.0.0/24',
    'match', 'ip', 'dport', '80', '0xffff', 'classid', '5:1'],
    { dev: 'v1', parent: '5:', protocol: 'ip', pref: 1, kind: 'u32', options: { ip: { src: '10.0.0.0/24', dport: 80 }, classid: '5:1' } }),
  f('u32-dst-proto-sport', 'add', ['dev', 'v1', 'parent', '5:', 'protocol', 'ip', 'prio', '2', 'u32', 'match', 'ip', 'dst', '10.1.2.3/32',
    'match', 'ip', 'protocol', '17', '0xff', 'match', 'ip', 'sport', '53', '0xffff', 'match', 'ip', 'dport', '5353', '0xffff', 'flowid', '5:2'],
    { dev: 'v1', parent: '5:', protocol: 'ip', pref: 2, kind: 'u32', options: { ip: { dst: '10.1.2.3', protocol: 'udp', sport: 53, dport: 5353 }, flowid: '5:2' } }),
  f('u32-classid-mirror', 'add', ['dev', 'v1', 'parent', '5:', 'protocol', 'ip', 'prio', '3', 'u32', 'match', 'ip', 'src', '192.168.0.0/16',
    'classid', '5:1', 'action', 'mirred', 'ingress', 'mirror', 'dev', 'ifb9'],
    { dev: 'v1', parent: '5:', protocol: 'ip', pref: 3, kind: 'u32', options: { ip: { src: '192.168.0.0/16' }, classid: '5:1', actions: [{ kind: 'mirred', direction: 'ingress', mirred_action: 'mirror', to_dev: 'ifb9' }] } }),
  f('u32-replace-handle', 'replace', ['dev', 'v1', 'parent', '5:', 'protocol', 'ip', 'prio', '1', 'handle', '800::800', 'u32', 'match', 'ip', 'dst', '10.9.0.0/16', 'classid', '5:2'],
    { dev: 'v1', parent: '5:', protocol: 'ip', pref: 1, handle: '800::800', kind: 'u32', options: { ip: { dst: '10.9.0.0/16' }, classid: '5:2' } }),
  f('filter-del-prio', 'delete', ['dev', 'v1', 'parent', '5:', 'prio', '1'], { dev: 'v1', parent: '5:', pref: 1 }),
  f('filter-del-handle', 'delete', ['dev', 'v1', 'parent', '5:', 'protocol', 'ip', 'prio', '1', 'handle', '800::800', 'u32'],
    { dev: 'v1', parent: '5:', protocol: 'ip', pref: 1, handle: '800::800', kind: 'u32' }),
]
