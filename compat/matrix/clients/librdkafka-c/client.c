/* The matrix scenarios with librdkafka's C API (Debian librdkafka-dev).
 *
 * Usage: client <scenario> [<phase>], or client group-member <topic> <group> for one member of
 * the group scenario (started by the group scenario itself). Environment: SAMSA_BOOTSTRAP,
 * SAMSA_TOPIC, SAMSA_TIMEOUT_S. Exit status 0 pass, 1 fail (reason on the last stderr line).
 * Every handle is built with librdkafka's defaults plus the bootstrap address and the settings a
 * scenario is about. Scenarios check content: values, keys, headers, timestamps and offsets. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *bootstrap;
static char topic_prefix[200];

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    /* _exit: destroying live handles would log after the reason line. */
    fflush(stderr);
    _exit(1);
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
    char err[512];
    if (rd_kafka_conf_set(conf, name, value, err, sizeof err) != RD_KAFKA_CONF_OK) fail("setting %s: %s", name, err);
}

static rd_kafka_conf_t *new_conf(void) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    return conf;
}

static rd_kafka_t *new_handle(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) fail("rd_kafka_new: %s", err);
    return rk;
}

static void topic_name(char *out, size_t size) { snprintf(out, size, "%s-t", topic_prefix); }

/* Values are repetitive text, so that every codec has something to compress. */
static void value_of(char *out, size_t size, const char *tag, int i) {
    snprintf(out, size, "%s-%05d-payload payload payload payload payload payload payload payload", tag, i);
}

/* Admin ------------------------------------------------------------------------------------------- */

static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q, rd_kafka_event_type_t type) {
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 20000);
    if (!ev) fail("no admin result within 20s");
    if (rd_kafka_event_type(ev) != type) fail("unexpected admin event %s", rd_kafka_event_name(ev));
    if (rd_kafka_event_error(ev)) fail("admin request: %s", rd_kafka_event_error_string(ev));
    return ev;
}

static void check_topic_results(const rd_kafka_topic_result_t **results, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        if (rd_kafka_topic_result_error(results[i]))
            fail("%s %s: %s", what, rd_kafka_topic_result_name(results[i]), rd_kafka_topic_result_error_string(results[i]));
}

static void create_topic(const char *topic, int partitions, const char *const *configs) {
    rd_kafka_t *rk = new_handle(RD_KAFKA_PRODUCER, new_conf());
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    char err[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err);
    if (!nt) fail("NewTopic: %s", err);
    for (int i = 0; configs && configs[i]; i += 2) rd_kafka_NewTopic_set_config(nt, configs[i], configs[i + 1]);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    size_t n;
    const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    check_topic_results(res, n, "CreateTopics");
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

/* Partitions of topic as a metadata request for all topics lists it (0: no such topic); asking
 * for the one topic by name could create it. */
static int partition_count(rd_kafka_t *rk, const char *topic) {
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, 10000);
    if (e) fail("metadata: %s", rd_kafka_err2str(e));
    int count = 0;
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, topic) == 0 && !md->topics[i].err) count = md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
    return count;
}

/* Produce ----------------------------------------------------------------------------------------- */

struct record {
    char value[128];
    char key[32];
    bool has_key;
    int header_count;
    const char *header_names[4];
    char header_values[4][16];
    size_t header_sizes[4];
    int64_t timestamp; /* 0: the producer's clock */
    int32_t partition;
    int64_t offset;    /* from the delivery report, or when read */
    rd_kafka_timestamp_type_t timestamp_type;
};

struct delivery {
    int64_t *offsets;
    int failed;
    char error[256];
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)opaque;
    struct delivery *d = rd_kafka_opaque(rk);
    if (m->err) {
        if (!d->failed++) snprintf(d->error, sizeof d->error, "%s", rd_kafka_err2str(m->err));
        return;
    }
    d->offsets[(intptr_t)m->_private] = m->offset;
}

/* settings: NULL-terminated name/value pairs a scenario is about. */
static rd_kafka_t *new_producer(const char *const *settings, struct delivery *d) {
    rd_kafka_conf_t *conf = new_conf();
    for (int i = 0; settings && settings[i]; i += 2) set(conf, settings[i], settings[i + 1]);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, d);
    return new_handle(RD_KAFKA_PRODUCER, conf);
}

