// A JSON Schema of the topology spec (`nsnet schema`), for editors: point a spec's "$schema"
// or the editor's settings at its output. test/cli/schema.test.ts keeps it equal to
// src/topology/validate/ (the same fields, the same required ones, accepted by validate()).
// The validator stays the authority: it also checks what a schema cannot say (names that
// exist, gateways on a shared subnet, pools that run dry).

const str = { type: 'string' } as const
const strings = { type: 'array', items: str } as const
const mtu = { type: 'integer', minimum: 68, maximum: 65535 } as const
const address = {
  description: 'an address with its prefix length (10.0.0.1/24), or the next free one of a pool',
  oneOf: [str, { type: 'object', additionalProperties: false, required: ['pool'], properties: { pool: str } }],
} as const
const addresses = { type: 'array', items: address } as const

/** `{ properties, required }` as an object that refuses unknown fields, as validate() does. */
function object(properties: Record<string, unknown>, required: readonly string[] = [], description?: string) {
  return { type: 'object', ...(description ? { description } : {}), additionalProperties: false, required: [...required], properties }
}

const quantity = { type: ['number', 'string'] } as const
/** Egress shaping (src/topology/shaping.ts): numbers in bits/s, bytes, µs or percent, or tc's text. */
const shaping = {
  rate: { ...quantity, description: "bits/s or tc text ('10mbit')" },
  burst: { ...quantity, description: 'bytes or tc text' },
  limit: { ...quantity, description: 'queue bytes or tc text' },
  delay: { ...quantity, description: "µs or tc text ('20ms'); needs netem" },
  jitter: { ...quantity, description: 'µs or tc text; needs netem' },
  loss: { ...quantity, description: 'percent; netem, or an nf_tables numgen drop rule where the kernel has no netem' },
} as const
/** Shaping of what arrives at an end: an ifb with a tbf, the end's ingress redirected to it. */
const ingress = object(
  { rate: shaping.rate, burst: shaping.burst, limit: shaping.limit },
  ['rate'],
  'shaping of what arrives at this end (ifb + mirred redirect)',
)
const vlans = object(
  {
    pvid: { type: 'integer', minimum: 1, maximum: 4094 },
    untagged: { type: 'boolean' },
    tagged: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 4094 } },
  },
  [],
  "the port's VLANs (a bridge with vlanFiltering, or an OVS switch)",
)

const end = {
  description: 'a node name, or the end in detail',
  oneOf: [str, object({ node: str, ifname: str, addresses, mac: str, vlans, ingress, ...shaping }, ['node'])],
}

const host = object(
  {
    name: { ...str, description: 'node name; the namespace is prefix + name; "host" is the current namespace' },
    lo: { type: 'boolean', description: 'bring lo up (default true)' },
    forwarding: { type: 'boolean', description: 'net.ipv4.ip_forward=1 and net.ipv6.conf.all.forwarding=1' },
    sysctls: { type: 'object', description: 'net.* keys only', additionalProperties: { type: ['string', 'number', 'boolean'] } },
    gateway: { ...str, description: 'an address, or a node whose address on a shared subnet is the gateway' },
    routes: {
      type: 'array',
      items: object(
        {
          dst: { ...str, description: 'a CIDR, an address, or "default"' },
          via: str,
          dev: str,
          scope: { enum: ['global', 'link', 'host'] },
          src: str,
          metric: { type: 'integer', minimum: 0, maximum: 0xffffffff },
          table: { oneOf: [{ const: 'main' }, { type: 'integer', minimum: 1, maximum: 0xffffffff }] },
        },
        ['dst'],
      ),
    },
    nat: { type: 'array', items: object({ masquerade: str, out: str, backend: { enum: ['auto', 'nsnet', 'nft', 'iptables'] } }, ['masquerade', 'out']) },
    dns: object({ nameservers: strings, search: strings }, ['nameservers'], 'written to /etc/netns/NAME/resolv.conf'),
    processes: {
      type: 'array',
      items: object(
        {
          name: str,
          command: { ...strings, minItems: 1, description: 'argv, run inside the namespace' },
          env: { type: 'object', additionalProperties: str },
          readyTcpPort: { type: 'integer', minimum: 1, maximum: 65535 },
          readyText: str,
        },
        ['name', 'command'],
      ),
    },
  },
  ['name'],
)

/** The JSON Schema (draft 2020-12) of a TopologySpec. */
export const specSchema = Object.freeze({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'nsnet topology spec',
  ...object({
    name: { ...str, description: 'a label for drawings and the run marker' },
    prefix: { ...str, description: 'prepended to every namespace name' },
    pools: { type: 'array', items: object({ name: str, subnet: str }, ['name', 'subnet']) },
    hosts: { type: 'array', items: host },
    bridges: {
      type: 'array',
      items: object(
        {
          name: str,
          in: str,
          addresses,
          mtu,
          kind: { enum: ['linux', 'ovs'], description: 'ovs: an Open vSwitch bridge' },
          vlanFiltering: { type: 'boolean', description: 'vlan_filtering 1 (a Linux bridge); its ports take vlans' },
        },
        ['name'],
      ),
    },
    switches: {
      type: 'array',
      items: object({ name: str, kind: { const: 'ovs' }, in: str, addresses, mtu, datapathType: { const: 'netdev' } }, ['name'], 'an Open vSwitch bridge'),
    },
    links: { type: 'array', items: object({ a: end, b: end, mtu, ...shaping }, ['a', 'b'], 'a veth pair') },
  }),
})
