// Entry point of the namespace helper, started by the client as
//   ip netns exec NAME node dist/helper.js NAME
// It is the same library, living inside NAME, answering JSON lines on stdin/stdout.
// It exits as soon as stdin closes: that is how it learns its parent is gone.
import { HelperServer } from './server.js'

const namespace = process.argv[2] ?? 'unknown'

const server = new HelperServer({
  namespace,
  // Loaded on first use, so the helper is ready before the netlink binding is.
  openRtnl: async () => (await import('../../rtnl.js')).Rtnl.open({ namespace }),
  write: (text) => {
    process.stdout.write(text)
  },
})

const quit = (): void => process.exit(0)
process.stdin.setEncoding('utf8')
process.stdin.on('data', (text: string) => server.push(text))
process.stdin.on('end', quit)
process.stdin.on('close', quit)
process.stdin.on('error', quit)
process.stdout.on('error', quit)
server.ready()