static void send_records(rd_kafka_t *rk, const char *topic, struct record *records, int n) {
    for (int i = 0; i < n; i++) {
        struct record *r = &records[i];
        rd_kafka_headers_t *h = NULL;
        if (r->header_count) {
            h = rd_kafka_headers_new(r->header_count);
            for (int j = 0; j < r->header_count; j++)
                rd_kafka_header_add(h, r->header_names[j], -1, r->header_values[j], (ssize_t)r->header_sizes[j]);
        }
        rd_kafka_resp_err_t e;
        do {
            e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(r->partition),
                                  RD_KAFKA_V_VALUE(r->value, strlen(r->value)),
                                  RD_KAFKA_V_KEY(r->has_key ? r->key : NULL, r->has_key ? strlen(r->key) : 0),
                                  RD_KAFKA_V_TIMESTAMP(r->timestamp), RD_KAFKA_V_HEADERS(h),
                                  RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) rd_kafka_poll(rk, 100);
        } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
        if (e) fail("produce: %s", rd_kafka_err2str(e));
        rd_kafka_poll(rk, 0);
    }
}

/* Produces every record and waits for its delivery report; fills in the offsets. */
static void produce(const char *topic, struct record *records, int n, const char *const *settings) {
    struct delivery d = {.offsets = calloc((size_t)n, sizeof(int64_t))};
    rd_kafka_t *rk = new_producer(settings, &d);
    send_records(rk, topic, records, n);
    if (rd_kafka_flush(rk, 20000)) fail("%d records were not delivered within 20s", rd_kafka_outq_len(rk));
    char fatal[512];
    /* A fatal error (such as an idempotent producer the broker cannot serve) purges the queue:
     * the deliveries then fail with "purged", and the fatal error is the reason. */
    if (rd_kafka_fatal_error(rk, fatal, sizeof fatal)) fail("fatal producer error: %s", fatal);
    if (d.failed) fail("%d deliveries failed: %s", d.failed, d.error);
    for (int i = 0; i < n; i++) records[i].offset = d.offsets[i];
    rd_kafka_destroy(rk);
    free(d.offsets);
}

static struct record *plain_records(const char *tag, int n) {
    struct record *r = calloc((size_t)n, sizeof *r);
    for (int i = 0; i < n; i++) value_of(r[i].value, sizeof r[i].value, tag, i);
    return r;
}

/* Read ---------------------------------------------------------------------------------------------- */

struct reader {
    rd_kafka_t *rk;
    bool at_end;
    int64_t end_offset;
};

static void reader_open(struct reader *rd, const char *topic, int64_t start, const char *isolation) {
    rd_kafka_conf_t *conf = new_conf();
    char group[256];
    snprintf(group, sizeof group, "%s-reader", topic);
    set(conf, "group.id", group);
    set(conf, "enable.partition.eof", "true");
    set(conf, "enable.auto.commit", "false");
    if (isolation) set(conf, "isolation.level", isolation);
    rd->rk = new_handle(RD_KAFKA_CONSUMER, conf);
    rd->at_end = false;
    rd_kafka_topic_partition_list_t *tps = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tps, topic, 0)->offset = start;
    rd_kafka_resp_err_t e = rd_kafka_assign(rd->rk, tps);
    if (e) fail("assign: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(tps);
}

/* One poll: appends a record to out (if there is room) and returns 1, 0 on nothing or end. */
static int reader_poll(struct reader *rd, struct record *out, int room) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rd->rk, 200);
    if (!m) return 0;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        rd->at_end = true;
        rd->end_offset = m->offset;
        rd_kafka_message_destroy(m);
        return 0;
    }
    if (m->err) fail("consume: %s", rd_kafka_message_errstr(m));
    rd->at_end = false;
    if (room <= 0) fail("read more records than expected (offset %" PRId64 ")", m->offset);
    memset(out, 0, sizeof *out);
    snprintf(out->value, sizeof out->value, "%.*s", (int)m->len, (const char *)m->payload);
    if (m->key) {
        out->has_key = true;
        snprintf(out->key, sizeof out->key, "%.*s", (int)m->key_len, (const char *)m->key);
    }
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *name;
        const void *val;
        size_t size;
        for (size_t i = 0; out->header_count < 4 && rd_kafka_header_get_all(h, i, &name, &val, &size) == 0; i++) {
            out->header_names[out->header_count] = strdup(name);
            memcpy(out->header_values[out->header_count], val, size < 16 ? size : 16);
            out->header_sizes[out->header_count++] = size;
        }
    }
    out->timestamp = rd_kafka_message_timestamp(m, &out->timestamp_type);
    out->offset = m->offset;
    out->partition = m->partition;
    rd_kafka_message_destroy(m);
    return 1;
}

