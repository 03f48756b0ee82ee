// File access as the helper does it from inside a namespace: /proc/net/*, /proc/sys/net/*
// and /sys/class/net/* show that namespace's view. Errors keep the errno name as code.
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { codeOf, invalidArgument, NsnetError } from '../netlink/errors.js'

function fsError(e: unknown, operation: string, path: string, namespace: string | undefined): NsnetError {
  const err = e as NodeJS.ErrnoException
  return new NsnetError(err.code === 'ENOENT' ? `no such file ${path}` : `${path}: ${err.code ?? err.message}`, {
    code: codeOf(err),
    errno: err.errno === undefined ? undefined : Math.abs(err.errno),
    operation,
    object: `file ${path}`,
    namespace,
  })
}

function checkPath(path: unknown, operation: string, namespace: string | undefined): string {
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0')) {
    throw invalidArgument(`path must be an absolute path, got ${JSON.stringify(path)}`, { operation, namespace })
  }
  return path
}

/** The whole file as UTF-8 text, as `cat PATH` inside the namespace. */
export async function readText(path: string, namespace: string | undefined, operation = 'files.read'): Promise<string> {
  checkPath(path, operation, namespace)
  try {
    return await readFile(path, 'utf8')
  } catch (e) {
    throw fsError(e, operation, path, namespace)
  }
}

/** Writes text with one write(2), which is what /proc and /sys expect, as `echo DATA > PATH`. */
export async function writeText(path: string, data: string, namespace: string | undefined, operation = 'files.write'): Promise<void> {
  checkPath(path, operation, namespace)
  if (typeof data !== 'string') throw invalidArgument('data must be a string', { operation, object: `file ${path}`, namespace })
  try {
    await writeFile(path, data)
  } catch (e) {
    throw fsError(e, operation, path, namespace)
  }
}

/** Names in a directory, as `ls PATH` inside the namespace. */
export async function listDir(path: string, namespace: string | undefined, operation = 'files.list'): Promise<string[]> {
  checkPath(path, operation, namespace)
  try {
    return (await readdir(path)).sort()
  } catch (e) {
    throw fsError(e, operation, path, namespace)
  }
}
