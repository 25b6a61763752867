// Admin APIs librdkafka 2.0 lacks, driven by @platformatic/kafka (a Node client with its own
// protocol implementation): DescribeCluster, DescribeLogDirs, DescribeProducers, and client
// quotas through AlterClientQuotas and DescribeClientQuotas. The script runs the broker itself.
// Prints one line per API and exits non-zero if any answer is not what Kafka would give.
// Usage: node admin_apis.mjs SAMSA_BINARY WORK_DIR
import { Admin, Connection, Producer, stringSerializers, describeClusterV1, describeProducersV0 } from '@platformatic/kafka'
import { check, freePort, startBroker, stopBroker } from './script_support.mjs'

const [samsa, work] = process.argv.slice(2)
const host = '127.0.0.1'
const port = await freePort()
const bootstrap = `${host}:${port}`
const broker = await startBroker({ samsa, work, port })
const topic = 'node-admin'

const admin = new Admin({ clientId: 'node-admin', bootstrapBrokers: [bootstrap] })
const producer = new Producer({ clientId: 'node-admin-producer', bootstrapBrokers: [bootstrap], serializers: stringSerializers })
const connection = new Connection('node-admin-raw')
try {
  await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 })
  await producer.send({ messages: [{ topic, partition: 0, key: 'k', value: 'v'.repeat(1000) }] })

  await connection.connect(host, Number(port))
  const cluster = await describeClusterV1.api.async(connection, false, 1)
  check('DescribeCluster v1', cluster.errorCode === 0 && cluster.clusterId.length > 0 && cluster.brokers.length === 1 &&
    cluster.brokers[0].port === Number(port) && cluster.controllerId === cluster.brokers[0].brokerId,
  `cluster ${cluster.clusterId}, broker ${cluster.brokers[0]?.brokerId} at ${cluster.brokers[0]?.host}:${cluster.brokers[0]?.port}`)

  // The client turns any partition error into an exception, so only existing partitions are asked.
  const producers = await describeProducersV0.api.async(connection, [{ name: topic, partitionIndexes: [0, 1] }])
  const parts = producers.topics[0]?.partitions ?? []
  check('DescribeProducers v0', parts.length === 2 && parts.every(p => p.errorCode === 0),
    `partitions ${parts.map(p => p.partitionIndex).join(',')}`)

  const dirs = await admin.describeLogDirs({ topics: [{ name: topic, partitions: [0, 1] }] })
  const sizes = (dirs[0]?.results ?? []).flatMap(r => r.topics.filter(t => t.name === topic).flatMap(t => t.partitions))
  const p0 = sizes.find(p => p.partitionIndex === 0)
  check('DescribeLogDirs', dirs.length === 1 && sizes.length === 2 && p0 !== undefined && Number(p0.partitionSize) > 1000,
    `${dirs[0]?.results.length} dir(s), partition 0 holds ${p0?.partitionSize} bytes`)

  const entity = [{ entityType: 'client-id', entityName: 'node-limited' }]
  const altered = await admin.alterClientQuotas({ entries: [{ entities: entity, ops: [{ key: 'producer_byte_rate', value: 2048, remove: false }] }] })
  check('AlterClientQuotas', altered.length === 1 && altered[0].errorCode === 0)
  const described = await admin.describeClientQuotas({ components: [{ entityType: 'client-id', matchType: 0, match: 'node-limited' }] })
  const value = described[0]?.values.find(v => v.key === 'producer_byte_rate')?.value
  check('DescribeClientQuotas', described.length === 1 && value === 2048, `producer_byte_rate ${value}`)
  const removed = await admin.alterClientQuotas({ entries: [{ entities: entity, ops: [{ key: 'producer_byte_rate', remove: true }] }] })
  const after = await admin.describeClientQuotas({ components: [{ entityType: 'client-id', matchType: 0, match: 'node-limited' }] })
  check('AlterClientQuotas (remove)', removed[0]?.errorCode === 0 && after.length === 0)
} catch (e) {
  check('admin APIs', false, e.stack ?? String(e))
} finally {
  await connection.close().catch(() => {})
  await producer.close().catch(() => {})
  await admin.close().catch(() => {})
  await stopBroker(broker)
}
// The client keeps the process alive after close(); everything is checked by now.
process.exit(process.exitCode ?? 0)
