// KIP-848 with a real client: two @platformatic/kafka consumers with groupProtocol 'consumer'
// (ConsumerGroupHeartbeat, server-side assignment) share a topic of four partitions. The test
// checks that both end up owning partitions, that no partition is owned twice, that every
// message is read, and that DescribeGroups shows the group. Then the broker is killed (SIGKILL)
// and started again on the same port: the members must go on as they were (same member ids,
// same partitions, no rejoin) and read what is produced next. The script runs the broker
// itself. Prints one line per check; exits non-zero if any failed.
// Usage: node kip848_consumers.mjs SAMSA_BINARY WORK_DIR
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { createServer } from 'node:net'
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka'

const [samsa, work] = process.argv.slice(2)
const topic = 'node-kip848'
const groupId = 'node-kip848-group'
const messages = 40

function check (what, ok, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ': ' + detail : ''}`)
  if (!ok) process.exitCode = 1
  return ok
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

async function waitFor (what, condition, timeoutMs = 30000) {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (condition()) return true
    await sleep(100)
  }
  return check(what, false, 'timed out')
}

async function freePort () {
  const server = createServer()
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise(resolve => server.close(resolve))
  return port
}

// Starts the broker over WORK_DIR/data on `port`; resolves once it listens.
function startBroker (port) {
  const log = createWriteStream(`${work}/broker.log`, { flags: 'a' })
  const child = spawn(samsa, ['--override', `listeners=PLAINTEXT://127.0.0.1:${port}`, '--override', `log.dir=${work}/data`,
    '--override', 'group.consumer.heartbeat.interval.ms=500'], { stdio: ['ignore', 'pipe', 'pipe'] })
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

const owned = consumer => (consumer.assignments ?? []).flatMap(a => a.partitions.map(p => `${a.topic}-${p}`))

const port = await freePort()
const bootstrap = `127.0.0.1:${port}`
let broker = await startBroker(port)
const admin = new Admin({ clientId: 'node-kip848-admin', bootstrapBrokers: [bootstrap] })
const producer = new Producer({ clientId: 'node-kip848-producer', bootstrapBrokers: [bootstrap], serializers: stringSerializers })
const consumers = []
const seen = new Set()
const started = Date.now()
try {
  await admin.createTopics({ topics: [topic], partitions: 4, replicas: 1 })
  const batch = []
  for (let i = 0; i < messages; i++) batch.push({ topic, partition: i % 4, key: `k${i}`, value: `v${i}` })
  await producer.send({ messages: batch })

  for (const name of ['a', 'b']) {
    const consumer = new Consumer({
      clientId: `node-kip848-${name}`,
      groupId,
      groupProtocol: 'consumer',
      bootstrapBrokers: [bootstrap],
      deserializers: stringDeserializers,
      // Ride out the restart below (storage recovery after SIGKILL takes seconds on a busy host).
      retries: 60,
      retryDelay: 1000
    })
    consumers.push(consumer)
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: true })
    stream.on('data', message => seen.add(`${message.partition}:${message.offset}`))
    stream.on('error', error => check(`consumer ${name} stream`, false, String(error)))
  }

  // The second member gets its share once the first has revoked it (incremental, server-driven).
  await waitFor('both members own partitions', () => consumers.every(c => owned(c).length > 0))
  const a = owned(consumers[0])
  const b = owned(consumers[1])
  check('each member owns two partitions', a.length === 2 && b.length === 2, `a ${a.join(',')} / b ${b.join(',')}`)
  check('no partition has two owners', a.every(p => !b.includes(p)))
  await waitFor('every message is read', () => seen.size === messages)
  check('every message is read', seen.size === messages, `${seen.size} of ${messages}`)
  const before = consumers.map(c => ({ id: c.memberId, owned: owned(c).sort().join(',') }))

  const described = (await admin.describeGroups({ groups: [groupId] })).get(groupId)
  check('DescribeGroups shows a consumer group with both members',
    described?.protocolType === 'consumer' && described?.members.size === 2,
    `protocol type ${described?.protocolType}, ${described?.members.size} members, state ${described?.state}`)

  // SIGKILL and restart: the group comes back from __consumer_offsets.
  broker.kill('SIGKILL')
  await new Promise(resolve => broker.once('exit', resolve))
  broker = await startBroker(port)
  const more = []
  for (let i = messages; i < 2 * messages; i++) more.push({ topic, partition: i % 4, key: `k${i}`, value: `v${i}` })
  await producer.send({ messages: more })
  await waitFor('messages produced after the restart are read', () => seen.size === 2 * messages, 60000)
  await sleep(2000)  // a few more heartbeats at the restored epochs
  const after = consumers.map(c => ({ id: c.memberId, owned: owned(c).sort().join(',') }))
  check('after the restart the members keep their ids and partitions', JSON.stringify(after) === JSON.stringify(before),
    `${JSON.stringify(before)} -> ${JSON.stringify(after)}`)
  const again = (await admin.describeGroups({ groups: [groupId] })).get(groupId)
  const ids = [...(again?.members.keys() ?? [])].sort().join(',')
  check('the restarted broker knows the same members', ids === before.map(b => b.id).sort().join(','), ids)
} catch (e) {
  check('KIP-848 consumers', false, e.stack ?? String(e))
} finally {
  // close(true) leaves the group (member epoch -1) before the connections close.
  for (const c of consumers) await c.close(true).catch(e => check('consumer close', false, String(e)))
  await producer.close().catch(() => {})
  await admin.close().catch(() => {})
  console.log(`closed after ${Date.now() - started} ms`)
  broker.kill('SIGTERM')
}
// The client (1.35) keeps the process alive after close(); everything is checked by now.
process.exit(process.exitCode ?? 0)
