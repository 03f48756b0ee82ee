// The names ethtool(8) accepts and prints beside the kernel's feature names: its legacy
// names (`tx-checksumming`) and their short forms (`tx`), each standing for a pattern of
// kernel features, as ethtool's off_flag_def table defines them.

export interface LegacyFeature {
  readonly long: string
  readonly short: string
  /** Kernel feature names it covers: `*` matches any run of characters. */
  readonly pattern: RegExp
}

const def = (long: string, short: string, pattern: string): LegacyFeature =>
  Object.freeze({
    long,
    short,
    pattern: new RegExp(`^${pattern.replace(/[-]/g, '\\-').replace(/\*/g, '.*')}$`),
  })

export const LEGACY_FEATURES: readonly LegacyFeature[] = Object.freeze([
  def('rx-checksumming', 'rx', 'rx-checksum'),
  def('tx-checksumming', 'tx', 'tx-checksum-*'),
  def('scatter-gather', 'sg', 'tx-scatter-gather*'),
  def('tcp-segmentation-offload', 'tso', 'tx-tcp*-segmentation'),
  def('udp-fragmentation-offload', 'ufo', 'tx-udp-fragmentation'),
  def('generic-segmentation-offload', 'gso', 'tx-generic-segmentation'),
  def('generic-receive-offload', 'gro', 'rx-gro'),
  def('large-receive-offload', 'lro', 'rx-lro'),
  def('rx-vlan-offload', 'rxvlan', 'rx-vlan-hw-parse'),
  def('tx-vlan-offload', 'txvlan', 'tx-vlan-hw-insert'),
  def('ntuple-filters', 'ntuple', 'rx-ntuple-filter'),
  def('receive-hashing', 'rxhash', 'rx-hashing'),
])

/** The kernel features a name given to setFeatures() stands for (a legacy name, its short form, or itself). */
export function expandFeatureName(name: string, kernelNames: readonly string[]): string[] {
  const legacy = LEGACY_FEATURES.find((l) => l.long === name || l.short === name)
  if (legacy) return kernelNames.filter((k) => legacy.pattern.test(k))
  return kernelNames.includes(name) ? [name] : []
}
