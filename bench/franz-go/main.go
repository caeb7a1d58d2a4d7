// Command franz-go-bench is the franz-go peer of samsa's end-to-end benchmarks
// (bench/e2e): the same workloads as the Node workers, run with franz-go's kgo
// client at its defaults except where a flag says otherwise, printing one JSON
// line of results on stdout. bench/e2e/franz-go.ts builds and runs it.
//
// Modes:
//
//	produce  -records N: N records of -value-size bytes, keyless, cycling through
//	         1,024 distinct values, with Produce(ctx, record, callback) in a plain
//	         loop (Produce blocks while MaxBufferedRecords are buffered: its
//	         backpressure). Time runs from the first send to the last ack; latency
//	         is send call to callback of every -sample-every-th record (the
//	         Node bench passes the same figure its own per-record forms use).
//	consume  -records N: a group consumer (fresh -group, from the earliest offset)
//	         polls with PollFetches until N records were seen. Time runs from
//	         just before NewClient (which joins the group) to the first and to the
//	         N-th record, as the Node consumer worker times subscribe → record.
//	latency  -rate R -duration-ms D: R records/s for D ms after a warm-up of
//	         -warmup-ms at the same rate, paced on a 1 ms ticker that catches up
//	         when it falls behind; latency per measured record, send to callback.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// result is the JSON line the orchestrator parses; field names match the Node
// workers' results where they mean the same thing.
type result struct {
	Mode    string `json:"mode"`
	Records int64  `json:"records"`
	// Failed counts records whose produce callback had an error (produce, latency).
	Failed    int64   `json:"failed"`
	ElapsedMs float64 `json:"elapsedMs"`
	P50Ms     float64 `json:"p50Ms"`
	P99Ms     float64 `json:"p99Ms"`
	MaxMs     float64 `json:"maxMs"`
	// Consume: key and value bytes seen, and NewClient → first record.
	Bytes         int64   `json:"bytes,omitempty"`
	FirstRecordMs float64 `json:"firstRecordMs,omitempty"`
	GroupProtocol string  `json:"groupProtocol,omitempty"`
	// Latency: the rate actually reached over the measured span.
	RecordsPerSec float64 `json:"recordsPerSec,omitempty"`
	TimedOut      bool    `json:"timedOut,omitempty"`
	Error         string  `json:"error,omitempty"`
}

type params struct {
	mode       string
	bootstrap  string
	topic      string
	group      string
	records    int
	valueSize  int
	codec      string
	rate       int
	durationMs int
	warmupMs   int
	lingerMs   int
	// sampleEvery: the produce mode times every Nth record (1: every one).
	sampleEvery int
	timeLimit   time.Duration
}

func main() {
	var p params
	flag.StringVar(&p.mode, "mode", "produce", "produce, consume or latency")
	flag.StringVar(&p.bootstrap, "bootstrap", "127.0.0.1:9092", "comma-separated seed brokers")
	flag.StringVar(&p.topic, "topic", "", "topic to produce to or consume from")
	flag.StringVar(&p.group, "group", "", "consumer group (consume mode)")
	flag.IntVar(&p.records, "records", 1_000_000, "records to produce or consume")
	flag.IntVar(&p.valueSize, "value-size", 100, "bytes of each record's value")
	flag.StringVar(&p.codec, "codec", "none", "none or zstd")
	flag.IntVar(&p.rate, "rate", 10_000, "records per second (latency mode)")
	flag.IntVar(&p.durationMs, "duration-ms", 10_000, "measured span (latency mode)")
	flag.IntVar(&p.warmupMs, "warmup-ms", 1_000, "unmeasured span before it (latency mode)")
	flag.IntVar(&p.lingerMs, "linger-ms", -1, "ProducerLinger in ms; -1 keeps franz-go's default")
	flag.IntVar(&p.sampleEvery, "sample-every", 1, "produce mode: time every Nth record's send → ack")
	flag.DurationVar(&p.timeLimit, "time-limit", 5*time.Minute, "the process reports and exits after this")
	flag.Parse()
	if p.topic == "" {
		fail(errors.New("-topic is required"))
	}

	// The bench must always end: report what there is and leave.
	ctx, cancel := context.WithTimeout(context.Background(), p.timeLimit)
	defer cancel()

	var (
		r   result
		err error
	)
	switch p.mode {
	case "produce":
		r, err = produce(ctx, p)
	case "consume":
		r, err = consume(ctx, p)
	case "latency":
		r, err = latency(ctx, p)
	default:
		err = fmt.Errorf("-mode %q: use produce, consume or latency", p.mode)
	}
	r.Mode = p.mode
	if ctx.Err() != nil {
		r.TimedOut = true
	}
	if err != nil {
		r.Error = err.Error()
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	if err != nil || r.TimedOut {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(2)
}

func seeds(p params) []string { return strings.Split(p.bootstrap, ",") }

// producerOpts are franz-go's defaults (idempotent, linger 10 ms in v1.22,
// 1 MB batches, 50,000 buffered records, sticky uniform-bytes partitioner)
// plus acks=all and the codec under test. franz-go's own default codec is
// snappy; the table compares none and zstd.
func producerOpts(p params) ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds(p)...),
		kgo.ClientID("bench-franz-go"),
		kgo.RequiredAcks(kgo.AllISRAcks()),
	}
	switch p.codec {
	case "none":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.NoCompression()))
	case "zstd":
		// Level 0 keeps klauspost/compress's SpeedDefault, roughly zstd level 3 (Kafka's default).
		opts = append(opts, kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	default:
		return nil, fmt.Errorf("-codec %q: use none or zstd", p.codec)
	}
	if p.lingerMs >= 0 {
		opts = append(opts, kgo.ProducerLinger(time.Duration(p.lingerMs)*time.Millisecond))
	}
	return opts, nil
}

