// What the Node clients of the compatibility matrix (kafkajs/ and platformatic/) share: the
// environment compat/matrix/run sets (SAMSA_BOOTSTRAP, SAMSA_TOPIC, SAMSA_TIMEOUT_S), checks that
// fail a scenario with a reason, waiting against the scenario's deadline, the group scenario's
// member processes and checks, and the exit-code contract (0 pass, 1 fail, 3 not applicable).
// Each client process loads it once from its own directory's parent; it holds no client state.
// It sits beside the client folders and has no client.json, so the runner does not take it for one.
'use strict'
const path = require('path')
const { spawn } = require('child_process')
const { createRequire } = require('module')

// The packages are the ones compat/node's lockfile pins, wherever the client is run from.
const requireNode = createRequire(path.join(__dirname, '..', '..', 'node', 'package.json'))

const bootstrap = process.env.SAMSA_BOOTSTRAP
const prefix = process.env.SAMSA_TOPIC
const timeoutMs = Number(process.env.SAMSA_TIMEOUT_S || 60) * 1000
// Leave a margin so that a scenario that waits too long fails with its own reason, not a kill.
const deadline = Date.now() + Math.max(5000, timeoutMs - 3000)

class Failure extends Error {}
class NotApplicable extends Error {}

// JSON that also prints bigints (offsets and timestamps of some clients).
const json = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x))

function check (ok, message) {
  if (!ok) throw new Failure(message)
}

function same (actual, expected, what) {
  const a = json(actual)
  const e = json(expected)
  check(a === e, `${what}: expected ${e.slice(0, 400)}, got ${a.slice(0, 400)}`)
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor (what, condition) {
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Failure(`timed out waiting for ${typeof what === 'function' ? what() : what}`)
    await sleep(50)
  }
}

// Bytes as hex, null for a null (or absent) key or value.
const hex = (b) => (b === undefined || b === null ? null : Buffer.from(b).toString('hex'))

// The headers-keys-timestamps check: every record read (`raw` the client's message) has the key,
// value, headers and timestamp it was sent with. `headersOf` turns the client's header value,
// sent or read, into something comparable, with `hex` for the bytes.
function checkKeysHeadersTimestamps (received, sent, headersOf) {
  same(received.map((m) => [hex(m.raw.key), hex(m.raw.value)]), sent.map((m) => [hex(m.key), hex(m.value)]), 'keys and values')
  same(received.map((m) => headersOf(m.raw.headers)), sent.map((m) => headersOf(m.headers)), 'headers')
  same(received.map((m) => m.raw.timestamp), sent.map((m) => m.timestamp), 'timestamps')
}

// ---- group: three member processes on a 6-partition topic ----

const sessionTimeout = 6000

