// dummy: no kind data; a device that drops what it is sent.
import type { KindCodec } from './kind.js'

export const dummy: KindCodec = { kind: 'dummy', keys: [], dataMax: 0 }
