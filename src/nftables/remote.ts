// rt.nft through the namespace helper: the operations it forwards (`nft.rules.add` ...),
// the server's dispatch, and the handle's forwarding object. One list serves both sides.
import { invalidArgument } from '../netlink/errors.js'
import type { Nft } from './nft.js'

/** Every nft operation the helper runs: `part.method` or a method of rt.nft itself. */
export const NFT_OPS = [
  'tables.add', 'tables.delete', 'tables.list',
  'chains.add', 'chains.delete', 'chains.list',
  'rules.add', 'rules.insert', 'rules.replace', 'rules.delete', 'rules.list', 'rules.addMany',
  'flush', 'ruleset', 'load', 'generation',
  'masquerade', 'snat', 'dnat', 'forwardPolicy', 'allowForward', 'flushForward', 'dropRandom',
] as const

/** Runs `nft.OP` (as the helper received it) on `nft`. */
export function callNft(nft: Nft, op: string, args: unknown[]): Promise<unknown> {
  const name = op.slice('nft.'.length)
  if (!(NFT_OPS as readonly string[]).includes(name)) throw invalidArgument(`unknown operation "${op}"`, { operation: op })
  const dot = name.indexOf('.')
  const target = (dot < 0 ? nft : nft[name.slice(0, dot) as 'tables']) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>
  const method = dot < 0 ? name : name.slice(dot + 1)
  return target[method]!(...args)
}

/** An object with rt.nft's shape whose every method sends `nft.OP` through `call`. */
export function remoteNft<T>(call: (op: string, args: unknown[]) => Promise<unknown>): T {
  const root: Record<string, unknown> = {}
  for (const name of NFT_OPS) {
    const dot = name.indexOf('.')
    const fn = (...a: unknown[]) => call(`nft.${name}`, a)
    if (dot < 0) root[name] = fn
    else ((root[name.slice(0, dot)] ??= {}) as Record<string, unknown>)[name.slice(dot + 1)] = fn
  }
  for (const v of Object.values(root)) if (typeof v === 'object') Object.freeze(v)
  return Object.freeze(root) as T
}
