// The namespace handles this process has open, so netns.delete() can close its own
// helpers first instead of finding them as "processes still inside".
export interface Closable {
  close(): Promise<void>
}

const open = new Map<string, Set<Closable>>()

export function register(name: string, h: Closable): void {
  let set = open.get(name)
  if (!set) open.set(name, (set = new Set()))
  set.add(h)
}

export function unregister(name: string, h: Closable): void {
  const set = open.get(name)
  if (set?.delete(h) && set.size === 0) open.delete(name)
}

/** Closes (and waits for) every handle this process has open on `name`. */
export async function closeHandlesOf(name: string): Promise<void> {
  const set = open.get(name)
  if (set) await Promise.all([...set].map((h) => h.close()))
}