/* Reads until the partition's end (at the last stable offset under read_committed). */
static int reader_to_end(struct reader *rd, struct record *out, int room, double timeout) {
    double deadline = mono_s() + timeout;
    int n = 0;
    rd->at_end = false;
    while (!rd->at_end) {
        if (mono_s() > deadline) fail("the end of the partition was not reached within %.0fs (%d records read)", timeout, n);
        n += reader_poll(rd, out + n, room - n);
    }
    return n;
}

static void reader_close(struct reader *rd) {
    rd_kafka_consumer_close(rd->rk);
    rd_kafka_destroy(rd->rk);
}

static int read_all(const char *topic, int64_t start, const char *isolation, struct record *out, int room) {
    struct reader rd;
    reader_open(&rd, topic, start, isolation);
    int n = reader_to_end(&rd, out, room, 20);
    reader_close(&rd);
    return n;
}

/* got[0..n) must be exactly the values of want[0..count) at consecutive offsets from first. */
static void check_sequence(const struct record *got, int n, const struct record *want, int count, int64_t first,
                           const char *what) {
    if (n != count) fail("%s: read %d records, expected %d", what, n, count);
    for (int i = 0; i < n; i++) {
        if (strcmp(got[i].value, want[i].value) != 0)
            fail("%s: offset %" PRId64 " holds %s, expected %s", what, got[i].offset, got[i].value, want[i].value);
        if (got[i].offset != first + i) fail("%s: record %d is at offset %" PRId64 ", expected %" PRId64, what, i, got[i].offset, first + i);
    }
}

/* Scenarios ------------------------------------------------------------------------------------------ */

static void scenario_metadata(void) {
    char topic[256];
    topic_name(topic, sizeof topic);
    rd_kafka_t *rk = new_handle(RD_KAFKA_PRODUCER, new_conf());
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, 10000);
    if (e) fail("metadata: %s", rd_kafka_err2str(e));
    char expected_host[128];
    snprintf(expected_host, sizeof expected_host, "%s", bootstrap);
    char *colon = strrchr(expected_host, ':');
    *colon = '\0';
    if (md->broker_cnt != 1 || md->brokers[0].id != 1 || strcmp(md->brokers[0].host, expected_host) != 0 ||
        md->brokers[0].port != atoi(colon + 1))
        fail("metadata lists %d brokers, first %d at %s:%d; expected node 1 at %s", md->broker_cnt,
             md->broker_cnt ? md->brokers[0].id : -1, md->broker_cnt ? md->brokers[0].host : "", md->broker_cnt ? md->brokers[0].port : 0,
             bootstrap);
    rd_kafka_metadata_destroy(md);
    if (partition_count(rk, topic) != 0) fail("%s exists before it was created", topic);
    create_topic(topic, 3, NULL);
    if (partition_count(rk, topic) != 3) fail("%s has %d partitions, expected 3", topic, partition_count(rk, topic));
    rd_kafka_destroy(rk);
}

static void produce_consume(const char *const *settings, bool offsets_known) {
    char topic[256];
    topic_name(topic, sizeof topic);
    create_topic(topic, 1, NULL);
    enum { n = 300 };
    struct record *sent = plain_records("m", n), *got = calloc(n, sizeof *got);
    produce(topic, sent, n, settings);
    for (int i = 0; offsets_known && i < n; i++)
        if (sent[i].offset != i) fail("delivery report %d gave offset %" PRId64, i, sent[i].offset);
    check_sequence(got, read_all(topic, RD_KAFKA_OFFSET_BEGINNING, NULL, got, n), sent, n, 0, "consume");
}

static void scenario_codec(const char *codec) {
    const char *settings[] = {"compression.type", codec, NULL};
    produce_consume(settings, true);
}

static void scenario_acks(const char *acks) {
    const char *settings[] = {"acks", acks, NULL};
    produce_consume(settings, strcmp(acks, "0") != 0);
}

