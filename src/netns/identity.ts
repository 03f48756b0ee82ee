// A namespace handle is bound to the namespace it opened, not to its name: once
// /run/netns/NAME is deleted or names another namespace, calls through the handle fail
// with ESTALE instead of answering about (or changing) a namespace nobody can name, or a
// new one that happens to share the name.
import { NsnetError } from '../netlink/errors.js'
import { netnsPath, noSuchNetns, nsKey } from './names.js'

export function staleNetns(name: string, operation: string, cause?: unknown): NsnetError {
  return new NsnetError(`namespace "${name}" is no longer the one this handle opened (deleted, or replaced by another of that name)`, {
    code: 'ESTALE',
    errno: 116,
    operation,
    object: `netns ${name}`,
    namespace: name,
    hint: 'open a new handle (netns.open)',
    cause,
  })
}

export class NamespaceIdentity {
  /** `dev:ino` of the namespace this handle opened. */
  readonly key: string
  private checked = false

  constructor(
    readonly name: string,
    operation: string,
  ) {
    const key = nsKey(netnsPath(name))
    if (key === undefined) throw noSuchNetns(name, operation)
    this.key = key
  }

  /**
   * Throws ESTALE unless /run/netns/NAME is still this namespace. One stat per turn of the
   * event loop covers a whole batch of calls; `force` (after an ENOENT-like answer) looks again.
   */
  check(operation: string, force = false, cause?: unknown): void {
    if (this.checked && !force) return
    if (nsKey(netnsPath(this.name)) !== this.key) throw staleNetns(this.name, operation, cause)
    if (!this.checked) {
      this.checked = true
      setImmediate(() => {
        this.checked = false
      }).unref()
    }
  }

  /** Throws ESTALE unless process `pid` (a helper just started) lives in this namespace. */
  checkProcess(pid: number | undefined, operation: string): void {
    if (pid === undefined || nsKey(`/proc/${pid}/ns/net`) !== this.key) throw staleNetns(this.name, operation)
  }
}
