// The @platformatic/kafka client of the compatibility matrix: one scenario per invocation, as
// `node client.js <scenario> [<phase>]` with SAMSA_BOOTSTRAP, SAMSA_TOPIC and SAMSA_TIMEOUT_S set
// by compat/matrix/run. Exits 0 on success, 1 with the reason on the last line of stderr, or 3 with
// the reason on the last line of stdout when the client cannot express the scenario.
// The group scenario starts its own members by running this file again as `group member`.
// The package is ESM only; this file stays CommonJS like the rest of compat/node and imports it.
'use strict'
const { pathToFileURL } = require('url')
const { requireNode, bootstrap, prefix, Failure, NotApplicable, json, check, same, waitFor, hex, checkKeysHeadersTimestamps,
  sessionTimeout, runGroup, runMain } = require('../node_matrix')

const clientId = 'samsa-matrix-platformatic'

let K // the @platformatic/kafka module, once imported

async function using (client, fn) {
  try {
    return await fn(client)
  } finally {
    await client.close()
  }
}

const newAdmin = () => new K.Admin({ clientId, bootstrapBrokers: [bootstrap] })
const newProducer = (options = {}) => new K.Producer({ clientId, bootstrapBrokers: [bootstrap], ...options })

async function createTopic (topic, partitions, configs = []) {
  const created = await using(newAdmin(), (admin) => admin.createTopics({ topics: [topic], partitions, replicas: 1, configs }))
  same(created.map((t) => [t.name, t.partitions]), [[topic, partitions]], `created topic ${topic}`)
}

// Compressible values, so that a compressed batch is really smaller than its records.
function makeMessages (topic, tag, n, first = 0, partitions = 1) {
  const out = []
  for (let i = first; i < first + n; i++) {
    out.push({ topic, partition: i % partitions, key: Buffer.from(`key-${i}`),
      value: Buffer.from(`${tag}-${i} ` + 'lorem ipsum dolor sit amet '.repeat(4)) })
  }
  return out
}

const text = (b) => (b === undefined || b === null ? null : b.toString())
const plain = (m) => ({ partition: m.partition, offset: Number(m.offset), key: text(m.key), value: text(m.value) })

// Reads with a fresh consumer group until `enough(received)` holds. `mode` and `offsets` are the
// stream's start (earliest by default); `ready` runs once the group is joined.
async function consume ({ topic, group, mode = 'earliest', offsets, isolationLevel, enough, ready, sessionTimeout }) {
  const consumer = new K.Consumer({ clientId, bootstrapBrokers: [bootstrap], groupId: group,
    ...(sessionTimeout ? { sessionTimeout } : {}) })
  const received = []
  return using(consumer, async () => {
    const stream = await consumer.consume({ topics: [topic], mode, ...(offsets ? { offsets } : {}),
      ...(isolationLevel !== undefined ? { isolationLevel } : {}) })
    stream.on('data', (m) => received.push({ ...plain(m), raw: m }))
    let streamError = null
    stream.on('error', (e) => { streamError = e })
    try {
      if (ready) await ready()
      await waitFor(() => `records on ${topic} (${received.length} so far)`, () => {
        if (streamError) throw streamError
        return enough(received)
      })
      return received
    } finally {
      await stream.close()
    }
  })
}

async function highWatermarks (topic, count) {
  return using(newAdmin(), async (admin) => {
    const r = await admin.listOffsets({ topics: [{ name: topic,
      partitions: Array.from({ length: count }, (_, p) => ({ partitionIndex: p, timestamp: K.ListOffsetTimestamps.LATEST })) }] })
    return r[0].partitions.sort((a, b) => a.partitionIndex - b.partitionIndex).map((p) => Number(p.offset))
  })
}

// Every partition holds exactly what was sent to it, in send order, at offsets 0, 1, 2, ...
function checkPartitions (received, sent, what) {
  const partitions = [...new Set(sent.map((m) => m.partition))].sort()
  for (const p of partitions) {
    const want = sent.filter((m) => m.partition === p)
    const got = received.filter((m) => m.partition === p)
    same(got.map((m) => m.offset), want.map((_, i) => i), `${what}: offsets of partition ${p}`)
    same(got.map((m) => [m.key, m.value]), want.map((m) => [text(m.key), text(m.value)]), `${what}: records of partition ${p}`)
  }
}