static void scenario_headers_keys_timestamps(void) {
    char topic[256];
    topic_name(topic, sizeof topic);
    create_topic(topic, 1, NULL);
    enum { n = 50 };
    int64_t base = now_ms() - 3600000; /* an hour ago: not what the broker would stamp */
    struct record *sent = calloc(n, sizeof *sent), *got = calloc(n, sizeof *got);
    for (int i = 0; i < n; i++) {
        struct record *r = &sent[i];
        snprintf(r->value, sizeof r->value, "v-%d", i);
        r->has_key = i % 7 != 0;
        if (r->has_key) snprintf(r->key, sizeof r->key, "key-%d", i);
        r->timestamp = base + i * 10;
        if (i % 5 != 0) {
            /* A repeated name, and a binary value with a zero byte. */
            r->header_count = 3;
            r->header_names[0] = "trace", r->header_names[1] = "bin", r->header_names[2] = "trace";
            r->header_sizes[0] = (size_t)snprintf(r->header_values[0], 16, "t-%d", i);
            r->header_values[1][0] = 0, r->header_values[1][1] = (char)255, r->header_values[1][2] = (char)i;
            r->header_sizes[1] = 3;
            r->header_sizes[2] = (size_t)snprintf(r->header_values[2], 16, "second");
        }
    }
    produce(topic, sent, n, NULL);
    check_sequence(got, read_all(topic, RD_KAFKA_OFFSET_BEGINNING, NULL, got, n), sent, n, 0, "consume");
    for (int i = 0; i < n; i++) {
        if (got[i].has_key != sent[i].has_key || strcmp(got[i].key, sent[i].key) != 0)
            fail("offset %d: key %s, sent %s", i, got[i].has_key ? got[i].key : "(null)", sent[i].has_key ? sent[i].key : "(null)");
        if (got[i].timestamp_type != RD_KAFKA_TIMESTAMP_CREATE_TIME || got[i].timestamp != sent[i].timestamp)
            fail("offset %d: timestamp %" PRId64 " (type %d), sent %" PRId64 " (CreateTime)", i, got[i].timestamp,
                 (int)got[i].timestamp_type, sent[i].timestamp);
        if (got[i].header_count != sent[i].header_count)
            fail("offset %d: %d headers, sent %d", i, got[i].header_count, sent[i].header_count);
        for (int j = 0; j < sent[i].header_count; j++)
            if (strcmp(got[i].header_names[j], sent[i].header_names[j]) != 0 || got[i].header_sizes[j] != sent[i].header_sizes[j] ||
                memcmp(got[i].header_values[j], sent[i].header_values[j], sent[i].header_sizes[j]) != 0)
                fail("offset %d: header %d is %s (%zu bytes), sent %s (%zu bytes)", i, j, got[i].header_names[j],
                     got[i].header_sizes[j], sent[i].header_names[j], sent[i].header_sizes[j]);
    }
}

static void scenario_consume_from_earliest(void) {
    char topic[256];
    topic_name(topic, sizeof topic);
    create_topic(topic, 1, NULL);
    enum { n = 200 };
    struct record *sent = plain_records("e", n), *got = calloc(n, sizeof *got);
    produce(topic, sent, n, NULL);
    check_sequence(got, read_all(topic, RD_KAFKA_OFFSET_BEGINNING, NULL, got, n), sent, n, 0, "from earliest");
}

static void scenario_consume_from_latest(void) {
    char topic[256];
    topic_name(topic, sizeof topic);
    create_topic(topic, 1, NULL);
    enum { n = 100 };
    struct record *old = plain_records("old", n), *fresh = plain_records("new", n), *got = calloc(n, sizeof *got);
    produce(topic, old, n, NULL);
    struct reader rd;
    reader_open(&rd, topic, RD_KAFKA_OFFSET_END, NULL);
    /* The end-of-partition event says "latest" was resolved and fetched from. */
    if (reader_to_end(&rd, got, 0, 15) != 0 || rd.end_offset != n)
        fail("the reader at latest reached the end at offset %" PRId64 ", expected %d", rd.end_offset, n);
    produce(topic, fresh, n, NULL);
    check_sequence(got, reader_to_end(&rd, got, n, 15), fresh, n, n, "from latest");
    reader_close(&rd);
}

static void scenario_consume_from_timestamp(void) {
    char topic[256];
    topic_name(topic, sizeof topic);
    create_topic(topic, 1, NULL);
    enum { n = 200, first = 120 };
    int64_t base = now_ms() - 3600000;
    struct record *sent = plain_records("ts", n), *got = calloc(n, sizeof *got);
    for (int i = 0; i < n; i++) sent[i].timestamp = base + i * 1000;
    produce(topic, sent, n, NULL);
    rd_kafka_conf_t *conf = new_conf();
    set(conf, "group.id", topic);
    rd_kafka_t *rk = new_handle(RD_KAFKA_CONSUMER, conf);
    rd_kafka_topic_partition_list_t *tps = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tps, topic, 0)->offset = base + first * 1000 - 500;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, tps, 10000);
    if (e || tps->elems[0].err) fail("offsets_for_times: %s", rd_kafka_err2str(e ? e : tps->elems[0].err));
    int64_t offset = tps->elems[0].offset;
    if (offset != first) fail("offset for the timestamp is %" PRId64 ", expected %d", offset, first);
    rd_kafka_topic_partition_list_destroy(tps);
    rd_kafka_destroy(rk);
    check_sequence(got, read_all(topic, offset, NULL, got, n), sent + first, n - first, first, "from timestamp");
}

