package e2e

import (
	"context"
	"database/sql"
	"encoding/csv"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/localstore"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

var killSeeds = flag.Int("kill.seeds", 2, "seeds for the SIGKILL scenarios (e.g. 50 for a soak)")

// killSetup starts a real server with the Gwent cases, logs insp.ahmed in
// on a second home and records all of insp.ahmed's answers offline.
func killSetup(t *testing.T) (dir, db, addr, id, insp string, srv *daemon, dev *syncsim.Device) {
	dir = t.TempDir()
	db = filepath.Join(dir, "fieldwork.db")
	addr = freeAddr(t)
	out, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, db, addr)
	lead := filepath.Join(dir, "lead")
	cli(t, lead, false, "login", "--server", addr, "--token", strings.TrimSpace(string(out)))
	id, _ = cli(t, lead, false, "inspection", "create", "--name", "Kill", "--framework", "probation-pdu-2023")
	id = strings.TrimSpace(id)
	cli(t, lead, false, "import", "--inspection", id, "--cases", gwent("cases.csv"))
	tok, _ := cli(t, lead, false, "token", "issue", "--user", "insp.ahmed")
	insp = filepath.Join(dir, "ahmed")
	cli(t, insp, false, "login", "--server", addr, "--token", strings.TrimSpace(tok))
	cli(t, insp, false, "sync")

	local, err := localstore.Open(context.Background(), filepath.Join(insp, "client.db"))
	if err != nil {
		t.Fatal(err)
	}
	dev = &syncsim.Device{User: "insp.ahmed", Local: local}
	cases, _ := local.Cases(context.Background(), id)
	mine := map[string]bool{}
	for _, c := range cases {
		mine[c.Ref] = true
	}
	for _, r := range readAnswers(t) {
		if mine[r[0]] {
			dev.Record(t, id, r[0], r[1], r[2])
		}
	}
	local.Close()
	return
}

// readAnswers returns the rows of the Gwent answers.csv (no header).
func readAnswers(t *testing.T) [][]string {
	f, err := os.Open(gwent("answers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:]
}

// checkAfterKill reopens the inspector's store and checks the sync
// properties against the server's database.
func checkAfterKill(t *testing.T, db, id, insp string, dev *syncsim.Device) int {
	local, err := localstore.Open(context.Background(), filepath.Join(insp, "client.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	dev.Local = local
	return syncsim.Check(t, &syncsim.World{DBPath: db, InspectionID: id}, []*syncsim.Device{dev})
}

// The server is SIGKILLed once it has recorded a seeded share of the push,
// not after a sleep: a timed kill could land before the push began or after
// it ended on every seed, which failed the run with both subtests passing
// (the machine's speed decided it). Each seed must now kill mid-push.
func TestServerKilledDuringPush(t *testing.T) {
	for seed := range *killSeeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 21))
			_, db, addr, id, insp, srv, dev := killSetup(t)
			sync := exec.Command(filepath.Join(binDir, "fieldwork"), "sync", "--batch", "7")
			sync.Env = append(sync.Environ(), "FIELDWORK_HOME="+insp)
			if err := sync.Start(); err != nil {
				t.Fatal(err)
			}
			waitForOps(t, db, 1+rng.IntN(len(dev.Ops)/2))
			srv.cmd.Process.Signal(syscall.SIGKILL)
			srv.cmd.Wait()
			syncErr := sync.Wait()
			before := countOps(t, db)
			srv = startServer(t, db, addr) // same database, after a kill -9
			cli(t, insp, false, "sync")
			cli(t, insp, false, "sync")
			ops := checkAfterKill(t, db, id, insp, dev)
			t.Logf("seed %d: %d ops; %d recorded when the server was killed; first sync failed: %v", seed, ops, before, syncErr != nil)
			if before == 0 || before >= ops {
				t.Errorf("the kill landed with %d of %d ops recorded: not mid-push", before, ops)
			}
			srv.stop(t)
		})
	}
}

func TestClientKilledMidSync(t *testing.T) {
	for seed := range *killSeeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 22))
			_, db, _, id, insp, srv, dev := killSetup(t)
			kills := 0
			for range 3 {
				sync := exec.Command(filepath.Join(binDir, "fieldwork"), "sync", "--batch", "5")
				sync.Env = append(sync.Environ(), "FIELDWORK_HOME="+insp)
				if err := sync.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(5+rng.IntN(100)) * time.Millisecond)
				if sync.Process.Signal(syscall.SIGKILL) == nil {
					kills++
				}
				sync.Wait()
			}
			before := countOps(t, db)
			cli(t, insp, false, "sync")
			ops := checkAfterKill(t, db, id, insp, dev)
			t.Logf("seed %d: %d ops, %d client kills, %d ops recorded by then", seed, ops, kills, before)
			srv.stop(t)
		})
	}
}

// countOps counts the ops the server has recorded.
// waitForOps polls the server's database until at least n ops are
// recorded (a push is under way), for at most 30 s.
func waitForOps(t *testing.T, db string, n int) {
	conn, err := sql.Open("sqlite3", "file:"+db+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var got int
		if err := conn.QueryRow(`SELECT count(*) FROM op_records`).Scan(&got); err == nil && got >= n {
			return
		}
		time.Sleep(200 * time.Microsecond)
	}
	t.Fatalf("fewer than %d ops recorded after 30 s", n)
}

func countOps(t *testing.T, db string) int {
	conn, err := sql.Open("sqlite3", "file:"+db+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRow(`SELECT count(*) FROM op_records`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRecountFindsAndFixesDriftedCounts(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "fieldwork.db")
	addr := freeAddr(t)
	out, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, db, addr)
	home := filepath.Join(dir, "lead")
	cli(t, home, false, "login", "--server", addr, "--token", strings.TrimSpace(string(out)))
	id, _ := cli(t, home, false, "inspection", "create", "--name", "Recount", "--framework", "probation-pdu-2023")
	cli(t, home, false, "import", "--inspection", strings.TrimSpace(id), "--cases", gwent("cases.csv"), "--answers", gwent("answers.csv"))
	srv.stop(t)
	recount := func(args ...string) (string, error) {
		out, err := exec.Command(filepath.Join(binDir, "fieldworkd"), append([]string{"--db", db, "recount"}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := recount(); err != nil || !strings.Contains(out, "kept counts equal a full recount") {
		t.Fatalf("recount after import: %v\n%s", err, out)
	}
	conn, err := sql.Open("sqlite3", "file:"+db+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(`UPDATE question_counts SET n = n + 2 WHERE question_id = '2.1.1' AND value = 'yes'`); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if out, err := recount(); err == nil || !strings.Contains(out, "question 2.1.1 value yes: kept 43, counted 41") {
		t.Errorf("recount after drift: %v\n%s", err, out)
	}
	if out, err := recount("--fix"); err != nil || !strings.Contains(out, "rewritten") {
		t.Errorf("recount --fix: %v\n%s", err, out)
	}
	if out, err := recount(); err != nil || !strings.Contains(out, "equal") {
		t.Errorf("recount after fix: %v\n%s", err, out)
	}
}
