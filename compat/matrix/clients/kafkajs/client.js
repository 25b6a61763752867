// The kafkajs client of the compatibility matrix: one scenario per invocation, as
// `node client.js <scenario> [<phase>]` with SAMSA_BOOTSTRAP, SAMSA_TOPIC and SAMSA_TIMEOUT_S set
// by compat/matrix/run. Exits 0 on success, 1 with the reason on the last line of stderr, or 3 with
// the reason on the last line of stdout when kafkajs cannot express the scenario.
// The group scenario starts its own members by running this file again as `group member`.
'use strict'
const { requireNode, bootstrap, prefix, Failure, NotApplicable, check, same, waitFor, hex, checkKeysHeadersTimestamps,
  sessionTimeout, runGroup, runMain } = require('../node_matrix')

// kafkajs 2 warns on every producer that its default partitioner changed in 2.0; that is news
// to nobody here and would bury the reason a scenario fails.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const { Kafka, logLevel, CompressionTypes, CompressionCodecs, Partitioners } = requireNode('kafkajs')
CompressionCodecs[CompressionTypes.Snappy] = requireNode('kafkajs-snappy')

const kafka = new Kafka({ clientId: 'samsa-matrix-kafkajs', brokers: [bootstrap], logLevel: logLevel.WARN })

async function withAdmin (fn) {
  const admin = kafka.admin()
  await admin.connect()
  try {
    return await fn(admin)
  } finally {
    await admin.disconnect()
  }
}

async function withProducer (options, fn) {
  const producer = kafka.producer(options)
  await producer.connect()
  try {
    return await fn(producer)
  } finally {
    await producer.disconnect()
  }
}

async function createTopic (topic, numPartitions, configEntries = []) {
  const created = await withAdmin((admin) =>
    admin.createTopics({ topics: [{ topic, numPartitions, configEntries }], waitForLeaders: true }))
  check(created === true, `createTopics(${topic}) reported that the topic was not created`)
}

// Compressible values, so that a compressed batch is really smaller than its records.
function makeMessages (tag, n, first = 0) {
  const out = []
  for (let i = first; i < first + n; i++) {
    out.push({ key: `key-${i}`, value: `${tag}-${i} ` + 'lorem ipsum dolor sit amet '.repeat(4) })
  }
  return out
}

function plain (m, partition) {
  return {
    partition,
    offset: Number(m.offset),
    key: m.key === null ? null : m.key.toString(),
    value: m.value === null ? null : m.value.toString()
  }
}

// Reads with a fresh consumer group until `enough(received)` holds; `seek` positions partitions
// once the consumer runs. Returns the messages in arrival order.
async function consume ({ topic, group, fromBeginning = true, readUncommitted = false, seek = [],
  enough, afterFirstFetch }) {
  const consumer = kafka.consumer({ groupId: group, readUncommitted })
  const received = []
  let fetched = false
  consumer.on(consumer.events.FETCH, () => { fetched = true })
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning })
    await consumer.run({
      eachMessage: async ({ partition, message }) => { received.push({ ...plain(message, partition), raw: message }) }
    })
    for (const s of seek) consumer.seek({ topic, partition: s.partition, offset: String(s.offset) })
    if (afterFirstFetch) {
      await waitFor(`the first fetch of ${group}`, () => fetched)
      await afterFirstFetch()
    }
    await waitFor(() => `records on ${topic} (${received.length} so far)`, () => enough(received))
    return received
  } finally {
    await consumer.disconnect()
  }
}

async function highWatermarks (topic) {
  const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topic))
  return offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high))
}

// Every partition holds exactly what was sent to it, in send order, at offsets 0, 1, 2, ...
function checkPartitions (received, sentByPartition, what) {
  for (const [partition, sent] of sentByPartition) {
    const got = received.filter((m) => m.partition === partition)
    same(got.map((m) => m.offset), sent.map((_, i) => i), `${what}: offsets of partition ${partition}`)
    same(got.map((m) => [m.key, m.value]), sent.map((m) => [m.key, m.value]),
      `${what}: records of partition ${partition}`)
  }
}

