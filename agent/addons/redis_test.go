package addons

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func startRedis(t *testing.T, dir string) *Redis {
	t.Helper()
	needFiles(t, "redis-server", "/usr/bin/redis-server")
	r, err := NewRedis(RedisConfig{Dir: dir, Port: freePort(t), Listen: []netip.Addr{gateway}, Output: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(testContext(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return r
}

// redisLogin connects with an app's REDIS_URL from src and logs in.
func redisLogin(ctx context.Context, env map[string]string, src netip.Addr) (*respConn, error) {
	u, err := url.Parse(env["REDIS_URL"])
	if err != nil {
		return nil, err
	}
	conn, err := dialFrom(src)(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	c := &respConn{c: conn}
	c.r = bufioReaderOf(conn)
	pw, _ := u.User.Password()
	if _, err := c.do("AUTH", u.User.Username(), pw); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func redisErr(err error, prefix string) bool {
	var re *errRedis
	return errors.As(err, &re) && strings.HasPrefix(re.msg, prefix)
}

func TestRedis(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	r := startRedis(t, addonDir(t, "redis"))
	pwA, pwB := NewPassword(), NewPassword()
	for app, pw := range map[string]string{"notes": pwA, "blog": pwB} {
		if err := r.Ensure(ctx, app, subnetA, pw); err != nil {
			t.Fatal(err)
		}
	}
	envA := r.Env("notes", Conn{Host: local, Password: pwA})
	envB := r.Env("blog", Conn{Host: local, Password: pwB})

	a, err := redisLogin(ctx, envA, clientA)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, kv := range [][2]string{{"notes:one", "1"}, {"notes:two", "2"}} {
		if _, err := a.do("SET", kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.do("PEXPIRE", "notes:two", "600000"); err != nil {
		t.Fatal(err)
	}

	t.Run("listens on the gateway too", func(t *testing.T) {
		c, err := redisLogin(ctx, r.Env("notes", Conn{Host: gateway, Password: pwA}), clientA)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	})
	t.Run("isolation", func(t *testing.T) {
		b, err := redisLogin(ctx, envB, clientB)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		for _, cmd := range [][]string{{"GET", "notes:one"}, {"SET", "notes:one", "x"}, {"KEYS", "*"}, {"FLUSHALL"}, {"CONFIG", "GET", "*"}, {"ACL", "LIST"}} {
			if _, err := b.do(cmd...); !redisErr(err, "NOPERM") {
				t.Errorf("B runs %v: got %v, want NOPERM", cmd, err)
			}
		}
		if _, err := b.do("SET", "blog:x", "y"); err != nil {
			t.Errorf("B writes its own key: %v", err)
		}
		if _, err := redisLogin(ctx, with(envB, "REDIS_URL", strings.Replace(envB["REDIS_URL"], pwB, pwA, 1)), clientB); !redisErr(err, "WRONGPASS") {
			t.Errorf("B's user with A's password: got %v, want WRONGPASS", err)
		}
		if _, err := redisLogin(ctx, with(envB, "REDIS_URL", "redis://default:x@"+net.JoinHostPort("127.0.0.1", envB["REDIS_PORT"])), clientB); !redisErr(err, "WRONGPASS") {
			t.Errorf("the default user: got %v, want WRONGPASS", err)
		}
	})
	t.Run("dump and restore give identical keys", func(t *testing.T) {
		var dump bytes.Buffer
		if err := r.Dump(ctx, "notes", &dump); err != nil {
			t.Fatal(err)
		}
		if _, err := a.do("DEL", "notes:one"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.do("SET", "notes:three", "3"); err != nil {
			t.Fatal(err)
		}
		if err := r.Restore(ctx, "notes", &dump); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]string{"notes:one": "1", "notes:two": "2"}, redisKeys(t, r, "notes")); diff != "" {
			t.Errorf("keys after restore (-want +got):\n%s", diff)
		}
		if ttl, err := a.do("PTTL", "notes:two"); err != nil || ttl.(int64) <= 0 {
			t.Errorf("TTL after restore: got %v, %v, want > 0", ttl, err)
		}
		var evil bytes.Buffer
		if err := r.Dump(ctx, "blog", &evil); err != nil {
			t.Fatal(err)
		}
		if err := r.Restore(ctx, "notes", &evil); !errors.Is(err, ErrInvalid) {
			t.Errorf("restoring blog's keys into notes: got %v, want ErrInvalid", err)
		}
		if diff := cmp.Diff(map[string]string{"notes:one": "1", "notes:two": "2"}, redisKeys(t, r, "notes")); diff != "" {
			t.Errorf("keys after a refused restore (-want +got):\n%s", diff)
		}
	})
	t.Run("users and keys outlive a restart", func(t *testing.T) {
		if err := r.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := redisLogin(ctx, envA, clientA)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if v, err := c.do("GET", "notes:two"); err != nil || v != "2" {
			t.Errorf("GET after restart: got %v, %v, want 2", v, err)
		}
	})
	t.Run("drop", func(t *testing.T) {
		if err := r.Drop(ctx, "blog"); err != nil {
			t.Fatal(err)
		}
		if _, err := redisLogin(ctx, envB, clientB); !redisErr(err, "WRONGPASS") {
			t.Errorf("login after Drop: got %v, want WRONGPASS", err)
		}
		if got := redisKeys(t, r, "blog"); len(got) != 0 {
			t.Errorf("keys after Drop: got %v, want none", got)
		}
	})
}

func redisKeys(t *testing.T, r *Redis, app string) map[string]string {
	t.Helper()
	c, err := r.session(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := map[string]string{}
	if err := r.eachKey(c, app, func(k string) error {
		v, err := c.do("GET", k)
		out[k], _ = v.(string)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