static void scenario_consume_from_mid_batch(void) {
    char topic[256];
    topic_name(topic, sizeof topic);
    create_topic(topic, 1, NULL);
    enum { n = 200, first = 77 };
    struct record *sent = plain_records("mid", n), *got = calloc(n, sizeof *got);
    /* One producer: the records travel in batches, so offset 77 lies inside one and the broker
     * returns that batch from its start; the client must skip the records before 77. */
    produce(topic, sent, n, NULL);
    check_sequence(got, read_all(topic, first, NULL, got, n), sent + first, n - first, first, "from offset 77");
}

static void scenario_idempotent(void) {
    const char *settings[] = {"enable.idempotence", "true", NULL};
    char topic[256];
    topic_name(topic, sizeof topic);
    create_topic(topic, 1, NULL);
    enum { n = 500 };
    struct record *sent = plain_records("idem", n), *got = calloc(n, sizeof *got);
    produce(topic, sent, n, settings);
    for (int i = 0; i < n; i++)
        if (sent[i].offset != i) fail("delivery report %d gave offset %" PRId64, i, sent[i].offset);
    check_sequence(got, read_all(topic, RD_KAFKA_OFFSET_BEGINNING, NULL, got, n), sent, n, 0, "idempotent produce");
}

static void check_error(rd_kafka_error_t *error, const char *what) {
    if (error) fail("%s: %s", what, rd_kafka_error_string(error));
}

static void scenario_transactions(void) {
    char topic[256], tid[256];
    topic_name(topic, sizeof topic);
    snprintf(tid, sizeof tid, "%s-tx", topic_prefix);
    create_topic(topic, 1, NULL);
    enum { n = 20, later = 10 };
    struct record *committed = plain_records("committed", n), *aborted = plain_records("aborted", n),
                  *committed2 = plain_records("later", later);
    const char *settings[] = {"transactional.id", tid, NULL};
    struct delivery d = {.offsets = calloc(n, sizeof(int64_t))};
    rd_kafka_t *rk = new_producer(settings, &d);
    check_error(rd_kafka_init_transactions(rk, 15000), "init_transactions");
    struct record *batches[] = {committed, aborted, committed2};
    int sizes[] = {n, n, later};
    for (int b = 0; b < 3; b++) {
        check_error(rd_kafka_begin_transaction(rk), "begin_transaction");
        send_records(rk, topic, batches[b], sizes[b]);
        rd_kafka_flush(rk, 15000);
        if (d.failed) fail("deliveries failed: %s", d.error);
        if (b == 1)
            check_error(rd_kafka_abort_transaction(rk, 15000), "abort_transaction");
        else
            check_error(rd_kafka_commit_transaction(rk, 15000), "commit_transaction");
    }
    rd_kafka_destroy(rk);

    struct record *got = calloc(2 * n + later, sizeof *got), *want = calloc(2 * n + later, sizeof *want);
    int count = read_all(topic, RD_KAFKA_OFFSET_BEGINNING, "read_committed", got, 2 * n + later);
    memcpy(want, committed, n * sizeof *want);
    memcpy(want + n, committed2, later * sizeof *want);
    /* The first transaction holds offsets 0..19 and its marker 20; the aborted one 21..40 and 41. */
    check_sequence(got, count < n ? count : n, want, n, 0, "read_committed, first transaction");
    check_sequence(got + n, count - n, want + n, later, 2 * n + 2, "read_committed, last transaction");
    count = read_all(topic, RD_KAFKA_OFFSET_BEGINNING, "read_uncommitted", got, 2 * n + later);
    memcpy(want + n, aborted, n * sizeof *want);
    memcpy(want + 2 * n, committed2, later * sizeof *want);
    if (count != 2 * n + later) fail("read_uncommitted read %d records, expected %d", count, 2 * n + later);
    for (int i = 0; i < count; i++)
        if (strcmp(got[i].value, want[i].value) != 0) fail("read_uncommitted: record %d is %s, expected %s", i, got[i].value, want[i].value);
}

