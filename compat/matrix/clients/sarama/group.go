// The group scenario of the sarama matrix client: three member processes (this program run as
// `group member`) share a 6-partition topic; one leaves cleanly, one is killed, and each time the
// parent checks that the partitions moved and that their new owners read them.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"reflect"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/Shopify/sarama"
)

const sessionTimeout = 6 * time.Second

type memberHandler struct{ out *json.Encoder }

func (h *memberHandler) Setup(s sarama.ConsumerGroupSession) error {
	assigned := append([]int32{}, s.Claims()[prefix+"-grp"]...)
	sort.Slice(assigned, func(i, j int) bool { return assigned[i] < assigned[j] })
	return h.out.Encode(map[string]interface{}{"assigned": assigned})
}
func (h *memberHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *memberHandler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		if err := h.out.Encode(map[string]interface{}{"partition": m.Partition, "value": string(m.Value)}); err != nil {
			return err
		}
		s.MarkMessage(m, "")
	}
	return nil
}

func groupMember() {
	c := config(true)
	c.Consumer.Group.Session.Timeout = sessionTimeout
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	cg, err := sarama.NewConsumerGroup([]string{bootstrap}, prefix+"-g", c)
	must(err, "consumer group")
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	go func() { <-stop; cancel() }()
	h := &memberHandler{out: json.NewEncoder(os.Stdout)}
	for ctx.Err() == nil {
		if err := cg.Consume(ctx, []string{prefix + "-grp"}, h); err != nil {
			fail("consume: %v", err)
		}
	}
	// Close leaves the group, so that the others take over at once.
	must(cg.Close(), "leave the group")
}

type member struct {
	name     string
	cmd      *exec.Cmd
	mu       sync.Mutex
	assigned []int32
	values   map[string]bool
	exited   chan struct{}
	exitErr  error
}

func startMember(name string) *member {
	m := &member{name: name, values: map[string]bool{}, exited: make(chan struct{})}
	m.cmd = exec.Command(os.Args[0], "group", "member")
	m.cmd.Stderr = os.Stderr
	out, err := m.cmd.StdoutPipe()
	must(err, "member pipe")
	must(m.cmd.Start(), "start member")
	go func() {
		scanner := bufio.NewScanner(out)
		for scanner.Scan() {
			var ev struct {
				Assigned  *[]int32
				Partition int32
				Value     *string
			}
			if json.Unmarshal(scanner.Bytes(), &ev) != nil {
				continue
			}
			m.mu.Lock()
			if ev.Assigned != nil {
				m.assigned = *ev.Assigned
			}
			if ev.Value != nil {
				m.values[fmt.Sprintf("%d:%s", ev.Partition, *ev.Value)] = true
			}
			m.mu.Unlock()
		}
		m.exitErr = m.cmd.Wait()
		close(m.exited)
	}()
	return m
}

func (m *member) partitions() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int32{}, m.assigned...)
}

func (m *member) read(v string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.values[v]
}

func (m *member) hasExited() bool {
	select {
	case <-m.exited:
		return true
	default:
		return false
	}
}

// splitsPartitions: the live members' latest assignments cover 0..5 with no overlap and no gap.
func splitsPartitions(members ...*member) bool {
	var all []int
	for _, m := range members {
		ps := m.partitions()
		if len(ps) == 0 {
			return false
		}
		for _, p := range ps {
			all = append(all, int(p))
		}
	}
	sort.Ints(all)
	return reflect.DeepEqual(all, []int{0, 1, 2, 3, 4, 5})
}

// checkOwnersRead writes one record per partition; each must reach the member owning it now.
func checkOwnersRead(p sarama.SyncProducer, topic, round string, members ...*member) {
	var msgs []*sarama.ProducerMessage
	for part := int32(0); part < 6; part++ {
		msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Partition: part, Value: sarama.StringEncoder(fmt.Sprintf("%s-%d", round, part))})
	}
	send(p, msgs)
	for _, m := range members {
		for _, part := range m.partitions() {
			want := fmt.Sprintf("%d:%s-%d", part, round, part)
			waitFor(fmt.Sprintf("member %s to read %s", m.name, want), func() bool { return m.read(want) })
		}
	}
}

func group() {
	topic := prefix + "-grp"
	createTopic(topic, 6, nil)
	c := config(true)
	c.Producer.Partitioner = sarama.NewManualPartitioner
	p := newSyncProducer(c)
	defer p.Close()
	a, b, cm := startMember("a"), startMember("b"), startMember("c")
	defer func() {
		for _, m := range []*member{a, b, cm} {
			if !m.hasExited() {
				m.cmd.Process.Kill()
			}
		}
	}()
	waitFor("three members to share the six partitions", func() bool { return splitsPartitions(a, b, cm) })
	checkOwnersRead(p, topic, "three", a, b, cm)

	before := fmt.Sprint(b.partitions(), cm.partitions())
	must(a.cmd.Process.Signal(syscall.SIGTERM), "stop member a")
	waitFor("member a to leave and exit", a.hasExited)
	if a.exitErr != nil {
		fail("member a did not leave cleanly: %v", a.exitErr)
	}
	left := time.Now()
	waitFor("a's partitions to move to b and c", func() bool {
		return splitsPartitions(b, cm) && fmt.Sprint(b.partitions(), cm.partitions()) != before
	})
	// A clean leave rebalances at once; only a lost LeaveGroup would wait for the session timeout.
	if took := time.Since(left); took >= sessionTimeout {
		fail("rebalance after a clean leave took %v", took)
	}
	checkOwnersRead(p, topic, "two", b, cm)

	must(b.cmd.Process.Kill(), "kill member b")
	waitFor("the killed member b to be expired and its partitions to move to c", func() bool { return splitsPartitions(cm) })
	checkOwnersRead(p, topic, "one", cm)
	must(cm.cmd.Process.Signal(syscall.SIGTERM), "stop member c")
	waitFor("member c to exit", cm.hasExited)
}
