// KIP-848 with a real client: two @platformatic/kafka consumers with groupProtocol 'consumer'
// (ConsumerGroupHeartbeat, server-side assignment) share a topic of four partitions. The test
// checks that both end up owning partitions, that no partition is owned twice, that every
// message is read, and that DescribeGroups shows the group. Then the broker is killed (SIGKILL)
// and started again on the same port: the members must go on as they were (same member ids,
// same partitions, no rejoin) and read what is produced next. The script runs the broker
// itself. Prints one line per check; exits non-zero if any failed.
// Usage: node kip848_consumers.mjs SAMSA_BINARY WORK_DIR
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka'
import { check, freePort, sleep, startBroker, stopBroker, waitFor } from './script_support.mjs'

const [samsa, work] = process.argv.slice(2)
const topic = 'node-kip848'
const groupId = 'node-kip848-group'
const messages = 40

// The broker over WORK_DIR/data on `port`, with fast heartbeats; resolves once it listens.
const runBroker = port => startBroker({ samsa, work, port, overrides: ['group.consumer.heartbeat.interval.ms=500'] })

const owned = consumer => (consumer.assignments ?? []).flatMap(a => a.partitions.map(p => `${a.topic}-${p}`))

const port = await freePort()
const bootstrap = `127.0.0.1:${port}`
let broker = await runBroker(port)
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
  await broker.closed
  broker = await runBroker(port)
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
  await stopBroker(broker)
}
// The client (1.35) keeps the process alive after close(); everything is checked by now.
process.exit(process.exitCode ?? 0)
