// What the Node test scripts of this folder share: one printed line per check with the exit
// code set on a failure (all of them), and for the scripts that run their own broker
// (admin_apis.mjs, kip848_consumers.mjs, mixed_protocol_group.mjs) waiting for a condition, a
// free loopback port, starting the samsa binary and stopping it. Plain functions on the script's
// one event loop; a started broker is the caller's child process until stopBroker ends it.
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { createServer } from 'node:net'

// Prints `ok  what` or `FAIL what: detail`; a failure makes the script exit non-zero at the end.
export function check (what, ok, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ': ' + detail : ''}`)
  if (!ok) process.exitCode = 1
  return ok
}

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

// Polls `condition` every 100 ms; a timeout is a failed check named `what`.
export async function waitFor (what, condition, timeoutMs = 30000) {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (condition()) return true
    await sleep(100)
  }
  return check(what, false, 'timed out')
}

export async function freePort () {
  const server = createServer()
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise(resolve => server.close(resolve))
  return port
}

// Starts the broker `samsa` over WORK/data on 127.0.0.1:`port` with the extra `--override`
// settings in `overrides`, appending its output to WORK/broker.log; resolves once it listens.
// The child's `closed` promise resolves with its exit code (or signal) once it has exited and
// all its output is in the log.
export function startBroker ({ samsa, work, port, overrides = [] }) {
  const log = createWriteStream(`${work}/broker.log`, { flags: 'a' })
  const args = ['--override', `listeners=PLAINTEXT://127.0.0.1:${port}`, '--override', `log.dir=${work}/data`]
  for (const o of overrides) args.push('--override', o)
  const child = spawn(samsa, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  child.closed = new Promise(resolve => child.on('close', (code, signal) => log.end(() => resolve(code ?? signal))))
  return new Promise((resolve, reject) => {
    let out = ''
    const read = chunk => {
      log.write(chunk)
      out += chunk
      if (out.includes('listening on PLAINTEXT://')) resolve(child)
    }
    child.stdout.on('data', read)
    child.stderr.on('data', read)
    child.on('exit', code => reject(new Error(`the broker exited (${code}) before listening`)))
  })
}

// Stops `broker` with SIGTERM (SIGKILL after `graceMs`) and checks that it exits 0, as a clean
// shutdown does; resolves once it has exited and its output is in the log, so that nothing
// writes to the work directory once the script ends and its runner removes it.
export async function stopBroker (broker, graceMs = 10000) {
  if (broker.exitCode === null && broker.signalCode === null) broker.kill('SIGTERM')
  const timer = setTimeout(() => broker.kill('SIGKILL'), graceMs)
  const status = await broker.closed
  clearTimeout(timer)
  check('the broker stops cleanly on SIGTERM', status === 0, `exit ${status}`)
}