static rd_kafka_ConfigResource_t *describe_topic_config(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *topic,
                                                        rd_kafka_event_t **ev) {
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_DescribeConfigs(rk, &res, 1, NULL, q);
    rd_kafka_ConfigResource_destroy(res);
    *ev = admin_wait(q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT);
    size_t n;
    const rd_kafka_ConfigResource_t **rs = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(*ev), &n);
    if (n != 1 || rd_kafka_ConfigResource_error(rs[0])) fail("DescribeConfigs: %s", n ? rd_kafka_ConfigResource_error_string(rs[0]) : "no resource");
    return (rd_kafka_ConfigResource_t *)rs[0];
}

static void expect_config(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *topic, const char *name, const char *value) {
    rd_kafka_event_t *ev;
    const rd_kafka_ConfigResource_t *res = describe_topic_config(rk, q, topic, &ev);
    size_t n;
    const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(res, &n);
    const char *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(rd_kafka_ConfigEntry_name(entries[i]), name) == 0) found = rd_kafka_ConfigEntry_value(entries[i]);
    if (!found || strcmp(found, value) != 0) fail("%s is %s, expected %s", name, found ? found : "(absent)", value);
    rd_kafka_event_destroy(ev);
}

static void scenario_admin(void) {
    char topic[256];
    topic_name(topic, sizeof topic);
    const char *configs[] = {"retention.ms", "3600000", "cleanup.policy", "compact", NULL};
    create_topic(topic, 3, configs);
    rd_kafka_t *rk = new_handle(RD_KAFKA_PRODUCER, new_conf());
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    if (partition_count(rk, topic) != 3) fail("%s has %d partitions, expected 3", topic, partition_count(rk, topic));
    expect_config(rk, q, topic, "retention.ms", "3600000");
    expect_config(rk, q, topic, "cleanup.policy", "compact");

    /* AlterConfigs replaces the whole set of overrides, so both are sent. */
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_ConfigResource_set_config(res, "retention.ms", "7200000");
    rd_kafka_ConfigResource_set_config(res, "cleanup.policy", "compact");
    rd_kafka_AlterConfigs(rk, &res, 1, NULL, q);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT);
    size_t n;
    const rd_kafka_ConfigResource_t **rs = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
    if (n != 1 || rd_kafka_ConfigResource_error(rs[0])) fail("AlterConfigs: %s", n ? rd_kafka_ConfigResource_error_string(rs[0]) : "no resource");
    rd_kafka_event_destroy(ev);
    expect_config(rk, q, topic, "retention.ms", "7200000");

    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
    rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
    ev = admin_wait(q, RD_KAFKA_EVENT_DELETETOPICS_RESULT);
    const rd_kafka_topic_result_t **tr = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    check_topic_results(tr, n, "DeleteTopics");
    rd_kafka_event_destroy(ev);
    rd_kafka_DeleteTopic_destroy(dt);
    double deadline = mono_s() + 10;
    while (partition_count(rk, topic) != 0)
        if (mono_s() > deadline) fail("%s still exists after its deletion", topic);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

/* Offsets across a broker restart ------------------------------------------------------------------- */

static rd_kafka_t *group_consumer(const char *group, const char *topic, const char *const *settings) {
    rd_kafka_conf_t *conf = new_conf();
    set(conf, "group.id", group);
    for (int i = 0; settings && settings[i]; i += 2) set(conf, settings[i], settings[i + 1]);
    rd_kafka_t *rk = new_handle(RD_KAFKA_CONSUMER, conf);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *tps = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tps, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, tps);
    if (e) fail("subscribe: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(tps);
    return rk;
}

static int64_t committed_offset(const char *group, const char *topic) {
    rd_kafka_conf_t *conf = new_conf();
    set(conf, "group.id", group);
    rd_kafka_t *rk = new_handle(RD_KAFKA_CONSUMER, conf);
    rd_kafka_topic_partition_list_t *tps = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tps, topic, 0);
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, tps, 10000);
    if (e || tps->elems[0].err) fail("committed: %s", rd_kafka_err2str(e ? e : tps->elems[0].err));
    int64_t offset = tps->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(tps);
    rd_kafka_destroy(rk);
    return offset;
}

/* A subscribed member reads count records, commits the offset after them and leaves. */
static void group_read(const char *group, const char *topic, struct record *out, int count) {
    const char *settings[] = {"auto.offset.reset", "earliest", "enable.auto.commit", "false", NULL};
    rd_kafka_t *rk = group_consumer(group, topic, settings);
    struct reader rd = {.rk = rk};
    double deadline = mono_s() + 30;
    int n = 0;
    while (n < count) {
        if (mono_s() > deadline) fail("the group member read %d records within 30s, expected %d", n, count);
        n += reader_poll(&rd, out + n, count - n);
    }
    rd_kafka_topic_partition_list_t *tps = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tps, topic, 0)->offset = out[count - 1].offset + 1;
    rd_kafka_resp_err_t e = rd_kafka_commit(rk, tps, 0);
    if (e) fail("commit: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(tps);
    reader_close(&rd);
}

