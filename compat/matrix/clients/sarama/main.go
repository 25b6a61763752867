// The sarama client of the compatibility matrix: Debian's sarama 1.22.1, built in GOPATH mode.
// One scenario per invocation, as `sarama-client <scenario> [<phase>]` with SAMSA_BOOTSTRAP,
// SAMSA_TOPIC and SAMSA_TIMEOUT_S set by compat/matrix/run. Exits 0 on success, 1 with the reason
// on the last line of stderr, or 3 with the reason on the last line of stdout when sarama cannot
// express the scenario. The group scenario runs this program again as `group member`.
//
// sarama speaks the protocol of the Kafka version in Config.Version, and its default is 0.8.2:
// Metadata v0, Produce v0 with magic 0 messages, Fetch v0. Scenarios that need nothing newer keep
// that default, so the broker's legacy message formats are exercised; the others set
// Config.Version to the newest version this sarama knows (2.2), which is how sarama users enable
// headers, consumer groups, admin requests, zstd and idempotence.
package main

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

var (
	bootstrap = os.Getenv("SAMSA_BOOTSTRAP")
	prefix    = os.Getenv("SAMSA_TOPIC")
	deadline  time.Time
)

type failure struct{ reason string }
type notApplicable struct{ reason string }

func fail(format string, args ...interface{}) {
	panic(failure{fmt.Sprintf(format, args...)})
}

func must(err error, what string) {
	if err != nil {
		fail("%s: %v", what, err)
	}
}

func same(actual, expected interface{}, what string) {
	if !reflect.DeepEqual(actual, expected) {
		fail("%s: expected %s, got %s", what, clip(expected), clip(actual))
	}
}

func clip(v interface{}) string {
	s := fmt.Sprintf("%v", v)
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}

