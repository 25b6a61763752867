// The kafkajs side of a golden capture (see capture.sh): a producer sends three keyed messages
// with a header, then a group consumer reads them from the beginning and leaves the group.
// Usage: node kafkajs_session.js HOST:PORT   (with kafkajs on NODE_PATH)
'use strict';

const { Kafka, logLevel } = require('kafkajs');

const topic = 'golden';
const messages = [1, 2, 3].map((i) => ({ key: `k${i}`, value: `golden-${i}`, headers: { h: `v${i}` } }));

async function main(broker) {
  const kafka = new Kafka({ clientId: 'golden-kafkajs', brokers: [broker], logLevel: logLevel.ERROR });

  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: 'golden-group', maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = [];
  await new Promise((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          seen.push(message.value.toString());
          if (seen.length === messages.length) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  if (seen.join(',') !== messages.map((m) => m.value).join(',')) {
    throw new Error(`consumed ${seen.join(',')}`);
  }
}

const timer = setTimeout(() => {
  console.error('kafkajs session timed out');
  process.exit(1);
}, 60000);
main(process.argv[2]).then(
  () => {
    clearTimeout(timer);
    process.exit(0);
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