// Sends and checks the base offset the broker reports for every partition written.
async function sendChecked (producer, messages, sentSoFar, options = {}) {
  const result = await producer.send({ messages, ...options })
  const expected = [...new Set(messages.map((m) => m.partition))].sort().map((p) =>
    [p, sentSoFar.filter((m) => m.partition === p).length])
  same((result.offsets || []).map((o) => [o.partition, Number(o.offset)]).sort((a, b) => a[0] - b[0]), expected, 'base offsets')
  sentSoFar.push(...messages)
}

async function produceConsume (compression) {
  if (compression === 'zstd' && !K.compressionsAlgorithms.zstd.available) {
    throw new NotApplicable(`@platformatic/kafka takes zstd from node:zlib, which Node ${process.version} does not have (Node >= 22.15)`)
  }
  const topic = `${prefix}-pc`
  await createTopic(topic, 3)
  const sent = []
  await using(newProducer({ compression }), async (producer) => {
    for (const [i, tag] of ['a', 'b', 'c'].entries()) await sendChecked(producer, makeMessages(topic, tag, 100, i * 100, 3), sent)
  })
  const received = await consume({ topic, group: `${prefix}-g`, enough: (r) => r.length >= sent.length })
  checkPartitions(received, sent, `codec ${compression}`)
  same(await highWatermarks(topic, 3), [100, 100, 100], 'high watermarks')
}

async function headersKeysTimestamps () {
  const topic = `${prefix}-hkt`
  await createTopic(topic, 1)
  const base = BigInt(Date.now() - 3600 * 1000)
  const h = (entries) => new Map(entries.map(([k, v]) => [Buffer.from(k), Buffer.from(v)]))
  // Headers are a Map in this client, so a repeated header key cannot be written.
  const sent = [
    { key: Buffer.from('k0'), value: Buffer.from('v0'), headers: h([['a', 'x'], ['b', [0, 1, 2, 255]]]), timestamp: base },
    { value: Buffer.from('no key'), headers: h([]), timestamp: base + 1n },
    { key: Buffer.from([0xff, 0, 0x80]), value: Buffer.from('binary key'), headers: h([['empty', '']]), timestamp: base - 5n },
    { key: Buffer.from('k3'), value: Buffer.from(''), headers: h([['ünïcode', 'välue']]), timestamp: base + 1800n * 1000n }
  ].map((m) => ({ topic, partition: 0, ...m }))
  await using(newProducer(), (producer) => producer.send({ messages: sent }))
  const received = await consume({ topic, group: `${prefix}-g`, enough: (r) => r.length >= sent.length })
  same(received.map((m) => m.offset), [0, 1, 2, 3], 'offsets')
  checkKeysHeadersTimestamps(received, sent, (h) => [...(h || new Map()).entries()].map(([k, v]) => [hex(k), hex(v)]))
}

async function acks (acks) {
  const topic = `${prefix}-acks`
  await createTopic(topic, 1)
  const sent = []
  await using(newProducer({ acks }), async (producer) => {
    for (const [i, tag] of ['a', 'b', 'c'].entries()) {
      const messages = makeMessages(topic, tag, 10, i * 10)
      // With acks=0 the broker sends no response, so there are no offsets to check.
      if (acks === 0) {
        await producer.send({ messages })
        sent.push(...messages)
      } else {
        await sendChecked(producer, messages, sent)
      }
    }
  })
  const received = await consume({ topic, group: `${prefix}-g`, enough: (r) => r.length >= sent.length })
  checkPartitions(received, sent, `acks=${acks}`)
  same(await highWatermarks(topic, 1), [30], 'high watermark')
}