func waitFor(what string, cond func() bool) {
	for !cond() {
		if time.Now().After(deadline) {
			fail("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// legacy keeps sarama's default protocol version; modern is the newest this sarama knows.
func config(modern bool) *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = "samsa-matrix-sarama"
	if modern {
		c.Version = sarama.MaxVersion
	}
	return c
}

func newAdmin() sarama.ClusterAdmin {
	admin, err := sarama.NewClusterAdmin([]string{bootstrap}, config(true))
	must(err, "admin client")
	return admin
}

func createTopic(topic string, partitions int32, configs map[string]*string) {
	admin := newAdmin()
	defer admin.Close()
	must(admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1, ConfigEntries: configs}, false),
		"create topic "+topic)
}

type record struct {
	Partition int32
	Offset    int64
	Key       string
	Value     string
}

func (r record) String() string {
	return fmt.Sprintf("%d@%d %q=%q", r.Partition, r.Offset, r.Key, r.Value)
}

// Compressible values, so that a compressed batch is really smaller than its records.
func makeMessages(topic, tag string, first, n int) []*sarama.ProducerMessage {
	var out []*sarama.ProducerMessage
	for i := first; i < first+n; i++ {
		out = append(out, &sarama.ProducerMessage{Topic: topic,
			Key:   sarama.StringEncoder(fmt.Sprintf("key-%d", i)),
			Value: sarama.StringEncoder(fmt.Sprintf("%s-%d %s", tag, i, strings.Repeat("lorem ipsum dolor sit amet ", 4)))})
	}
	return out
}

func encoded(e sarama.Encoder) string {
	if e == nil {
		return ""
	}
	b, _ := e.Encode()
	return string(b)
}

func newSyncProducer(c *sarama.Config) sarama.SyncProducer {
	// A SyncProducer reads its results from the success channel, so sarama requires it on.
	c.Producer.Return.Successes = true
	p, err := sarama.NewSyncProducer([]string{bootstrap}, c)
	must(err, "producer")
	return p
}

// send reports the first message's own error, which sarama's summary leaves out.
func send(p sarama.SyncProducer, msgs []*sarama.ProducerMessage) {
	err := p.SendMessages(msgs)
	if errs, ok := err.(sarama.ProducerErrors); ok && len(errs) > 0 {
		fail("%d of %d messages failed, the first with: %v", len(errs), len(msgs), errs[0].Err)
	}
	must(err, "send")
}

// sendAll sends the messages in one call and returns what each partition must now hold, in order,
// checking the offset sarama reports for every message (unless acks=0 gives none).
func sendAll(p sarama.SyncProducer, msgs []*sarama.ProducerMessage, sent map[int32][]record, checkOffsets bool) {
	send(p, msgs)
	for _, m := range msgs {
		r := record{Partition: m.Partition, Offset: int64(len(sent[m.Partition])), Key: encoded(m.Key), Value: encoded(m.Value)}
		if checkOffsets && m.Offset != r.Offset {
			fail("message %q went to offset %d of partition %d, expected %d", r.Value[:12], m.Offset, m.Partition, r.Offset)
		}
		sent[m.Partition] = append(sent[m.Partition], r)
	}
}

// readPartitions reads each partition from its first offset until it holds as many records as
// expected, without a consumer group.
func readPartitions(c *sarama.Config, topic string, from map[int32]int64, counts map[int32]int) map[int32][]*sarama.ConsumerMessage {
	consumer, err := sarama.NewConsumer([]string{bootstrap}, c)
	must(err, "consumer")
	defer consumer.Close()
	out := map[int32][]*sarama.ConsumerMessage{}
	for partition, offset := range from {
		pc, err := consumer.ConsumePartition(topic, partition, offset)
		must(err, fmt.Sprintf("consume partition %d from %d", partition, offset))
		for len(out[partition]) < counts[partition] {
			select {
			case m := <-pc.Messages():
				out[partition] = append(out[partition], m)
			case e := <-pc.Errors():
				fail("partition %d: %v", partition, e)
			case <-time.After(time.Until(deadline)):
				fail("timed out reading partition %d (%d of %d records)", partition, len(out[partition]), counts[partition])
			}
		}
		pc.Close()
	}
	return out
}

func records(ms []*sarama.ConsumerMessage) []record {
	out := []record{}
	for _, m := range ms {
		out = append(out, record{Partition: m.Partition, Offset: m.Offset, Key: string(m.Key), Value: string(m.Value)})
	}
	return out
}

func highWatermark(c *sarama.Config, topic string, partition int32) int64 {
	client, err := sarama.NewClient([]string{bootstrap}, c)
	must(err, "client")
	defer client.Close()
	hw, err := client.GetOffset(topic, partition, sarama.OffsetNewest)
	must(err, "high watermark")
	return hw
}

// checkSent reads every partition from offset 0 and compares it with what was sent to it.
func checkSent(c *sarama.Config, topic string, sent map[int32][]record, what string) {
	from := map[int32]int64{}
	counts := map[int32]int{}
	for p, rs := range sent {
		from[p] = 0
		counts[p] = len(rs)
	}
	got := readPartitions(c, topic, from, counts)
	for p, rs := range sent {
		same(records(got[p]), rs, fmt.Sprintf("%s: partition %d", what, p))
		same(highWatermark(c, topic, p), int64(len(rs)), fmt.Sprintf("%s: high watermark of partition %d", what, p))
	}
}

func produceConsume(codec sarama.CompressionCodec) {
	topic := prefix + "-pc"
	createTopic(topic, 3, nil)
	// sarama refuses lz4 below Kafka 0.10 (Kafka's own magic 0 lz4 framing was broken) and zstd
	// below Produce v7 (Kafka 2.1); none, gzip and snappy keep the default version.
	modern := codec == sarama.CompressionZSTD || codec == sarama.CompressionLZ4
	c := config(modern)
	c.Producer.Compression = codec
	p := newSyncProducer(c)
	if codec == sarama.CompressionZSTD {
		zstdInProduceV3(p, topic)
	}
	sent := map[int32][]record{}
	for i, tag := range []string{"a", "b", "c"} {
		sendAll(p, makeMessages(topic, tag, i*100, 100), sent, true)
	}
	must(p.Close(), "close producer")
	if len(sent) != 3 {
		fail("300 keyed records went to %d partitions, expected 3", len(sent))
	}
	checkSent(config(modern), topic, sent, "codec "+codec.String())
}

// sarama 1.22 writes zstd batches in Produce v3, but Kafka takes zstd only from Produce v7 on and
// answers older requests with UNSUPPORTED_COMPRESSION_TYPE (sarama fixed this in 1.26). The
// scenario cannot pass with this sarama; what it can show is that the broker refuses the same way.
func zstdInProduceV3(p sarama.SyncProducer, topic string) {
	err := p.SendMessages(makeMessages(topic, "z", 0, 1))
	errs, ok := err.(sarama.ProducerErrors)
	if !ok || len(errs) != 1 || errs[0].Err != sarama.ErrUnsupportedCompressionType {
		fail("zstd in Produce v3: expected UNSUPPORTED_COMPRESSION_TYPE as Kafka answers, got %v", err)
	}
	p.Close()
	panic(notApplicable{"sarama 1.22 sends zstd in Produce v3, which Kafka refuses (UNSUPPORTED_COMPRESSION_TYPE, as the broker did); sarama fixed it in 1.26"})
}

func acks(required sarama.RequiredAcks) {
	topic := prefix + "-acks"
	createTopic(topic, 1, nil)
	c := config(false)
	c.Producer.RequiredAcks = required
	p := newSyncProducer(c)
	sent := map[int32][]record{}
	for i, tag := range []string{"a", "b", "c"} {
		// With acks=0 the broker sends no response, so there are no offsets to check.
		sendAll(p, makeMessages(topic, tag, i*10, 10), sent, required != sarama.NoResponse)
	}
	must(p.Close(), "close producer")
	checkSent(config(false), topic, sent, fmt.Sprintf("acks=%d", required))
}

func headersKeysTimestamps() {
	topic := prefix + "-hkt"
	createTopic(topic, 1, nil)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	type h = sarama.RecordHeader
	msgs := []*sarama.ProducerMessage{
		{Key: sarama.StringEncoder("k0"), Value: sarama.StringEncoder("v0"), Timestamp: base,
			Headers: []h{{Key: []byte("a"), Value: []byte("x")}, {Key: []byte("b"), Value: []byte{0, 1, 2, 255}}}},
		{Value: sarama.StringEncoder("no key"), Timestamp: base.Add(time.Millisecond)},
		{Key: sarama.ByteEncoder{0xff, 0, 0x80}, Timestamp: base.Add(-5 * time.Millisecond),
			Headers: []h{{Key: []byte("repeated"), Value: []byte("one")}, {Key: []byte("repeated"), Value: []byte("two")}}},
		{Key: sarama.StringEncoder("k3"), Value: sarama.StringEncoder("v3"), Timestamp: base.Add(30 * time.Minute),
			Headers: []h{{Key: []byte("ünïcode"), Value: []byte("välue")}, {Key: []byte("empty"), Value: []byte{}}}},
	}
	for _, m := range msgs {
		m.Topic = topic
	}
	p := newSyncProducer(config(true))
	send(p, msgs)
	must(p.Close(), "close producer")
	got := readPartitions(config(true), topic, map[int32]int64{0: 0}, map[int32]int{0: len(msgs)})[0]
	for i, m := range got {
		want := msgs[i]
		same(m.Offset, int64(i), "offset")
		same([]interface{}{m.Key == nil, string(m.Key), m.Value == nil, string(m.Value)},
			[]interface{}{want.Key == nil, encoded(want.Key), want.Value == nil, encoded(want.Value)}, fmt.Sprintf("key and value of record %d", i))
		var headers []string
		for _, hd := range m.Headers {
			headers = append(headers, fmt.Sprintf("%q=%x", hd.Key, hd.Value))
		}
		var wantHeaders []string
		for _, hd := range want.Headers {
			wantHeaders = append(wantHeaders, fmt.Sprintf("%q=%x", hd.Key, hd.Value))
		}
		same(headers, wantHeaders, fmt.Sprintf("headers of record %d", i))
		same(m.Timestamp.UnixNano()/1e6, want.Timestamp.UnixNano()/1e6, fmt.Sprintf("timestamp of record %d", i))
	}
}

// groupRead joins a fresh consumer group and hands every record to onRecord until it returns
// true; ready runs once the first claim starts, when the start offsets are known.
func groupRead(c *sarama.Config, group, topic string, ready func(), onRecord func(*sarama.ConsumerMessage) bool) {
	cg, err := sarama.NewConsumerGroup([]string{bootstrap}, group, c)
	must(err, "consumer group")
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	h := &readHandler{ready: ready, onRecord: onRecord, cancel: cancel}
	for ctx.Err() == nil {
		must(cg.Consume(ctx, []string{topic}, h), "consume")
	}
	must(cg.Close(), "close consumer group")
	if !h.done {
		fail("timed out reading %s in group %s", topic, group)
	}
}

type readHandler struct {
	mu       sync.Mutex
	ready    func()
	onRecord func(*sarama.ConsumerMessage) bool
	cancel   func()
	done     bool
}

func (h *readHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *readHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *readHandler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	h.mu.Lock()
	if h.ready != nil {
		h.ready()
		h.ready = nil
	}
	h.mu.Unlock()
	for m := range claim.Messages() {
		h.mu.Lock()
		if !h.done && h.onRecord(m) {
			h.done = true
			h.cancel()
		}
		h.mu.Unlock()
		s.MarkMessage(m, "")
	}
	return nil
}

func consumeFromEarliest() {
	topic := prefix + "-early"
	createTopic(topic, 2, nil)
	p := newSyncProducer(config(true))
	sent := map[int32][]record{}
	msgs := makeMessages(topic, "e", 0, 12)
	sendAll(p, msgs, sent, true)
	must(p.Close(), "close producer")
	c := config(true)
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	got := map[int32][]record{}
	groupRead(c, prefix+"-g", topic, nil, func(m *sarama.ConsumerMessage) bool {
		got[m.Partition] = append(got[m.Partition], records([]*sarama.ConsumerMessage{m})[0])
		return len(got[0])+len(got[1]) >= len(msgs)
	})
	same(got, sent, "records read from earliest")
}

func consumeFromLatest() {
	topic := prefix + "-late"
	createTopic(topic, 1, nil)
	p := newSyncProducer(config(true))
	defer p.Close()
	old := map[int32][]record{}
	sendAll(p, makeMessages(topic, "old", 0, 10), old, true)
	fresh := makeMessages(topic, "new", 10, 10)
	var got []record
	sendErr := make(chan error, 1)
	// The default start for a group without offsets is the newest offset.
	groupRead(config(true), prefix+"-g", topic, func() {
		go func() { sendErr <- p.SendMessages(fresh) }()
	}, func(m *sarama.ConsumerMessage) bool {
		got = append(got, records([]*sarama.ConsumerMessage{m})[0])
		return len(got) >= len(fresh)
	})
	must(<-sendErr, "send the new records")
	var want []record
	for i, m := range fresh {
		want = append(want, record{Partition: 0, Offset: int64(10 + i), Key: encoded(m.Key), Value: encoded(m.Value)})
	}
	same(got, want, "records read from latest")
}

func consumeFromTimestamp() {
	topic := prefix + "-ts"
	createTopic(topic, 1, nil)
	base := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
	msgs := makeMessages(topic, "t", 0, 10)
	for i, m := range msgs {
		m.Timestamp = base.Add(time.Duration(i) * time.Second)
	}
	p := newSyncProducer(config(true))
	send(p, msgs)
	must(p.Close(), "close producer")
	client, err := sarama.NewClient([]string{bootstrap}, config(true))
	must(err, "client")
	ms := func(t time.Time) int64 { return t.UnixNano() / 1e6 }
	var offsets []int64
	for _, ts := range []int64{ms(base) - 1, ms(base) + 4500, ms(base) + 9000} {
		o, err := client.GetOffset(topic, 0, ts)
		must(err, "offset for a timestamp")
		offsets = append(offsets, o)
	}
	client.Close()
	same(offsets, []int64{0, 5, 9}, "offsets for timestamps before the first, between the 5th and 6th, and at the last record")
	got := readPartitions(config(true), topic, map[int32]int64{0: 5}, map[int32]int{0: 5})[0]
	for i, m := range got {
		same([]interface{}{m.Offset, string(m.Value), ms(m.Timestamp)}, []interface{}{int64(5 + i), encoded(msgs[5+i].Value), ms(msgs[5+i].Timestamp)},
			"record from the timestamp on")
	}
}

func consumeFromMidBatch() {
	topic := prefix + "-mid"
	createTopic(topic, 1, nil)
	// Record batches exist from Kafka 0.11 on; the ten records must leave as one batch, so the
	// producer holds them until all ten are there.
	c := config(true)
	c.Producer.Flush.Messages = 10
	c.Producer.Flush.Frequency = time.Second
	p := newSyncProducer(c)
	sent := map[int32][]record{}
	sendAll(p, makeMessages(topic, "m", 0, 10), sent, true)
	must(p.Close(), "close producer")
	got := records(readPartitions(config(true), topic, map[int32]int64{0: 4}, map[int32]int{0: 6})[0])
	same(got, sent[0][4:], "records from offset 4")
}

// ---- offsets-restart ----

func offsetsRestart(phase string) {
	topic := prefix + "-off"
	groupID := prefix + "-g"
	msgs := makeMessages(topic, "o", 0, 10)
	c := config(true)
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	switch phase {
	case "commit":
		createTopic(topic, 1, nil)
		p := newSyncProducer(config(true))
		sent := map[int32][]record{}
		sendAll(p, msgs, sent, true)
		must(p.Close(), "close producer")
		// Mark progress part-way, as a consumer that processed six records would; closing the
		// group commits what was marked.
		cg, err := sarama.NewConsumerGroup([]string{bootstrap}, groupID, c)
		must(err, "consumer group")
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		h := &partialHandler{cancel: cancel}
		for ctx.Err() == nil {
			must(cg.Consume(ctx, []string{topic}, h), "consume")
		}
		must(cg.Close(), "close consumer group")
		cancel()
		same(h.got, sent[0], "records before the restart")
	case "verify":
		admin := newAdmin()
		resp, err := admin.ListConsumerGroupOffsets(groupID, map[string][]int32{topic: {0}})
		must(err, "fetch committed offsets")
		block := resp.GetBlock(topic, 0)
		if block == nil {
			fail("no committed offset for partition 0")
		}
		same([]interface{}{block.Err, block.Offset}, []interface{}{sarama.ErrNoError, int64(6)}, "committed offset after the restart")
		admin.Close()
		var got []record
		groupRead(c, groupID, topic, nil, func(m *sarama.ConsumerMessage) bool {
			got = append(got, records([]*sarama.ConsumerMessage{m})[0])
			return len(got) >= 4
		})
		var want []record
		for i, m := range msgs[6:] {
			want = append(want, record{Partition: 0, Offset: int64(6 + i), Key: encoded(m.Key), Value: encoded(m.Value)})
		}
		same(got, want, "records after the committed offset")
		p := newSyncProducer(config(true))
		m := &sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder("after restart")}
		_, offset, err := p.SendMessage(m)
		must(err, "send after the restart")
		p.Close()
		same(offset, int64(10), "offset of the first record written after the restart")
	default:
		fail("unknown phase %q", phase)
	}
}

