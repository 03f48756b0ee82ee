import { constants } from 'node:os'
import { describe, expect, it } from 'vitest'
import { BatchError, errnoName, errorFromJSON, invalidArgument, isNsnetError, kernelError, NsnetError } from '../../src/netlink/errors.js'

describe('errnoName', () => {
  it('names the errnos rtnetlink returns as the kernel headers do', () => {
    expect(errnoName(17)).toBe('EEXIST')
    expect(errnoName(19)).toBe('ENODEV')
    expect(errnoName(22)).toBe('EINVAL')
    expect(errnoName(101)).toBe('ENETUNREACH')
    expect(errnoName(105)).toBe('ENOBUFS')
    expect(errnoName(16)).toBe('EBUSY')
    expect(errnoName(2)).toBe('ENOENT')
    expect(errnoName(3)).toBe('ESRCH')
    expect(errnoName(99)).toBe('EADDRNOTAVAIL')
    // 95 has two names on Linux; the kernel (and `ip`) call it EOPNOTSUPP.
    expect(errnoName(95)).toBe('EOPNOTSUPP')
    expect(errnoName(11)).toBe('EAGAIN')
  })

  it('every errno Node knows maps back to a name with that number', () => {
    for (const [, n] of Object.entries(constants.errno)) {
      expect((constants.errno as Record<string, number>)[errnoName(n)]).toBe(n)
    }
  })

  it('unknown numbers get E<number>', () => {
    expect(errnoName(4242)).toBe('E4242')
  })
})

describe('kernelError', () => {
  it('carries the errno name as code, the number, the context and a hint', () => {
    const e = kernelError(17, { operation: 'RTM_NEWROUTE', object: 'route 10.0.2.0/24 dev veth1', namespace: 'mario' })
    expect(e).toBeInstanceOf(NsnetError)
    expect(e).toBeInstanceOf(Error)
    expect(e.name).toBe('NsnetError')
    expect(e.code).toBe('EEXIST')
    expect(e.errno).toBe(17)
    expect(e.operation).toBe('RTM_NEWROUTE')
    expect(e.object).toBe('route 10.0.2.0/24 dev veth1')
    expect(e.namespace).toBe('mario')
    expect(e.summary).toBe('EEXIST (File exists)')
    expect(e.hint).toMatch(/replace\(\)/)
    expect(e.message).toBe(`RTM_NEWROUTE route 10.0.2.0/24 dev veth1 in netns mario: EEXIST (File exists) (hint: ${e.hint})`)
    expect(e.index).toBeUndefined()
  })

  it('chooses a hint by operation, falls back to the generic one, or gives none', () => {
    expect(kernelError(95, { operation: 'RTM_NEWLINK' }).hint).toMatch(/link kind/)
    expect(kernelError(95, { operation: 'RTM_NEWROUTE' }).hint).toBeUndefined()
    expect(kernelError(99, { operation: 'RTM_DELADDR' }).hint).toMatch(/no such address/)
    expect(kernelError(99, { operation: 'RTM_NEWROUTE' }).hint).toBe('address not available')
    expect(kernelError(22, {}).hint).toBeUndefined()
    expect(kernelError(17, { hint: 'mine' }).hint).toBe('mine')
    expect(kernelError(1, {}).hint).toMatch(/CAP_NET_ADMIN/)
  })

  it('an errno without a known text still reads well; the batch index shows', () => {
    const e = kernelError(4242, { operation: 'RTM_NEWLINK', index: 7 })
    expect(e.code).toBe('E4242')
    expect(e.index).toBe(7)
    expect(e.message).toBe('RTM_NEWLINK (batch item 7): E4242 (errno 4242)')
  })
})