async function consumeFromEarliest () {
  const topic = `${prefix}-early`
  await createTopic(topic, 2)
  const sent = []
  await using(newProducer(), (producer) => sendChecked(producer, makeMessages(topic, 'e', 12, 0, 2), sent))
  const received = await consume({ topic, group: `${prefix}-g`, mode: 'earliest', enough: (r) => r.length >= 12 })
  checkPartitions(received, sent, 'from earliest')
}

async function consumeFromLatest () {
  const topic = `${prefix}-late`
  await createTopic(topic, 1)
  const fresh = makeMessages(topic, 'new', 10, 10)
  await using(newProducer(), async (producer) => {
    await producer.send({ messages: makeMessages(topic, 'old', 10) })
    // The stream resolves "latest" before consume() returns, so records sent after it are new.
    const received = await consume({ topic, group: `${prefix}-g`, mode: 'latest',
      ready: () => producer.send({ messages: fresh }), enough: (r) => r.length >= fresh.length })
    same(received.map((m) => [m.offset, m.key, m.value]), fresh.map((m, i) => [10 + i, text(m.key), text(m.value)]),
      'records read from latest')
  })
}

async function consumeFromTimestamp () {
  const topic = `${prefix}-ts`
  await createTopic(topic, 1)
  const base = BigInt(Date.now() - 600 * 1000)
  const sent = makeMessages(topic, 't', 10).map((m, i) => ({ ...m, timestamp: base + BigInt(i) * 1000n }))
  await using(newProducer(), (producer) => producer.send({ messages: sent }))
  // One request per timestamp: a partition named twice in one ListOffsets is INVALID_REQUEST.
  const offsets = await using(newAdmin(), async (admin) => {
    const found = []
    for (const timestamp of [base - 1n, base + 4500n, base + 9000n]) {
      const r = await admin.listOffsets({ topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp }] }] })
      found.push(Number(r[0].partitions[0].offset))
    }
    return found
  })
  same(offsets, [0, 5, 9], 'offsets for timestamps before the first, between the 5th and 6th, and at the last record')
  const received = await consume({ topic, group: `${prefix}-g`, mode: 'manual', offsets: [{ topic, partition: 0, offset: 5n }],
    enough: (r) => r.length >= 5 })
  same(received.map((m) => [m.offset, m.value, m.raw.timestamp]), sent.slice(5).map((m, i) => [5 + i, text(m.value), m.timestamp]),
    'records from the timestamp on')
}

async function consumeFromMidBatch () {
  const topic = `${prefix}-mid`
  await createTopic(topic, 1)
  const sent = makeMessages(topic, 'm', 10)
  // One send to one partition is one record batch; the broker returns it whole from offset 4.
  await using(newProducer(), (producer) => producer.send({ messages: sent }))
  const received = await consume({ topic, group: `${prefix}-g`, mode: 'manual', offsets: [{ topic, partition: 0, offset: 4n }],
    enough: (r) => r.length >= 6 })
  same(received.map((m) => [m.offset, m.key, m.value]), sent.slice(4).map((m, i) => [4 + i, text(m.key), text(m.value)]),
    'records from offset 4')
}

// ---- group: three member processes on a 6-partition topic (node_matrix.js runs it) ----

async function groupMember () {
  const topic = `${prefix}-grp`
  const say = (o) => process.stdout.write(JSON.stringify(o) + '\n')
  const consumer = new K.Consumer({ clientId, bootstrapBrokers: [bootstrap], groupId: `${prefix}-g`, sessionTimeout })
  consumer.on('consumer:group:join', (e) => {
    const mine = (e.assignments || []).find((a) => a.topic === topic)
    say({ assigned: (mine ? mine.partitions : []).slice().sort((a, b) => a - b) })
  })
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest' })
  stream.on('data', (m) => say({ partition: m.partition, value: text(m.value) }))
  let stopping = false
  process.on('SIGTERM', async () => {
    if (stopping) return
    stopping = true
    await stream.close()
    await consumer.close()
    say({ left: true })
    process.exit(0)
  })
}

const group = () => runGroup({
  clientFile: __filename,
  createTopic,
  withProducer: (fn) => using(newProducer(), fn),
  sendRound: (producer, topic, round) =>
    producer.send({ messages: [0, 1, 2, 3, 4, 5].map((p) => ({ topic, partition: p, value: Buffer.from(`${round}-${p}`) })) })
})