// Snappy comes from kafkajs-snappy; the lz4 and zstd codec packages are native add-ons.
const codecs = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy }
const missingCodecs = {
  lz4: 'kafkajs has no built-in lz4 codec and its codec package kafkajs-lz4 is a native add-on (lz4 0.6, node-gyp); not installed',
  zstd: 'kafkajs has no built-in zstd codec and its codec package @kafkajs/zstd is a native add-on (cppzst, node-gyp); not installed'
}

async function produceConsume (name) {
  if (missingCodecs[name]) throw new NotApplicable(missingCodecs[name])
  const codec = codecs[name]
  const topic = `${prefix}-pc`
  await createTopic(topic, 3)
  const batches = [makeMessages('a', 100), makeMessages('b', 100, 100), makeMessages('c', 100, 200)]
  const sentByPartition = new Map([[0, []], [1, []], [2, []]])
  await withProducer({}, async (producer) => {
    for (const messages of batches) {
      const result = await producer.send({ topic, messages, compression: codec })
      for (const r of result) {
        check(r.errorCode === 0, `produce to partition ${r.partition} failed with error ${r.errorCode}`)
        check(Number(r.baseOffset) === sentByPartition.get(r.partition).length,
          `partition ${r.partition}: base offset ${r.baseOffset}, expected ${sentByPartition.get(r.partition).length}`)
      }
      const partitioner = partitionerOf(3)
      for (const m of messages) sentByPartition.get(partitioner(m.key)).push(m)
    }
  })
  const received = await consume({ topic, group: `${prefix}-g`, enough: (r) => r.length >= 300 })
  checkPartitions(received, sentByPartition, `codec ${codec}`)
  same(await highWatermarks(topic), [...sentByPartition.values()].map((s) => s.length), 'high watermarks')
}

// kafkajs's default partitioner is Java's murmur2 over the key bytes; the broker does not
// partition, so computing it here only tells the test where each record must be.
function partitionerOf (n) {
  const p = Partitioners.DefaultPartitioner()
  const partitionMetadata = Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 1 }))
  return (key) => p({ topic: 't', partitionMetadata, message: { key } })
}

async function headersKeysTimestamps () {
  const topic = `${prefix}-hkt`
  await createTopic(topic, 1)
  const base = Date.now() - 3600 * 1000
  const sent = [
    { key: 'k0', value: 'v0', headers: { a: 'x', b: Buffer.from([0, 1, 2, 255]) }, timestamp: String(base) },
    { key: null, value: 'no key', headers: {}, timestamp: String(base + 1) },
    { key: '', value: 'empty key', headers: { empty: '' }, timestamp: String(base + 1000) },
    { key: Buffer.from([0xff, 0, 0x80]), value: null, headers: { repeated: ['one', 'two'] }, timestamp: String(base - 5) },
    { key: 'k4', value: '', headers: { 'ünïcode': 'välue' }, timestamp: String(base + 1800 * 1000) }
  ]
  await withProducer({}, (producer) => producer.send({ topic, messages: sent }))
  const received = await consume({ topic, group: `${prefix}-g`, enough: (r) => r.length >= sent.length })
  same(received.map((m) => m.offset), [0, 1, 2, 3, 4], 'offsets')
  // Headers are an object here; a repeated key holds an array of values.
  checkKeysHeadersTimestamps(received, sent, (h) => Object.fromEntries(Object.entries(h).map(([k, v]) =>
    [k, Array.isArray(v) ? v.map(hex) : hex(v)])))
}

