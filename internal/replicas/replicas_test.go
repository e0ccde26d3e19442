package replicas

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/internal/testpg"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// cluster is a private primary with one streaming replica, a table t on
// both, and a set over them.
type cluster struct {
	primary, replica *testpg.Server
	pdb, rdb         *sql.DB
	set              *Set
}

func newCluster(t *testing.T, maxLag time.Duration) *cluster {
	t.Helper()
	c := &cluster{primary: testpg.Start(t)}
	c.replica = c.primary.StartReplica(t)
	ctx := context.Background()
	var err error
	if c.pdb, err = postgres.Open(ctx, c.primary.URL("postgres"), postgres.DefaultPool); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.pdb.Close() })
	if c.rdb, err = postgres.Open(ctx, c.replica.URL("postgres"), postgres.Pool{MaxOpen: 2, MaxIdle: 2}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.rdb.Close() })
	c.exec(t, `CREATE TABLE t (v int)`)
	c.exec(t, `INSERT INTO t VALUES (1)`)
	c.waitReplayed(t)
	c.set, err = Open(ctx, Config{Primary: c.pdb, URLs: []string{c.replica.URL("postgres")}, Pool: postgres.DefaultPool, MaxLag: maxLag})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.set.Close() })
	return c
}

func (c *cluster) exec(t *testing.T, stmt string) {
	t.Helper()
	if _, err := c.pdb.Exec(stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// waitReplayed waits until the replica has replayed everything written.
func (c *cluster) waitReplayed(t *testing.T) {
	t.Helper()
	var pos string
	if err := c.pdb.QueryRow(`SELECT pg_current_wal_lsn()::text`).Scan(&pos); err != nil {
		t.Fatal(err)
	}
	testutil.WaitForWithin(t, 10*time.Second, "the replica replays the primary's writes", func() bool {
		var done bool
		return c.rdb.QueryRow(`SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn`, pos).Scan(&done) == nil && done
	})
}

func (c *cluster) pause(t *testing.T) {
	t.Helper()
	if _, err := c.rdb.Exec(`SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
}

func (c *cluster) resume(t *testing.T) {
	t.Helper()
	if _, err := c.rdb.Exec(`SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
}

// sum reads t through an ent client on the set's driver, as a query
// operation does with ctx.
func (c *cluster) sum(t *testing.T, ctx context.Context) int {
	t.Helper()
	var rows entsql.Rows
	if err := c.set.Driver().Query(ctx, `SELECT coalesce(sum(v), 0) FROM t`, []any{}, &rows); err != nil {
		t.Fatalf("query: %v", err)
	}
	defer rows.Close()
	var n int
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}
	if err := rows.Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// onReplica reports whether ForRead(after) routes to the replica.
func (c *cluster) onReplica(after LSN) bool {
	return routed(c.set.ForRead(context.Background(), after)) != nil
}

// Marked reads go to the replica, everything else to the primary: with
// replay paused, the replica's stale answer shows where a read ran.
func TestMarkedReadsAloneGoToTheReplica(t *testing.T) {
	c := newCluster(t, time.Minute)
	c.pause(t)
	c.exec(t, `INSERT INTO t VALUES (10)`)
	ctx := context.Background()
	read := c.set.ForRead(ctx, 0)
	if routed(read) == nil {
		t.Fatal("ForRead chose the primary with a healthy replica")
	}
	if got := c.sum(t, read); got != 1 {
		t.Errorf("a marked read saw %d, want the replica's stale 1", got)
	}
	if got := c.sum(t, ctx); got != 11 {
		t.Errorf("an unmarked read saw %d, want the primary's 11", got)
	}
	if got := c.sum(t, Primary(read)); got != 11 {
		t.Errorf("a read marked for the primary after ForRead saw %d, want 11", got)
	}
	// Writes and transactions of a marked context run on the primary.
	drv := c.set.Driver()
	if err := drv.Exec(read, `INSERT INTO t VALUES (100)`, []any{}, nil); err != nil {
		t.Fatalf("a write with a marked context: %v", err)
	}
	tx, err := drv.Tx(read)
	if err != nil {
		t.Fatal(err)
	}
	var rows entsql.Rows
	if err := tx.Query(read, `SELECT sum(v) FROM t`, []any{}, &rows); err != nil {
		t.Fatal(err)
	}
	var n int
	rows.Next()
	_ = rows.Scan(&n)
	rows.Close()
	_ = tx.Rollback()
	if n != 111 {
		t.Errorf("a transaction with a marked context saw %d, want the primary's 111", n)
	}
	sqlRows, err := drv.QueryContext(read, `SELECT sum(v) FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	sqlRows.Next()
	_ = sqlRows.Scan(&n)
	sqlRows.Close()
	if n != 1 {
		t.Errorf("raw SQL with a marked context saw %d, want the replica's 1", n)
	}
	var _ dialect.Driver = drv
}

// A caller's position: a read waits for the replica to replay it, and
// goes to the primary when it does not in time.
func TestReadAfterAPosition(t *testing.T) {
	c := newCluster(t, time.Minute)
	// Longer than the default: on a loaded machine (and under -race)
	// replaying one insert took more than 100 ms.
	const wait = time.Second
	c.set.cfg.Wait = wait
	c.exec(t, `INSERT INTO t VALUES (10)`)
	pos, err := c.set.PrimaryPosition(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !c.onReplica(pos) {
		t.Error("a read after a position the replica replays within the wait went to the primary")
	}
	c.pause(t)
	c.exec(t, `INSERT INTO t VALUES (100)`)
	pos, err = c.set.PrimaryPosition(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	read := c.set.ForRead(context.Background(), pos)
	if routed(read) != nil {
		t.Fatal("a read after a position the paused replica has not replayed went to the replica")
	}
	if took := time.Since(start); took < wait {
		t.Errorf("it waited %v for the replica, want %v", took, wait)
	}
	if got := c.sum(t, read); got != 111 {
		t.Errorf("it read %d, want 111", got)
	}
	if !c.onReplica(0) {
		t.Error("a read with no position went to the primary though the replica is within the max lag")
	}
	// Resumed during the wait: the read waits and gets the replica.
	go func() { time.Sleep(wait / 5); c.resume(t) }()
	if !c.onReplica(pos) {
		t.Error("a read whose position the replica replays during the wait went to the primary")
	}
}

// The lag rule: a replica that stops replaying while the primary writes
// leaves the reads within about a second of passing the max lag, and
// comes back once it catches up. An idle primary does not make it lag.
func TestLaggingReplicaLeavesAndComesBack(t *testing.T) {
	const maxLag = time.Second
	c := newCluster(t, maxLag)
	time.Sleep(3 * maxLag) // idle
	if !c.onReplica(0) {
		t.Fatal("the replica of an idle primary is out of reads")
	}
	c.pause(t)
	paused := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a primary under load
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				_, _ = c.pdb.Exec(`INSERT INTO t VALUES (0)`)
			}
		}
	}()
	testutil.WaitForWithin(t, 5*time.Second, "the paused replica leaves the reads", func() bool { return !c.onReplica(0) })
	t.Logf("left the reads %v after it stopped replaying (max lag %v)", time.Since(paused).Round(time.Millisecond), maxLag)
	c.resume(t)
	resumed := time.Now()
	testutil.WaitForWithin(t, 5*time.Second, "the replica gets reads again", func() bool { return c.onReplica(0) })
	t.Logf("back in the reads %v after replay resumed", time.Since(resumed).Round(time.Millisecond))
}

// A replica that goes away: reads go to the primary without an error, at
// once for a read that was already routed to it, and within a second for
// new ones; it gets reads again once it is back.
func TestStoppedReplica(t *testing.T) {
	c := newCluster(t, time.Minute)
	read := c.set.ForRead(context.Background(), 0)
	if routed(read) == nil {
		t.Fatal("ForRead chose the primary with a healthy replica")
	}
	c.sum(t, read) // a connection to the replica in the pool
	c.replica.Stop(t)
	stopped := time.Now()
	if got := c.sum(t, read); got != 1 {
		t.Errorf("read %d after the replica stopped, want 1 from the primary", got)
	}
	testutil.WaitForWithin(t, 5*time.Second, "the stopped replica leaves the reads", func() bool { return !c.onReplica(0) })
	t.Logf("the stopped replica left the reads %v after it stopped", time.Since(stopped).Round(time.Millisecond))
	c.replica.Restart(t)
	testutil.WaitForWithin(t, 10*time.Second, "the restarted replica gets reads again", func() bool { return c.onReplica(0) })
}

// Positions keep each caller's latest write, for the max lag and a second.
func TestPositionsKeepTheLatest(t *testing.T) {
	p := NewPositions(testredis.Client(t), "pos-"+testredis.Namespace(t)+":", time.Second)
	ctx := context.Background()
	if got, err := p.Last(ctx, "a"); err != nil || got != 0 {
		t.Fatalf("Last of a caller with no write = %v, %v, want 0", got, err)
	}
	for _, pos := range []LSN{0x1_0000_0010, 0x1_0000_0005} {
		if err := p.Remember(ctx, "a", pos); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := p.Last(ctx, "a"); err != nil || got != 0x1_0000_0010 {
		t.Errorf("Last = %v, %v, want the larger 1/10", got, err)
	}
	time.Sleep(2100 * time.Millisecond) // max lag + 1s
	if got, _ := p.Last(ctx, "a"); got != 0 {
		t.Errorf("Last after the max lag and a second = %v, want forgotten", got)
	}
}

func TestParseLSN(t *testing.T) {
	for _, s := range []string{"0/3000148", "16/B374D848", "FFFFFFFF/FFFFFFFF"} {
		l, err := ParseLSN(s)
		if err != nil || l.String() != s {
			t.Errorf("ParseLSN(%q) = %v, %v", s, l, err)
		}
	}
	for _, s := range []string{"", "3000148", "x/1", "1/2/3", "100000000/0"} {
		if _, err := ParseLSN(s); err == nil {
			t.Errorf("ParseLSN(%q) accepted it", s)
		}
	}
}

// A replica that keeps up with a busy primary keeps getting reads: it is
// always a little behind the primary's latest position, but never by much.
func TestBusyPrimaryKeepsItsReplica(t *testing.T) {
	const maxLag = time.Second
	c := newCluster(t, maxLag)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 2 {
		go func() {
			for ctx.Err() == nil {
				_, _ = c.pdb.ExecContext(ctx, `INSERT INTO t VALUES (0)`)
			}
		}()
	}
	end := time.Now().Add(4 * time.Second)
	var worst time.Duration
	for time.Now().Before(end) {
		r := c.set.replicas[0]
		worst = max(worst, r.lag(c.set.now()))
		if !c.onReplica(0) {
			t.Fatalf("the replica of a busy primary left the reads (lag %v, answering %v, last answer %v ago)", r.lag(c.set.now()),
				r.answering.Load(), c.set.now()-time.Duration(r.answered.Load()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	var replayLag sql.NullString
	var inserts int
	_ = c.pdb.QueryRow(`SELECT replay_lag::text FROM pg_stat_replication`).Scan(&replayLag)
	_ = c.pdb.QueryRow(`SELECT count(*) FROM t`).Scan(&inserts)
	t.Logf("under %d inserts in 4 s (2 writers): worst lag the monitor measured %v (its resolution is its 250 ms checks); PostgreSQL's replay_lag %s",
		inserts, worst.Round(time.Millisecond), replayLag.String)
}

// A replica that hangs (every process of it stopped, as a frozen machine
// would be) answers nothing: it leaves the reads within a second, and
// comes back once it answers again.
func TestHungReplica(t *testing.T) {
	c := newCluster(t, time.Minute)
	if !c.onReplica(0) {
		t.Fatal("ForRead chose the primary with a healthy replica")
	}
	pids := clusterProcesses(t, c.replica.Dir)
	signal := func(sig syscall.Signal) {
		for _, pid := range pids {
			_ = syscall.Kill(pid, sig)
		}
	}
	signal(syscall.SIGSTOP)
	t.Cleanup(func() { signal(syscall.SIGCONT) })
	hung := time.Now()
	testutil.WaitForWithin(t, 5*time.Second, "the hung replica leaves the reads", func() bool { return !c.onReplica(0) })
	t.Logf("the hung replica left the reads %v after it stopped answering", time.Since(hung).Round(time.Millisecond))
	signal(syscall.SIGCONT)
	testutil.WaitForWithin(t, 5*time.Second, "the replica gets reads again", func() bool { return c.onReplica(0) })
}

// clusterProcesses is the postmaster of the cluster in dir and its
// children.
func clusterProcesses(t *testing.T, dir string) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	postmaster, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	pids := []int{postmaster}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so split after ")".
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(postmaster) {
			pids = append(pids, pid)
		}
	}
	return pids
}
