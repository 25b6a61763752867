// One kafkajs (2.2.4) consumer group member for compat/group_clients_test.sh: joins GROUP on
// TOPIC with a round-robin assigner registered under the protocol name other clients use
// ("roundrobin"), reads until the wall-clock time SNAPSHOT (ms since the epoch), writes its
// assignment and what it read to OUT as JSON, and leaves the group at LEAVE (ms), so that every
// member's snapshot is taken while all of them are still in the group.
// Usage: node group_member.js BOOTSTRAP GROUP TOPIC OUT SNAPSHOT LEAVE
const fs = require('fs')
const { Kafka, logLevel, PartitionAssigners } = require('kafkajs')

const [bootstrap, group, topic, out, snapshot, leave] = process.argv.slice(2)
const kafka = new Kafka({ clientId: 'kafkajs-compat', brokers: [bootstrap], logLevel: logLevel.WARN })
// kafkajs names its assigner "RoundRobinAssigner"; Java, librdkafka and kafka-python call the
// same protocol "roundrobin". The assignment bytes are the standard consumer protocol.
const roundrobin = (config) => ({ ...PartitionAssigners.roundRobin(config), name: 'roundrobin' })
const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 1000,
  partitionAssigners: [roundrobin] })

const values = []
let assigned = []
consumer.on(consumer.events.GROUP_JOIN, (e) => {
  assigned = (e.payload.memberAssignment[topic] || []).slice().sort((a, b) => a - b)
})

async function main () {
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({ eachMessage: async ({ message }) => { values.push(message.value.toString()) } })
  const until = (t) => new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(t) - Date.now())))
  await until(snapshot)
  fs.writeFileSync(out, JSON.stringify({ client: 'kafkajs', assigned, values }))
  await until(leave)
  await consumer.disconnect()
}

main().catch((e) => { console.error(e); process.exit(1) })