async function acks (acks) {
  const topic = `${prefix}-acks`
  await createTopic(topic, 1)
  const sends = [makeMessages('a', 10), makeMessages('b', 10, 10), makeMessages('c', 10, 20)]
  await withProducer({}, async (producer) => {
    for (let i = 0; i < sends.length; i++) {
      const result = await producer.send({ topic, messages: sends[i], acks })
      // With acks=0 the broker sends no response, so there are no offsets to check.
      if (acks !== 0) same(result.map((r) => [r.partition, r.errorCode, Number(r.baseOffset)]), [[0, 0, i * 10]], `send ${i} result`)
    }
  })
  const all = sends.flat()
  const received = await consume({ topic, group: `${prefix}-g`, enough: (r) => r.length >= all.length })
  checkPartitions(received, new Map([[0, all]]), `acks=${acks}`)
  same(await highWatermarks(topic), [all.length], 'high watermark')
}

async function consumeFromEarliest () {
  const topic = `${prefix}-early`
  await createTopic(topic, 2)
  const sent = new Map([[0, makeMessages('p0', 7)], [1, makeMessages('p1', 5)]])
  await withProducer({}, (producer) => producer.send({ topic,
    messages: [...sent].flatMap(([partition, ms]) => ms.map((m) => ({ ...m, partition }))) }))
  const received = await consume({ topic, group: `${prefix}-g`, fromBeginning: true, enough: (r) => r.length >= 12 })
  checkPartitions(received, sent, 'from earliest')
}

async function consumeFromLatest () {
  const topic = `${prefix}-late`
  await createTopic(topic, 1)
  const old = makeMessages('old', 10)
  const fresh = makeMessages('new', 10, 10)
  await withProducer({}, async (producer) => {
    await producer.send({ topic, messages: old })
    // The new records are written only after the consumer has resolved "latest" and fetched.
    const received = await consume({ topic, group: `${prefix}-g`, fromBeginning: false,
      afterFirstFetch: () => producer.send({ topic, messages: fresh }),
      enough: (r) => r.length >= fresh.length })
    same(received.map((m) => m.offset), fresh.map((_, i) => 10 + i), 'offsets read from latest')
    same(received.map((m) => [m.key, m.value]), fresh.map((m) => [m.key, m.value]), 'records read from latest')
  })
}

async function consumeFromTimestamp () {
  const topic = `${prefix}-ts`
  await createTopic(topic, 1)
  const base = Date.now() - 600 * 1000
  const sent = makeMessages('t', 10).map((m, i) => ({ ...m, timestamp: String(base + i * 1000) }))
  await withProducer({}, (producer) => producer.send({ topic, messages: sent }))
  const lookups = await withAdmin(async (admin) => [
    await admin.fetchTopicOffsetsByTimestamp(topic, base - 1),
    await admin.fetchTopicOffsetsByTimestamp(topic, base + 4500),
    await admin.fetchTopicOffsetsByTimestamp(topic, base + 9000)
  ])
  same(lookups.map((l) => l.map((o) => [o.partition, Number(o.offset)])), [[[0, 0]], [[0, 5]], [[0, 9]]],
    'offsets for timestamps before the first, between the 5th and 6th, and at the last record')
  const received = await consume({ topic, group: `${prefix}-g`, seek: [{ partition: 0, offset: 5 }],
    enough: (r) => r.length >= 5 })
  same(received.map((m) => [m.offset, m.value, m.raw.timestamp]), sent.slice(5).map((m, i) => [5 + i, m.value, m.timestamp]),
    'records from the timestamp on')
}

async function consumeFromMidBatch () {
  const topic = `${prefix}-mid`
  await createTopic(topic, 1)
  const sent = makeMessages('m', 10)
  // One send to one partition is one record batch; the broker returns it whole from offset 4.
  await withProducer({}, (producer) => producer.send({ topic, messages: sent }))
  const received = await consume({ topic, group: `${prefix}-g`, seek: [{ partition: 0, offset: 4 }],
    enough: (r) => r.length >= 6 })
  same(received.map((m) => [m.offset, m.key, m.value]), sent.slice(4).map((m, i) => [4 + i, m.key, m.value]),
    'records from offset 4')
}

// ---- group: three member processes on a 6-partition topic (node_matrix.js runs it) ----

