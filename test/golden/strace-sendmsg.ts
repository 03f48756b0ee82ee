// The datagrams a program wrote to netlink fd 3, from `strace -f -e trace=sendmsg -e write=3 -xx`
// output (the capture scripts of test/golden/links and test/golden/tc read it).
export function sendmsgBuffers(text: string): Buffer[] {
  const messages: Buffer[] = []
  let current: number[] | undefined
  for (const line of text.split('\n')) {
    const body = line.replace(/^\d+ +/, '') // strace -f prefixes the pid
    if (body.startsWith('sendmsg(')) {
      if (current) messages.push(Buffer.from(current))
      current = []
    } else if (current && body.startsWith(' | ')) {
      // " | 00000  3c 00 00 00 ...  ...ascii |": hex sits in a fixed column range.
      for (const tok of body.slice(10, 59).trim().split(/\s+/)) if (/^[0-9a-f]{2}$/.test(tok)) current.push(parseInt(tok, 16))
    }
  }
  if (current) messages.push(Buffer.from(current))
  return messages
}