// distinctValues are the 1,024 values every producer benchmark cycles through,
// made as the Node worker makes them: byte i&0xff, the index in the first four.
func distinctValues(size int) [][]byte {
	values := make([][]byte, 1024)
	for i := range values {
		b := make([]byte, size)
		for j := range b {
			b[j] = byte(i)
		}
		if size >= 4 {
			binary.BigEndian.PutUint32(b, uint32(i))
		}
		values[i] = b
	}
	return values
}

// latencies holds send → ack figures in slots (one per timed record) and counts
// every record's ack. Callbacks may run on several goroutines; each writes only
// its own slot; filled counts the timed slots written, done every ack.
type latencies struct {
	ms     []float64
	filled atomic.Int64
	done   atomic.Int64
	failed atomic.Int64
	first  atomic.Pointer[error]
	all    chan struct{}
	target int64
}

// newLatencies makes room for slots timed records out of target.
func newLatencies(slots, target int) *latencies {
	return &latencies{ms: make([]float64, slots), all: make(chan struct{}), target: int64(target)}
}

// ack is a timed record's ack: its latency goes in slot.
func (l *latencies) ack(slot int, sent time.Time, err error) {
	l.ms[slot] = float64(time.Since(sent).Nanoseconds()) / 1e6
	l.filled.Add(1)
	l.settle(err)
}

// settle counts one record's ack.
func (l *latencies) settle(err error) {
	if err != nil {
		if l.failed.Add(1) == 1 {
			l.first.Store(&err)
		}
	}
	if l.done.Add(1) == l.target {
		close(l.all)
	}
}

func (l *latencies) err() error {
	if e := l.first.Load(); e != nil {
		return fmt.Errorf("%d records failed, the first with: %w", l.failed.Load(), *e)
	}
	return nil
}

func percentiles(ms []float64) (p50, p99, maxMs float64) {
	if len(ms) == 0 {
		return 0, 0, 0
	}
	sorted := slices.Clone(ms)
	slices.Sort(sorted)
	at := func(q float64) float64 { return sorted[min(len(sorted)-1, int(float64(len(sorted))*q))] }
	return at(0.5), at(0.99), sorted[len(sorted)-1]
}

