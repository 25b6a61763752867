// Classic and KIP-848 members in one group with real clients: a librdkafka consumer of the
// classic protocol (the group_member program, JoinGroup/SyncGroup) forms the group, then an
// @platformatic/kafka consumer with groupProtocol 'consumer' (ConsumerGroupHeartbeat) joins it,
// which turns the classic group into a consumer group (group.consumer.migration.policy
// bidirectional). The two must share the topic's partitions with no overlap and no gap. Then
// the KIP-848 member leaves: the group turns back into a classic group and the librdkafka
// member must end up with every partition. The script runs the broker itself. Prints one line
// per check; exits non-zero if any failed.
// Usage: node mixed_protocol_group.mjs SAMSA_BINARY GROUP_MEMBER_BINARY WORK_DIR
import { spawn } from 'node:child_process'
import { createWriteStream, existsSync, readFileSync } from 'node:fs'
import { Admin, Consumer, stringDeserializers } from '@platformatic/kafka'
import { check, freePort, sleep, startBroker, stopBroker, waitFor as waitForIn } from './script_support.mjs'

const [samsa, groupMember, work] = process.argv.slice(2)
const topic = 'mixed-protocols'
const groupId = 'mixed-protocols-group'
const partitions = 4

// Rebalances of a mixed group take a few heartbeats and rejoins: give each step 40 s.
const waitFor = (what, condition) => waitForIn(what, condition, 40000)

// The partitions the librdkafka member owns, from the file it rewrites after every rebalance.
const statusFile = `${work}/classic.status`
const classicOwned = () => existsSync(statusFile)
  ? readFileSync(statusFile, 'utf8').split('\n').filter(l => l !== '').map(Number).sort((x, y) => x - y)
  : null
const nodeOwned = consumer => (consumer.assignments ?? []).filter(a => a.topic === topic).flatMap(a => a.partitions)
  .sort((x, y) => x - y)
const all = [...Array(partitions).keys()].join(',')

const port = await freePort()
const bootstrap = `127.0.0.1:${port}`
const broker = await startBroker({ samsa, work, port,
  overrides: ['group.consumer.heartbeat.interval.ms=500', 'group.initial.rebalance.delay.ms=0'] })
const admin = new Admin({ clientId: 'mixed-admin', bootstrapBrokers: [bootstrap] })
let member = null
let consumer = null
let memberExit = null
try {
  await admin.createTopics({ topics: [topic], partitions, replicas: 1 })

  // 1. The classic member forms the group alone.
  const memberLog = createWriteStream(`${work}/group_member.log`)
  member = spawn(groupMember, [bootstrap, groupId, topic, statusFile], { stdio: ['ignore', 'pipe', 'pipe'] })
  member.stdout.pipe(memberLog)
  member.stderr.pipe(memberLog)
  member.on('exit', code => { memberExit = code })
  await waitFor('the classic member owns every partition', () => classicOwned()?.join(',') === all)
  let described = (await admin.describeGroups({ groups: [groupId] })).get(groupId)
  check('the group starts as a classic group', described?.protocolType === 'consumer' && described?.protocol !== '',
    `protocol type ${described?.protocolType}, protocol ${described?.protocol}, state ${described?.state}`)

  // 2. A KIP-848 member joins: the group becomes a consumer group and the partitions are shared.
  consumer = new Consumer({
    clientId: 'mixed-kip848',
    groupId,
    groupProtocol: 'consumer',
    bootstrapBrokers: [bootstrap],
    deserializers: stringDeserializers,
    retries: 20,
    retryDelay: 500
  })
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: true })
  stream.on('data', () => {})
  stream.on('error', error => check('KIP-848 consumer stream', false, String(error)))
  const shared = () => {
    const c = classicOwned() ?? []
    const n = nodeOwned(consumer)
    return c.length > 0 && n.length > 0 && [...c, ...n].sort((x, y) => x - y).join(',') === all
  }
  await waitFor('both members own partitions, together every partition once', shared)
  await sleep(3000)  // a few more heartbeats and rejoins: the split must hold
  const c = classicOwned() ?? []
  const n = nodeOwned(consumer)
  check('no partition has two owners', c.every(p => !n.includes(p)), `classic ${c.join(',')} / kip848 ${n.join(',')}`)
  check('no partition is left without an owner', [...c, ...n].sort((x, y) => x - y).join(',') === all,
    `classic ${c.join(',')} / kip848 ${n.join(',')}`)
  described = (await admin.describeGroups({ groups: [groupId] })).get(groupId)
  check('the group is a consumer group with both members', described?.members.size === 2,
    `${described?.members.size} members, state ${described?.state}`)
  const log = readFileSync(`${work}/broker.log`, 'utf8')
  check('the broker upgraded the group', log.includes(`group ${groupId} upgraded from a classic group to a consumer group`))

  // 3. The KIP-848 member leaves: the group turns classic again and the other takes everything.
  await consumer.close(true)
  consumer = null
  await waitFor('after the KIP-848 member left, the classic member owns every partition',
    () => classicOwned()?.join(',') === all)
  check('the broker downgraded the group',
    readFileSync(`${work}/broker.log`, 'utf8').includes(`group ${groupId} downgraded from a consumer group to a classic group`))
  check('the classic member is still running', memberExit === null, `exit ${memberExit}`)
} catch (e) {
  check('mixed-protocol group', false, e.stack ?? String(e))
} finally {
  if (consumer) await consumer.close(true).catch(() => {})
  if (member && memberExit === null) member.kill('SIGKILL')
  await admin.close().catch(() => {})
  await stopBroker(broker)
}
process.exit(process.exitCode ?? 0)
