// OVSDB sends JSON-RPC messages back to back with no delimiter (`{...}{...}`), so the
// reader finds where each top-level value ends by tracking nesting depth and strings.
// It scans bytes: the structural characters are ASCII and never occur inside a UTF-8
// multibyte sequence, so a chunk may end anywhere, even inside a character.

const OPEN_BRACE = 0x7b,
  CLOSE_BRACE = 0x7d,
  OPEN_BRACKET = 0x5b,
  CLOSE_BRACKET = 0x5d
const QUOTE = 0x22,
  BACKSLASH = 0x5c

/** Thrown for bytes that cannot start or continue a JSON-RPC message. */
export class JsonStreamError extends Error {}

/**
 * Splits a byte stream into top-level JSON values and calls `onValue` with each parsed one.
 * Whitespace between values is skipped; anything else outside an object or array is an error
 * (RFC 7047 messages are always objects).
 */
export class JsonStreamReader {
  private parts: Buffer[] = []
  /** Bytes of the current value already scanned in earlier chunks. */
  private partBytes = 0
  private depth = 0
  private inString = false
  private escaped = false
  /** Upper bound on one message, so a peer that never closes a brace cannot eat all memory. */
  private readonly maxBytes: number

  constructor(
    private readonly onValue: (value: unknown) => void,
    opts: { maxBytes?: number } = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 256 * 1024 * 1024
  }

  /** Feeds one chunk; calls onValue for every value it completes. Throws JsonStreamError on garbage. */
  push(chunk: Buffer): void {
    let start = this.depth > 0 ? 0 : -1
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!
      if (this.depth === 0) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue
        if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
          throw new JsonStreamError(`unexpected byte 0x${c.toString(16)} between JSON-RPC messages`)
        }
        start = i
        this.depth = 1
        continue
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false
        else if (c === BACKSLASH) this.escaped = true
        else if (c === QUOTE) this.inString = false
        continue
      }
      if (c === QUOTE) this.inString = true
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--this.depth === 0) {
          this.emit(chunk.subarray(start, i + 1))
          start = -1
        }
      }
    }
    if (this.depth > 0 && start >= 0) {
      const rest = chunk.subarray(start)
      this.partBytes += rest.length
      if (this.partBytes > this.maxBytes) throw new JsonStreamError(`a JSON-RPC message exceeds ${this.maxBytes} bytes`)
      // Copy: the socket may reuse its buffer.
      this.parts.push(Buffer.from(rest))
    }
  }

  /** Whether a value was started but not finished (a connection that ends now was cut mid-message). */
  get midValue(): boolean {
    return this.depth > 0
  }

  private emit(last: Buffer): void {
    const bytes = this.parts.length ? Buffer.concat([...this.parts, last]) : last
    this.parts = []
    this.partBytes = 0
    let value: unknown
    try {
      value = JSON.parse(bytes.toString('utf8'))
    } catch (e) {
      throw new JsonStreamError(`invalid JSON from the peer: ${(e as Error).message}`)
    }
    this.onValue(value)
  }
}