type partialHandler struct {
	mu     sync.Mutex
	got    []record
	cancel func()
}

func (h *partialHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *partialHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *partialHandler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		h.mu.Lock()
		h.got = append(h.got, records([]*sarama.ConsumerMessage{m})[0])
		if m.Offset == 5 {
			s.MarkMessage(m, "")
		}
		if len(h.got) == 10 {
			h.cancel()
		}
		h.mu.Unlock()
	}
	return nil
}

// ---- admin ----

func adminScenario() {
	topic := prefix + "-adm"
	admin := newAdmin()
	defer admin.Close()
	str := func(s string) *string { return &s }
	must(admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1,
		ConfigEntries: map[string]*string{"retention.ms": str("3600000"), "cleanup.policy": str("compact")}}, false), "create topic")
	err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false)
	if te, ok := err.(*sarama.TopicError); !ok || te.Err != sarama.ErrTopicAlreadyExists {
		fail("creating the topic a second time: expected TOPIC_ALREADY_EXISTS, got %v", err)
	}
	meta, err := admin.DescribeTopics([]string{topic})
	must(err, "describe topic")
	same([]interface{}{len(meta), meta[0].Err, len(meta[0].Partitions)}, []interface{}{1, sarama.ErrNoError, 2}, "topic metadata")

	describe := func() map[string]string {
		entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic,
			ConfigNames: []string{"retention.ms", "cleanup.policy"}})
		must(err, "describe configs")
		out := map[string]string{}
		for _, e := range entries {
			out[e.Name] = fmt.Sprintf("%s default=%v", e.Value, e.Default)
		}
		return out
	}
	same(describe(), map[string]string{"retention.ms": "3600000 default=false", "cleanup.policy": "compact default=false"}, "configs after create")
	// AlterConfigs replaces a resource's whole set of overrides: cleanup.policy returns to its default.
	must(admin.AlterConfig(sarama.TopicResource, topic, map[string]*string{"retention.ms": str("7200000")}, false), "alter configs")
	same(describe(), map[string]string{"retention.ms": "7200000 default=false", "cleanup.policy": "delete default=true"}, "configs after alter")

	must(admin.CreatePartitions(topic, 3, nil, false), "create partitions")
	meta, err = admin.DescribeTopics([]string{topic})
	must(err, "describe topic")
	same(len(meta[0].Partitions), 3, "partition count after CreatePartitions")

	must(admin.DeleteTopic(topic), "delete topic")
	waitFor("the deleted topic to leave the topic list", func() bool {
		topics, err := admin.ListTopics()
		must(err, "list topics")
		_, present := topics[topic]
		return !present
	})
}