static void scenario_offsets_restart(const char *phase) {
    char topic[256], group[256];
    topic_name(topic, sizeof topic);
    snprintf(group, sizeof group, "%s-g", topic_prefix);
    enum { n = 100, before = 60 };
    struct record *sent = plain_records("o", n), *got = calloc(n, sizeof *got);
    if (strcmp(phase, "commit") == 0) {
        create_topic(topic, 1, NULL);
        produce(topic, sent, n, NULL);
        group_read(group, topic, got, before);
        check_sequence(got, before, sent, before, 0, "before the restart");
        if (committed_offset(group, topic) != before) fail("committed offset %" PRId64 ", expected %d", committed_offset(group, topic), before);
    } else if (strcmp(phase, "verify") == 0) {
        int64_t offset = committed_offset(group, topic);
        if (offset != before) fail("committed offset after the restart is %" PRId64 ", expected %d", offset, before);
        group_read(group, topic, got, n - before);
        check_sequence(got, n - before, sent + before, n - before, before, "after the restart");
    } else {
        fail("unknown phase %s", phase);
    }
}

/* The group scenario ------------------------------------------------------------------------------------ */

enum { group_partitions = 6 };
static volatile sig_atomic_t member_stop;

static void on_member_signal(int sig) {
    (void)sig;
    member_stop = 1;
}

static void print_assignment(rd_kafka_topic_partition_list_t *tps) {
    printf("assigned ");
    for (int i = 0; tps && i < tps->cnt; i++) printf("%s%d", i ? "," : "", tps->elems[i].partition);
    printf("\n");
    fflush(stdout);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *tps, void *opaque) {
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, tps);
        print_assignment(tps);
    } else {
        rd_kafka_assign(rk, NULL);
        print_assignment(NULL);
    }
}

/* One member: prints `assigned p,...` on every rebalance and `read p offset` per record; leaves
 * the group cleanly on SIGTERM. */
static int run_group_member(const char *topic, const char *group) {
    signal(SIGTERM, on_member_signal);
    rd_kafka_conf_t *conf = new_conf();
    set(conf, "group.id", group);
    set(conf, "auto.offset.reset", "earliest");
    set(conf, "session.timeout.ms", "6000");
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_t *rk = new_handle(RD_KAFKA_CONSUMER, conf);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *tps = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tps, topic, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(rk, tps)) fail("subscribe failed");
    rd_kafka_topic_partition_list_destroy(tps);
    while (!member_stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (!m->err) printf("read %d %" PRId64 "\n", m->partition, m->offset);
        fflush(stdout);
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}

struct member {
    pid_t pid;
    int fd;
    char buffer[8192];
    size_t used;
    int assigned[group_partitions];
    int assigned_count;
    bool seen_assignment;
};

static bool read_seen[group_partitions][50];