// ---- offsets-restart ----

async function offsetsRestart (phase) {
  const topic = `${prefix}-off`
  const groupId = `${prefix}-g`
  const sent = makeMessages(topic, 'o', 10)
  if (phase === 'commit') {
    await createTopic(topic, 1)
    await using(newProducer(), (producer) => producer.send({ messages: sent }))
    const consumer = new K.Consumer({ clientId, bootstrapBrokers: [bootstrap], groupId, autocommit: false })
    const received = []
    await using(consumer, async () => {
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest' })
      stream.on('data', (m) => received.push(m))
      await waitFor('the ten records', () => received.length >= 10)
      // Commit progress part-way, as a consumer that processed six records would.
      await received[5].commit()
      await stream.close()
    })
    same(received.map((m) => [Number(m.offset), text(m.value)]), sent.map((m, i) => [i, text(m.value)]), 'records before the restart')
  } else if (phase === 'verify') {
    const committed = await using(newAdmin(), (admin) => admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [{ name: topic, partitionIndexes: [0] }] }] }))
    same(committed.map((g) => g.topics.map((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.committedOffset]))),
      [[[[topic, 0, 6n]]]], 'committed offsets after the restart')
    const received = await consume({ topic, group: groupId, mode: 'committed', enough: (r) => r.length >= 4 })
    same(received.map((m) => [m.offset, m.value]), sent.slice(6).map((m, i) => [6 + i, text(m.value)]), 'records after the committed offset')
    const more = await using(newProducer(), (producer) => producer.send({ messages: [{ topic, partition: 0, value: Buffer.from('after restart') }] }))
    same(more.offsets.map((o) => Number(o.offset)), [10], 'offset of the first record written after the restart')
  } else {
    throw new Failure(`unknown phase ${phase}`)
  }
}

// ---- admin ----

async function admin () {
  const topic = `${prefix}-adm`
  await using(newAdmin(), async (admin) => {
    const created = await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1,
      configs: [{ name: 'retention.ms', value: '3600000' }, { name: 'cleanup.policy', value: 'compact' }] })
    same(created.map((t) => [t.name, t.partitions, t.configuration['retention.ms'], t.configuration['cleanup.policy']]),
      [[topic, 2, '3600000', 'compact']], 'created topic')
    let again = null
    await admin.createTopics({ topics: [topic], partitions: 2 }).catch((e) => { again = e })
    check(again && json(again).includes('36'), `creating the topic a second time: expected TOPIC_ALREADY_EXISTS (36), got ${again}`)

    const describe = async () => {
      const r = await admin.describeConfigs({ resources: [{ resourceType: K.ConfigResourceTypes.TOPIC, resourceName: topic,
        configurationKeys: ['retention.ms', 'cleanup.policy'] }] })
      return Object.fromEntries(r[0].configs.map((c) => [c.name, [c.value, c.configSource]]).sort())
    }
    // configSource 1 is a topic override, 5 the broker's default.
    same(await describe(), { 'cleanup.policy': ['compact', 1], 'retention.ms': ['3600000', 1] }, 'configs after create')
    // AlterConfigs replaces a resource's whole set of overrides: cleanup.policy returns to its default.
    await admin.alterConfigs({ resources: [{ resourceType: K.ConfigResourceTypes.TOPIC, resourceName: topic,
      configs: [{ name: 'retention.ms', value: '7200000' }] }] })
    same(await describe(), { 'cleanup.policy': ['delete', 5], 'retention.ms': ['7200000', 1] }, 'configs after alter')
    await admin.incrementalAlterConfigs({ resources: [{ resourceType: K.ConfigResourceTypes.TOPIC, resourceName: topic,
      configs: [{ name: 'cleanup.policy', value: 'compact', configOperation: K.IncrementalAlterConfigOperationTypes.SET }] }] })
    same(await describe(), { 'cleanup.policy': ['compact', 1], 'retention.ms': ['7200000', 1] }, 'configs after incremental alter')

    await admin.createPartitions({ topics: [{ name: topic, count: 3 }] })
    const meta = await admin.metadata({ topics: [topic], forceUpdate: true })
    same(meta.topics.get(topic).partitionsCount, 3, 'partition count after createPartitions')

    await admin.deleteTopics({ topics: [topic] })
    await waitFor('the deleted topic to leave the topic list', async () => !(await admin.listTopics()).includes(topic))
  })
}