// ---- metadata ----

func metadata() {
	topic := prefix + "-meta"
	createTopic(topic, 3, nil)
	client, err := sarama.NewClient([]string{bootstrap}, config(false))
	must(err, "client")
	defer client.Close()
	brokers := client.Brokers()
	if len(brokers) != 1 {
		fail("expected one broker, got %d", len(brokers))
	}
	same(brokers[0].Addr(), bootstrap, "broker address")
	id := brokers[0].ID()
	partitions, err := client.Partitions(topic)
	must(err, "partitions")
	same(partitions, []int32{0, 1, 2}, "partitions of the new topic")
	for _, p := range partitions {
		leader, err := client.Leader(topic, p)
		must(err, "leader")
		replicas, err := client.Replicas(topic, p)
		must(err, "replicas")
		isr, err := client.InSyncReplicas(topic, p)
		must(err, "in-sync replicas")
		same([]interface{}{leader.ID(), replicas, isr}, []interface{}{id, []int32{id}, []int32{id}}, fmt.Sprintf("partition %d", p))
	}
	topics, err := client.Topics()
	must(err, "topics")
	found := false
	for _, t := range topics {
		found = found || t == topic
	}
	if !found {
		fail("the new topic is not listed")
	}
	// sarama 1.22's DescribeCluster asks with Metadata v0, which has no controller field; its
	// client finds the controller with v1 once the version allows it.
	modern, err := sarama.NewClient([]string{bootstrap}, config(true))
	must(err, "client")
	defer modern.Close()
	controller, err := modern.Controller()
	must(err, "controller")
	same(controller.ID(), id, "controller id")
}