// warmUp sends n records and waits for them: connections, metadata, the
// producer id and the first batches happen outside the measurement, as in the
// Node worker (5 calls of 1,000 records).
func warmUp(ctx context.Context, cl *kgo.Client, p params, values [][]byte, n int) error {
	var wg sync.WaitGroup
	var first atomic.Pointer[error]
	wg.Add(n)
	for i := range n {
		cl.Produce(ctx, &kgo.Record{Topic: p.topic, Value: values[i&1023]}, func(_ *kgo.Record, err error) {
			if err != nil {
				first.CompareAndSwap(nil, &err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	if e := first.Load(); e != nil {
		return fmt.Errorf("warm-up: %w", *e)
	}
	return nil
}

// producerClient makes the producing client, its distinct values, and warms it up with
// warmRecords records (connections, the producer id, then the code paths).
func producerClient(ctx context.Context, p params, warmRecords int) (*kgo.Client, [][]byte, error) {
	opts, err := producerOpts(p)
	if err != nil {
		return nil, nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, nil, err
	}
	values := distinctValues(p.valueSize)
	if err := warmUp(ctx, cl, p, values, warmRecords); err != nil {
		cl.Close()
		return nil, nil, err
	}
	return cl, values, nil
}

func produce(ctx context.Context, p params) (result, error) {
	cl, values, err := producerClient(ctx, p, 5_000)
	if err != nil {
		return result{}, err
	}
	defer cl.Close()

	every := max(1, p.sampleEvery)
	lat := newLatencies((p.records+every-1)/every, p.records)
	started := time.Now()
	for i := range p.records {
		rec := &kgo.Record{Topic: p.topic, Value: values[i&1023]}
		if i%every != 0 {
			cl.Produce(ctx, rec, func(_ *kgo.Record, err error) { lat.settle(err) })
			continue
		}
		sent := time.Now()
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) { lat.ack(i/every, sent, err) })
	}
	select {
	case <-lat.all:
	case <-ctx.Done():
	}
	elapsed := time.Since(started)
	p50, p99, mx := percentiles(lat.ms[:min(int(lat.filled.Load()), len(lat.ms))])
	return result{
		Records:   lat.done.Load(),
		Failed:    lat.failed.Load(),
		ElapsedMs: float64(elapsed.Nanoseconds()) / 1e6,
		P50Ms:     p50,
		P99Ms:     p99,
		MaxMs:     mx,
	}, lat.err()
}

func latency(ctx context.Context, p params) (result, error) {
	// Connections and the producer id first, then -warmup-ms at the rate, unmeasured.
	cl, values, err := producerClient(ctx, p, 100)
	if err != nil {
		return result{}, err
	}
	defer cl.Close()
	warm := p.rate * p.warmupMs / 1000
	total := p.rate * p.durationMs / 1000
	lat := newLatencies(total, total)

	ticker := time.NewTicker(time.Millisecond)
	defer ticker.Stop()
	started := time.Now()
	sent := 0
	var measuredFrom time.Time
	for sent < warm+total && ctx.Err() == nil {
		// Records due by now; a late tick sends what the missed ones would have.
		due := min(warm+total, int(time.Since(started).Nanoseconds()*int64(p.rate)/1e9))
		for ; sent < due; sent++ {
			i := sent
			rec := &kgo.Record{Topic: p.topic, Value: values[i&1023]}
			if i < warm {
				cl.Produce(ctx, rec, nil)
				continue
			}
			if i == warm {
				measuredFrom = time.Now()
			}
			t := time.Now()
			cl.Produce(ctx, rec, func(_ *kgo.Record, err error) { lat.ack(i-warm, t, err) })
		}
		select {
		case <-ticker.C:
		case <-ctx.Done():
		}
	}
	sendSpan := time.Since(measuredFrom)
	select {
	case <-lat.all:
	case <-ctx.Done():
	}
	p50, p99, mx := percentiles(lat.ms[:min(int(lat.filled.Load()), len(lat.ms))])
	return result{
		Records:       lat.done.Load(),
		Failed:        lat.failed.Load(),
		ElapsedMs:     float64(sendSpan.Nanoseconds()) / 1e6,
		RecordsPerSec: float64(total) / sendSpan.Seconds(),
		P50Ms:         p50,
		P99Ms:         p99,
		MaxMs:         mx,
	}, lat.err()
}

func consume(ctx context.Context, p params) (result, error) {
	if p.group == "" {
		return result{}, errors.New("-group is required in consume mode")
	}
	started := time.Now()
	// Defaults otherwise: the KIP-848 "consumer" group protocol, 50 MiB fetches,
	// 1 MiB per partition, CRC-32C of every batch checked.
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(seeds(p)...),
		kgo.ClientID("bench-franz-go"),
		kgo.ConsumerGroup(p.group),
		kgo.ConsumeTopics(p.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		return result{}, err
	}
	var (
		records, bytes int64
		first, last    time.Duration
		pollErr        error
	)
	target := int64(p.records)
	for records < target && ctx.Err() == nil {
		fetches := cl.PollFetches(ctx)
		if errs := fetches.Errors(); len(errs) > 0 {
			e := errs[0]
			if errors.Is(e.Err, context.DeadlineExceeded) || errors.Is(e.Err, context.Canceled) {
				break
			}
			pollErr = fmt.Errorf("fetch %s[%d]: %w", e.Topic, e.Partition, e.Err)
			break
		}
		n := int64(0)
		fetches.EachRecord(func(r *kgo.Record) {
			n++
			bytes += int64(len(r.Key) + len(r.Value))
		})
		if n == 0 {
			continue
		}
		if records == 0 {
			first = time.Since(started)
		}
		records += n
		if records >= target {
			last = time.Since(started)
		}
	}
	if last == 0 {
		last = time.Since(started)
	}
	// Leaving the group (and its commit) is outside the figures; capped so it cannot hang the run.
	closed := make(chan struct{})
	go func() { cl.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
	}
	return result{
		Records:       records,
		Bytes:         bytes,
		FirstRecordMs: float64(first.Nanoseconds()) / 1e6,
		ElapsedMs:     float64(last.Nanoseconds()) / 1e6,
		GroupProtocol: "consumer (KIP-848, its default)",
	}, pollErr
}