// ---- idempotence and transactions ----

async function idempotent () {
  const topic = `${prefix}-idem`
  await createTopic(topic, 2)
  const sent = []
  await using(newProducer({ idempotent: true }), async (producer) => {
    for (let round = 0; round < 5; round++) await sendChecked(producer, makeMessages(topic, `r${round}`, 40, round * 40, 2), sent)
    check(producer.producerId !== undefined && producer.producerId >= 0n, `no producer id: ${producer.producerId}`)
  })
  const received = await consume({ topic, group: `${prefix}-g`, enough: (r) => r.length >= sent.length })
  checkPartitions(received, sent, 'idempotent produce')
  same(await highWatermarks(topic, 2), [100, 100], 'high watermarks')
}

async function transactions () {
  const topic = `${prefix}-txn`
  await createTopic(topic, 1)
  const committed1 = makeMessages(topic, 'commit1', 5)
  const aborted = makeMessages(topic, 'abort', 5, 5)
  const committed2 = makeMessages(topic, 'commit2', 3, 10)
  await using(newProducer({ transactionalId: `${prefix}-tx`, idempotent: true }), async (producer) => {
    for (const [messages, outcome] of [[committed1, 'commit'], [aborted, 'abort'], [committed2, 'commit']]) {
      const txn = await producer.beginTransaction()
      await txn.send({ messages })
      await txn[outcome]()
    }
  })
  const last = text(committed2[committed2.length - 1].value)
  const values = (r) => r.map((m) => m.value)
  const rc = await consume({ topic, group: `${prefix}-rc`, isolationLevel: K.FetchIsolationLevels.READ_COMMITTED,
    enough: (r) => values(r).includes(last) })
  same(values(rc), [...committed1, ...committed2].map((m) => text(m.value)), 'read_committed records')
  const ru = await consume({ topic, group: `${prefix}-ru`, isolationLevel: K.FetchIsolationLevels.READ_UNCOMMITTED,
    enough: (r) => values(r).includes(last) })
  same(values(ru), [...committed1, ...aborted, ...committed2].map((m) => text(m.value)), 'read_uncommitted records')
}

// ---- metadata ----

async function metadata () {
  const topic = `${prefix}-meta`
  await createTopic(topic, 3)
  await using(newAdmin(), async (admin) => {
    const meta = await admin.metadata({ topics: [topic], forceUpdate: true })
    const [host, port] = bootstrap.split(':')
    const brokers = [...meta.brokers.entries()]
    same(brokers.map(([, b]) => [b.host, b.port]), [[host, Number(port)]], 'brokers')
    const id = brokers[0][0]
    check(meta.controllerId === id, `controller ${meta.controllerId} is not the broker ${id}`)
    check(typeof meta.id === 'string' && meta.id.length > 0, 'no cluster id')
    const t = meta.topics.get(topic)
    check(t && t.id && t.id !== '00000000-0000-0000-0000-000000000000', `topic ${topic} has no id`)
    same(t.partitions.map((p) => [p.leader, p.replicas, p.isr]), [0, 1, 2].map(() => [id, [id], [id]]), 'partitions of the new topic')
    check((await admin.listTopics()).includes(topic), 'the new topic is not listed')
  })
}

runMain({
  metadata, produceConsume, headersKeysTimestamps, acks, consumeFromEarliest, consumeFromLatest, consumeFromTimestamp,
  consumeFromMidBatch, group, groupMember, offsetsRestart, admin, idempotent, transactions
}, {
  prepare: async () => { K = await import(pathToFileURL(requireNode.resolve('@platformatic/kafka')).href) }
})