// ---- idempotence ----

func idempotent() {
	topic := prefix + "-idem"
	createTopic(topic, 2, nil)
	c := config(true)
	// The settings sarama requires before it enables idempotence.
	c.Producer.Idempotent = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Net.MaxOpenRequests = 1
	c.Producer.Partitioner = sarama.NewManualPartitioner
	p := newSyncProducer(c)
	sent := map[int32][]record{}
	for round := 0; round < 5; round++ {
		var msgs []*sarama.ProducerMessage
		for part := int32(0); part < 2; part++ {
			for _, m := range makeMessages(topic, fmt.Sprintf("r%dp%d", round, part), round*20, 20) {
				m.Partition = part
				msgs = append(msgs, m)
			}
		}
		sendAll(p, msgs, sent, true)
	}
	must(p.Close(), "close producer")
	checkSent(config(true), topic, sent, "idempotent produce")
}

func run(scenario, phase string) {
	codecs := map[string]sarama.CompressionCodec{"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP,
		"snappy": sarama.CompressionSnappy, "lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD}
	if strings.HasPrefix(scenario, "produce-consume-") {
		codec, ok := codecs[strings.TrimPrefix(scenario, "produce-consume-")]
		if !ok {
			panic(notApplicable{"unknown codec in " + scenario})
		}
		produceConsume(codec)
		return
	}
	switch scenario {
	case "metadata":
		metadata()
	case "headers-keys-timestamps":
		headersKeysTimestamps()
	case "acks-0":
		acks(sarama.NoResponse)
	case "acks-1":
		acks(sarama.WaitForLocal)
	case "acks-all":
		acks(sarama.WaitForAll)
	case "consume-from-earliest":
		consumeFromEarliest()
	case "consume-from-latest":
		consumeFromLatest()
	case "consume-from-timestamp":
		consumeFromTimestamp()
	case "consume-from-mid-batch":
		consumeFromMidBatch()
	case "group":
		if phase == "member" {
			groupMember()
		} else {
			group()
		}
	case "offsets-restart":
		offsetsRestart(phase)
	case "admin":
		adminScenario()
	case "idempotent":
		idempotent()
	case "transactions":
		panic(notApplicable{"sarama 1.22 has no transactional producer (it came in sarama 1.37)"})
	default:
		panic(notApplicable{"unknown scenario " + scenario})
	}
}

func main() {
	if len(os.Args) < 2 || bootstrap == "" || prefix == "" {
		fmt.Fprintln(os.Stderr, "usage: SAMSA_BOOTSTRAP=... SAMSA_TOPIC=... sarama-client <scenario> [<phase>]")
		os.Exit(1)
	}
	seconds, err := strconv.Atoi(os.Getenv("SAMSA_TIMEOUT_S"))
	if err != nil || seconds <= 0 {
		seconds = 60
	}
	// Leave a margin so that a scenario that waits too long fails with its own reason, not a kill.
	margin := 3 * time.Second
	if time.Duration(seconds)*time.Second < 8*time.Second {
		margin = 0
	}
	deadline = time.Now().Add(time.Duration(seconds)*time.Second - margin)
	phase := ""
	if len(os.Args) > 2 {
		phase = os.Args[2]
	}
	defer func() {
		switch r := recover().(type) {
		case nil:
		case failure:
			fmt.Fprintln(os.Stderr, strings.ReplaceAll(r.reason, "\n", " "))
			os.Exit(1)
		case notApplicable:
			fmt.Println(r.reason)
			os.Exit(3)
		default:
			fmt.Fprintf(os.Stderr, "%s\nsarama panicked: %v\n", debug.Stack(), r)
			os.Exit(1)
		}
	}()
	run(os.Args[1], phase)
}