async function groupMember () {
  const topic = `${prefix}-grp`
  const consumer = kafka.consumer({ groupId: `${prefix}-g`, sessionTimeout })
  const say = (o) => process.stdout.write(JSON.stringify(o) + '\n')
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    say({ assigned: (e.payload.memberAssignment[topic] || []).slice().sort((a, b) => a - b) })
  })
  let stopping = false
  process.on('SIGTERM', async () => {
    if (stopping) return
    stopping = true
    await consumer.disconnect()
    say({ left: true })
    process.exit(0)
  })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => say({ partition, value: message.value.toString() })
  })
}

const group = () => runGroup({
  clientFile: __filename,
  createTopic,
  withProducer: (fn) => withProducer({}, fn),
  sendRound: (producer, topic, round) =>
    producer.send({ topic, messages: [0, 1, 2, 3, 4, 5].map((p) => ({ partition: p, value: `${round}-${p}` })) })
})

// ---- offsets-restart ----

async function offsetsRestart (phase) {
  const topic = `${prefix}-off`
  const groupId = `${prefix}-g`
  const sent = makeMessages('o', 10)
  if (phase === 'commit') {
    await createTopic(topic, 1)
    await withProducer({}, (producer) => producer.send({ topic, messages: sent }))
    const consumer = kafka.consumer({ groupId })
    const received = []
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({ autoCommit: false, eachMessage: async ({ message }) => { received.push(plain(message, 0)) } })
    await waitFor('the ten records', () => received.length >= 10)
    // Commit progress part-way, as a consumer that processed six records would.
    await consumer.commitOffsets([{ topic, partition: 0, offset: '6' }])
    await consumer.disconnect()
    same(received.map((m) => [m.offset, m.value]), sent.map((m, i) => [i, m.value]), 'records before the restart')
  } else if (phase === 'verify') {
    const committed = await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] }))
    same(committed.map((t) => t.partitions.map((p) => [p.partition, p.offset])), [[[0, '6']]], 'committed offsets after the restart')
    const received = await consume({ topic, group: groupId, enough: (r) => r.length >= 4 })
    same(received.map((m) => [m.offset, m.value]), sent.slice(6).map((m, i) => [6 + i, m.value]), 'records after the committed offset')
    const more = await withProducer({}, (producer) => producer.send({ topic, messages: [{ value: 'after restart' }] }))
    same(more.map((r) => Number(r.baseOffset)), [10], 'offset of the first record written after the restart')
  } else {
    throw new Failure(`unknown phase ${phase}`)
  }
}

// ---- admin ----

async function admin () {
  const topic = `${prefix}-adm`
  await withAdmin(async (admin) => {
    const created = await admin.createTopics({ topics: [{ topic, numPartitions: 2,
      configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'cleanup.policy', value: 'compact' }] }] })
    check(created === true, 'createTopics reported that the topic was not created')
    const again = await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] })
    check(again === false, 'creating the topic a second time did not report that it exists')

    const meta = await admin.fetchTopicMetadata({ topics: [topic] })
    same(meta.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionId).sort()]), [[topic, [0, 1]]], 'topic metadata')

    const describe = async () => {
      const r = await admin.describeConfigs({ resources: [{ type: 2, name: topic, configNames: ['retention.ms', 'cleanup.policy'] }] })
      check(r.resources.length === 1 && r.resources[0].errorCode === 0, `describeConfigs failed: ${JSON.stringify(r.resources)}`)
      return Object.fromEntries(r.resources[0].configEntries.map((e) => [e.configName, [e.configValue, e.isDefault]]))
    }
    same(await describe(), { 'cleanup.policy': ['compact', false], 'retention.ms': ['3600000', false] }, 'configs after create')

    // AlterConfigs replaces a resource's whole set of overrides: cleanup.policy returns to its default.
    await admin.alterConfigs({ resources: [{ type: 2, name: topic, configEntries: [{ name: 'retention.ms', value: '7200000' }] }] })
    same(await describe(), { 'cleanup.policy': ['delete', true], 'retention.ms': ['7200000', false] }, 'configs after alter')

    await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] })
    const grown = await admin.fetchTopicMetadata({ topics: [topic] })
    same(grown.topics[0].partitions.length, 3, 'partition count after createPartitions')

    await admin.deleteTopics({ topics: [topic] })
    await waitFor('the deleted topic to leave the topic list', async () => !(await admin.listTopics()).includes(topic))
  })
}