describe('NsnetError', () => {
  it('a bare error has just the summary as message', () => {
    const e = new NsnetError('socket closed', { code: 'ECLOSED' })
    expect(e.message).toBe('socket closed')
    expect(e.code).toBe('ECLOSED')
    expect(e.stack).toContain('socket closed')
  })

  it('invalidArgument is EINVAL_ARGUMENT with its context and hint', () => {
    const e = invalidArgument('prefix length 33 is out of range', {
      operation: 'addresses.add',
      object: '10.0.0.1/33',
      namespace: 'luigi',
      hint: 'IPv4 prefixes are 0..32',
    })
    expect(e.code).toBe('EINVAL_ARGUMENT')
    expect(e.errno).toBeUndefined()
    expect(e.message).toBe('addresses.add 10.0.0.1/33 in netns luigi: prefix length 33 is out of range (hint: IPv4 prefixes are 0..32)')
  })

  it('withContext fills only what is missing and keeps the cause', () => {
    const cause = new RangeError('inner')
    const e = new NsnetError('bad bytes', { code: 'EDECODE', object: 'route x', cause })
    const f = e.withContext({ operation: 'routes.list', object: 'other', namespace: 'ns1', index: 3 })
    expect(f).not.toBe(e)
    expect(f).toBeInstanceOf(NsnetError)
    expect([f.code, f.operation, f.object, f.namespace, f.index, f.summary]).toEqual(['EDECODE', 'routes.list', 'route x', 'ns1', 3, 'bad bytes'])
    expect(f.cause).toBe(cause)
    expect(f.message).toBe('routes.list route x in netns ns1 (batch item 3): bad bytes')
    // The original is untouched.
    expect(e.operation).toBeUndefined()
    const g = f.withContext({ operation: 'x', namespace: 'y', index: 9 })
    expect([g.operation, g.namespace, g.index]).toEqual(['routes.list', 'ns1', 3])
  })

  it('isNsnetError checks the type and optionally the code', () => {
    const e = kernelError(19, {})
    expect(isNsnetError(e)).toBe(true)
    expect(isNsnetError(e, 'ENODEV')).toBe(true)
    expect(isNsnetError(e, 'EEXIST')).toBe(false)
    expect(isNsnetError(new Error('x'))).toBe(false)
    expect(isNsnetError({ code: 'ENODEV' })).toBe(false)
    expect(isNsnetError(undefined)).toBe(false)
  })

  it('survives a JSON round trip with every field and the same message', () => {
    const e = kernelError(19, { operation: 'RTM_GETLINK', object: 'link veth9', namespace: 'mario', index: 2 })
    const wire = JSON.parse(JSON.stringify(e))
    expect(wire).toEqual({
      name: 'NsnetError',
      message: e.message,
      summary: e.summary,
      code: 'ENODEV',
      errno: 19,
      operation: 'RTM_GETLINK',
      object: 'link veth9',
      namespace: 'mario',
      hint: e.hint,
      index: 2,
    })
    const back = errorFromJSON(wire)
    expect(back).toBeInstanceOf(NsnetError)
    expect(back.toJSON()).toEqual(e.toJSON())
    expect(back.message).toBe(e.message)
  })
})

describe('BatchError', () => {
  const failures = [
    kernelError(17, { operation: 'RTM_NEWROUTE', object: 'route 10.1.0.0/16', index: 4 }),
    kernelError(19, { operation: 'RTM_NEWROUTE', object: 'route 10.2.0.0/16', index: 9 }),
  ]

  it("summarises its failures and takes the first one's code", () => {
    const b = new BatchError(failures, 12, { operation: 'batch', namespace: 'ns1' })
    expect(b).toBeInstanceOf(NsnetError)
    expect(b.name).toBe('BatchError')
    expect(b.code).toBe('EEXIST')
    expect(b.errno).toBe(17)
    expect(b.sent).toBe(12)
    expect(b.failures.map((f) => f.index)).toEqual([4, 9])
    expect(b.message).toBe('batch in netns ns1: 2 of 12 batched requests failed; first: item 4: EEXIST (File exists)' + ` (hint: ${failures[0]!.hint})`)
  })

  it('keeps its failures across JSON and withContext', () => {
    const b = new BatchError(failures, 12, { operation: 'batch' })
    const back = errorFromJSON(JSON.parse(JSON.stringify(b)))
    expect(back).toBeInstanceOf(BatchError)
    const bb = back as BatchError
    expect(bb.sent).toBe(12)
    expect(bb.failures.map((f) => [f.index, f.code, f.object])).toEqual([
      [4, 'EEXIST', 'route 10.1.0.0/16'],
      [9, 'ENODEV', 'route 10.2.0.0/16'],
    ])
    expect(bb.message).toBe(b.message)
    const c = b.withContext({ namespace: 'luigi' })
    expect(c).toBeInstanceOf(BatchError)
    expect((c as BatchError).failures.map((f) => [f.index, f.namespace])).toEqual([
      [4, 'luigi'],
      [9, 'luigi'],
    ])
    expect(c.namespace).toBe('luigi')
  })
})