static void member_start(struct member *m, const char *topic, const char *group) {
    int fds[2];
    if (pipe(fds) != 0) fail("pipe: %s", strerror(errno));
    m->pid = fork();
    if (m->pid < 0) fail("fork: %s", strerror(errno));
    if (m->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl("/proc/self/exe", "client", "group-member", topic, group, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    m->fd = fds[0];
    fcntl(m->fd, F_SETFL, O_NONBLOCK);
}

static void member_pump(struct member *m) {
    for (;;) {
        ssize_t got = read(m->fd, m->buffer + m->used, sizeof m->buffer - 1 - m->used);
        if (got <= 0) return;
        m->used += (size_t)got;
        m->buffer[m->used] = '\0';
        char *line = m->buffer, *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = '\0';
            int p;
            int64_t o;
            if (strncmp(line, "assigned ", 9) == 0) {
                m->assigned_count = 0;
                m->seen_assignment = true;
                for (char *s = line + 9; *s && m->assigned_count < group_partitions;) {
                    m->assigned[m->assigned_count++] = (int)strtol(s, &s, 10);
                    if (*s == ',') s++;
                }
            } else if (sscanf(line, "read %d %" SCNd64, &p, &o) == 2 && p >= 0 && p < group_partitions && o >= 0 && o < 50) {
                read_seen[p][o] = true;
            }
            line = nl + 1;
        }
        m->used = (size_t)(m->buffer + m->used - line);
        memmove(m->buffer, line, m->used);
    }
}

static void wait_for_assignment(struct member *members, int count, double timeout, const char *what) {
    double deadline = mono_s() + timeout;
    for (;;) {
        int owners[group_partitions] = {0}, total = 0;
        bool all = true;
        for (int i = 0; i < count; i++) {
            member_pump(&members[i]);
            all = all && members[i].assigned_count > 0;
            for (int j = 0; j < members[i].assigned_count; j++) {
                int p = members[i].assigned[j];
                if (p >= 0 && p < group_partitions) owners[p]++;
                total++;
            }
            int status;
            if (waitpid(members[i].pid, &status, WNOHANG) == members[i].pid) fail("%s: a member exited (status %d)", what, status);
        }
        bool exact = total == group_partitions;
        for (int p = 0; p < group_partitions; p++) exact = exact && owners[p] == 1;
        if (all && exact) return;
        if (mono_s() > deadline) fail("%s: the assignments never covered partitions 0..5 exactly once within %.0fs", what, timeout);
        usleep(100000);
    }
}

static void scenario_group(void) {
    char topic[256], group[256];
    topic_name(topic, sizeof topic);
    snprintf(group, sizeof group, "%s-g", topic_prefix);
    create_topic(topic, group_partitions, NULL);
    struct record *sent = plain_records("g", 50 * group_partitions);
    for (int i = 0; i < 50 * group_partitions; i++) sent[i].partition = i / 50;
    produce(topic, sent, 50 * group_partitions, NULL);
    struct member members[3] = {0};
    for (int i = 0; i < 3; i++) member_start(&members[i], topic, group);
    wait_for_assignment(members, 3, 40, "three members");
    /* A clean leave (LeaveGroup): its partitions move to the other two. */
    kill(members[0].pid, SIGTERM);
    int status;
    waitpid(members[0].pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("member a did not exit cleanly on SIGTERM (status %d)", status);
    wait_for_assignment(members + 1, 2, 30, "after member a left");
    /* A crash: only the session timeout (6 s) tells the coordinator. */
    kill(members[1].pid, SIGKILL);
    waitpid(members[1].pid, &status, 0);
    wait_for_assignment(members + 2, 1, 40, "after member b was killed");
    double deadline = mono_s() + 20;
    for (;;) {
        for (int i = 0; i < 3; i++) member_pump(&members[i]);
        int missing = 0;
        for (int p = 0; p < group_partitions; p++)
            for (int o = 0; o < 50; o++) missing += !read_seen[p][o];
        if (!missing) break;
        if (mono_s() > deadline) fail("%d of %d records were read by no member", missing, 50 * group_partitions);
        usleep(200000);
    }
    kill(members[2].pid, SIGKILL);
    waitpid(members[2].pid, &status, 0);
}

int main(int argc, char **argv) {
    bootstrap = getenv("SAMSA_BOOTSTRAP");
    const char *prefix = getenv("SAMSA_TOPIC");
    if (!bootstrap || !prefix || argc < 2) {
        fprintf(stderr, "FAIL: usage: SAMSA_BOOTSTRAP=.. SAMSA_TOPIC=.. client <scenario> [<phase>]\n");
        return 1;
    }
    snprintf(topic_prefix, sizeof topic_prefix, "%s", prefix);
    const char *s = argv[1];
    if (strcmp(s, "group-member") == 0 && argc == 4) return run_group_member(argv[2], argv[3]);
    if (strcmp(s, "metadata") == 0) scenario_metadata();
    else if (strncmp(s, "produce-consume-", 16) == 0) scenario_codec(s + 16);
    else if (strcmp(s, "headers-keys-timestamps") == 0) scenario_headers_keys_timestamps();
    else if (strncmp(s, "acks-", 5) == 0) scenario_acks(s + 5);
    else if (strcmp(s, "consume-from-earliest") == 0) scenario_consume_from_earliest();
    else if (strcmp(s, "consume-from-latest") == 0) scenario_consume_from_latest();
    else if (strcmp(s, "consume-from-timestamp") == 0) scenario_consume_from_timestamp();
    else if (strcmp(s, "consume-from-mid-batch") == 0) scenario_consume_from_mid_batch();
    else if (strcmp(s, "group") == 0) scenario_group();
    else if (strcmp(s, "offsets-restart") == 0) scenario_offsets_restart(argc > 2 ? argv[2] : "");
    else if (strcmp(s, "admin") == 0) scenario_admin();
    else if (strcmp(s, "idempotent") == 0) scenario_idempotent();
    else if (strcmp(s, "transactions") == 0) scenario_transactions();
    else fail("unknown scenario %s", s);
    return 0;
}