// ---- idempotence and transactions ----

async function idempotent () {
  const topic = `${prefix}-idem`
  await createTopic(topic, 2)
  const sent = new Map([[0, []], [1, []]])
  await withProducer({ idempotent: true }, async (producer) => {
    for (let round = 0; round < 5; round++) {
      const messages = [0, 1].flatMap((p) => makeMessages(`r${round}p${p}`, 20, round * 20).map((m) => ({ ...m, partition: p })))
      const result = await producer.send({ topic, messages })
      for (const r of result) check(Number(r.baseOffset) === round * 20, `round ${round}: base offset ${r.baseOffset} on partition ${r.partition}`)
      for (const m of messages) sent.get(m.partition).push(m)
    }
  })
  const received = await consume({ topic, group: `${prefix}-g`, enough: (r) => r.length >= 200 })
  checkPartitions(received, sent, 'idempotent produce')
  same(await highWatermarks(topic), [100, 100], 'high watermarks')
}

async function transactions () {
  const topic = `${prefix}-txn`
  await createTopic(topic, 1)
  const committed1 = makeMessages('commit1', 5)
  const aborted = makeMessages('abort', 5, 5)
  const committed2 = makeMessages('commit2', 3, 10)
  await withProducer({ transactionalId: `${prefix}-tx`, idempotent: true, maxInFlightRequests: 1 }, async (producer) => {
    for (const [messages, outcome] of [[committed1, 'commit'], [aborted, 'abort'], [committed2, 'commit']]) {
      const txn = await producer.transaction()
      await txn.send({ topic, messages })
      await txn[outcome]()
    }
  })
  const last = committed2[committed2.length - 1].value
  const values = (r) => r.map((m) => m.value)
  const rc = await consume({ topic, group: `${prefix}-rc`, enough: (r) => values(r).includes(last) })
  same(values(rc), [...committed1, ...committed2].map((m) => m.value), 'read_committed records')
  const ru = await consume({ topic, group: `${prefix}-ru`, readUncommitted: true, enough: (r) => values(r).includes(last) })
  same(values(ru), [...committed1, ...aborted, ...committed2].map((m) => m.value), 'read_uncommitted records')
}

// ---- metadata ----

async function metadata () {
  const topic = `${prefix}-meta`
  await createTopic(topic, 3)
  await withAdmin(async (admin) => {
    const cluster = await admin.describeCluster()
    const [host, port] = bootstrap.split(':')
    same(cluster.brokers.map((b) => [b.host, b.port]), [[host, Number(port)]], 'brokers')
    check(cluster.controller === cluster.brokers[0].nodeId, `controller ${cluster.controller} is not the broker`)
    check(typeof cluster.clusterId === 'string' && cluster.clusterId.length > 0, 'no cluster id')
    const meta = await admin.fetchTopicMetadata({ topics: [topic] })
    const partitions = meta.topics[0].partitions.slice().sort((a, b) => a.partitionId - b.partitionId)
    same(partitions.map((p) => [p.partitionId, p.partitionErrorCode, p.leader, p.replicas, p.isr]),
      [0, 1, 2].map((i) => [i, 0, cluster.brokers[0].nodeId, [cluster.brokers[0].nodeId], [cluster.brokers[0].nodeId]]),
      'partitions of the new topic')
    check((await admin.listTopics()).includes(topic), 'the new topic is not listed')
  })
}

runMain({
  metadata, produceConsume, headersKeysTimestamps, acks, consumeFromEarliest, consumeFromLatest, consumeFromTimestamp,
  consumeFromMidBatch, group, groupMember, offsetsRestart, admin, idempotent, transactions
})