// A member is the client's own file run again as `group member`; it prints one JSON object a
// line: {assigned: [partitions]} after each join, {partition, value} for each record read.
function startMember (clientFile, name) {
  const child = spawn(process.execPath, [clientFile, 'group', 'member'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const member = { name, child, assigned: null, values: [], exit: null }
  let pending = ''
  child.stdout.on('data', (chunk) => {
    pending += chunk
    let nl
    while ((nl = pending.indexOf('\n')) >= 0) {
      const o = JSON.parse(pending.slice(0, nl))
      pending = pending.slice(nl + 1)
      if (o.assigned) member.assigned = o.assigned
      if (o.value !== undefined) member.values.push(`${o.partition}:${o.value}`)
    }
  })
  child.on('exit', (code, signal) => { member.exit = { code, signal } })
  return member
}

// The live members' latest assignments split partitions 0..5 with no overlap and no gap.
function splitsPartitions (members) {
  const all = members.flatMap((m) => m.assigned || [])
  return members.every((m) => m.assigned && m.assigned.length > 0) &&
    json(all.slice().sort((a, b) => a - b)) === json([0, 1, 2, 3, 4, 5])
}

// One record per partition; each must reach the member that owns the partition now.
async function checkOwnersRead (sendRound, members, round) {
  await sendRound(round)
  for (const m of members) {
    for (const p of m.assigned) {
      await waitFor(`member ${m.name} to read ${round} on partition ${p}`, () => m.values.includes(`${p}:${round}-${p}`))
    }
  }
}

// The group scenario's coordinator: three members share six partitions, one leaves cleanly (the
// others take its partitions before the session timeout), one is killed (expired), and every
// round's records reach the current owners. The client supplies how it creates a topic, how it
// lends a producer to `fn`, and how that producer writes value `<round>-<p>` to each partition p.
async function runGroup ({ clientFile, createTopic, withProducer, sendRound }) {
  const topic = `${prefix}-grp`
  await createTopic(topic, 6)
  const members = ['a', 'b', 'c'].map((name) => startMember(clientFile, name))
  try {
    await withProducer(async (producer) => {
      const send = (round) => sendRound(producer, topic, round)
      await waitFor('three members to share the six partitions', () => splitsPartitions(members))
      await checkOwnersRead(send, members, 'three')

      const [a, b, c] = members
      const before = json([b.assigned, c.assigned])
      a.child.kill('SIGTERM')
      await waitFor('member a to leave and exit', () => a.exit !== null)
      same(a.exit, { code: 0, signal: null }, 'exit of the member that left')
      const left = Date.now()
      await waitFor('a\'s partitions to move to b and c', () => splitsPartitions([b, c]) && json([b.assigned, c.assigned]) !== before)
      // A clean leave rebalances at once; only a lost LeaveGroup would wait for the session timeout.
      check(Date.now() - left < sessionTimeout, `rebalance after a clean leave took ${Date.now() - left} ms`)
      await checkOwnersRead(send, [b, c], 'two')

      b.child.kill('SIGKILL')
      await waitFor('the killed member b to be expired and its partitions to move to c', () => splitsPartitions([c]))
      await checkOwnersRead(send, [c], 'one')
      c.child.kill('SIGTERM')
      await waitFor('member c to exit', () => c.exit !== null)
    })
  } finally {
    for (const m of members) if (m.exit === null) m.child.kill('SIGKILL')
  }
}

// ---- the process: one scenario, then the exit code the runner reads ----

// The matrix's scenarios by name (compat/matrix/run lists the same names) onto the functions a
// client implements: `produceConsume(codec)` with codec none, gzip, snappy, lz4 or zstd, `acks(n)`
// with n 0, 1 or -1, `group()` and `groupMember()`, `offsetsRestart(phase)`; the rest take nothing.
function scenarioTable (c) {
  return {
    metadata: c.metadata,
    'produce-consume-none': () => c.produceConsume('none'),
    'produce-consume-gzip': () => c.produceConsume('gzip'),
    'produce-consume-snappy': () => c.produceConsume('snappy'),
    'produce-consume-lz4': () => c.produceConsume('lz4'),
    'produce-consume-zstd': () => c.produceConsume('zstd'),
    'headers-keys-timestamps': c.headersKeysTimestamps,
    'acks-0': () => c.acks(0),
    'acks-1': () => c.acks(1),
    'acks-all': () => c.acks(-1),
    'consume-from-earliest': c.consumeFromEarliest,
    'consume-from-latest': c.consumeFromLatest,
    'consume-from-timestamp': c.consumeFromTimestamp,
    'consume-from-mid-batch': c.consumeFromMidBatch,
    group: (phase) => (phase === 'member' ? c.groupMember() : c.group()),
    'offsets-restart': c.offsetsRestart,
    admin: c.admin,
    idempotent: c.idempotent,
    transactions: c.transactions
  }
}

// Runs the scenario argv[2] (with phase argv[3]) of `client` (the functions scenarioTable names)
// after `prepare()` and exits 0; a NotApplicable exits 3 with its reason on stdout, any other
// error 1 with its reason as the last line of stderr.
function runMain (client, { prepare } = {}) {
  const scenarios = scenarioTable(client)
  async function main () {
    const [scenario, phase] = process.argv.slice(2)
    check(bootstrap && prefix, 'SAMSA_BOOTSTRAP and SAMSA_TOPIC must be set')
    const run = scenarios[scenario]
    if (!run) throw new NotApplicable(`unknown scenario ${scenario}`)
    if (prepare) await prepare()
    await run(phase)
    // A group member keeps running until it is told to stop.
    if (!(scenario === 'group' && phase === 'member')) process.exit(0)
  }

  main().catch((e) => {
    if (e instanceof NotApplicable) {
      process.stdout.write(`${e.message}\n`)
      process.exit(3)
    }
    const reason = e instanceof Failure ? e.message : `${e.name}: ${e.message}${e.errors ? ' ' + json(e.errors.map((x) => x.message)) : ''}`
    if (!(e instanceof Failure)) process.stderr.write(`${e.stack}\n`)
    process.stderr.write(`${reason.replace(/\n/g, ' ')}\n`)
    process.exit(1)
  })
}

module.exports = {
  requireNode,
  bootstrap,
  prefix,
  Failure,
  NotApplicable,
  json,
  check,
  same,
  waitFor,
  hex,
  checkKeysHeadersTimestamps,
  sessionTimeout,
  runGroup,
  runMain
}
