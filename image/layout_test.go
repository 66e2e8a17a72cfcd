package osimage

import (
	"fmt"
	"strings"
	"testing"
)

// fixedIDs are the identifiers the golden files are made with.
func fixedIDs(arch Arch) IDs {
	ids := IDs{
		Disk: "11111111-2222-4333-8444-555555555555", Boot: "AAAAAAAA-0000-4000-8000-000000000001",
		A: "AAAAAAAA-0000-4000-8000-000000000002", B: "AAAAAAAA-0000-4000-8000-000000000003",
		Data: "AAAAAAAA-0000-4000-8000-000000000004", BootVolID: "1234ABCD",
		RootFSUUID: "BBBBBBBB-0000-4000-8000-000000000002", DataFSUUID: "BBBBBBBB-0000-4000-8000-000000000004",
	}
	if arch == ARM64 {
		ids.Disk = "0x1234abcd"
	}
	return ids
}

func TestSfdiskScript(t *testing.T) {
	for _, tc := range []struct {
		name       string
		arch       Arch
		system     int64
		data       int64
		wantSize   int64
		wantRootID string
	}{
		{"amd64", AMD64, 1 << 30, 128 << 20, (1 + 256 + 1024 + 1024 + 128 + 1) << 20, "aaaaaaaa-0000-4000-8000-000000000002"},
		{"arm64", ARM64, 1 << 30, 128 << 20, (1 + 256 + 1024 + 1024 + 128 + 1) << 20, "1234abcd-02"},
		{"amd64-big", AMD64, 2 << 30, 512 << 20, (1 + 256 + 2048 + 2048 + 512 + 1) << 20, "aaaaaaaa-0000-4000-8000-000000000002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := PlanLayout(tc.arch, tc.system, tc.data, fixedIDs(tc.arch))
			if l.Size != tc.wantSize {
				t.Errorf("size: got %d, want %d", l.Size, tc.wantSize)
			}
			if got := l.Part(RoleSystemA).PartUUID(l); got != tc.wantRootID {
				t.Errorf("root PARTUUID: got %s, want %s", got, tc.wantRootID)
			}
			var end int64 = mib
			for _, p := range l.Partitions {
				if p.Start%mib != 0 || p.Size%mib != 0 {
					t.Errorf("partition %s: start %d size %d, want MiB-aligned", p.Role, p.Start, p.Size)
				}
				if p.Start != end {
					t.Errorf("partition %s: got start %d, want %d (right after the previous one)", p.Role, p.Start, end)
				}
				end = p.Start + p.Size
			}
			if l.Part(RoleSystemA).Size != l.Part(RoleSystemB).Size {
				t.Errorf("slots differ in size: got A %d, B %d, want equal", l.Part(RoleSystemA).Size, l.Part(RoleSystemB).Size)
			}
			if last := l.Partitions[len(l.Partitions)-1]; last.Role != RoleData {
				t.Errorf("last partition: got %s, want data (it grows to the disk's end)", last.Role)
			}
			golden(t, "sfdisk-"+tc.name+".golden", l.SfdiskScript())
		})
	}
}

func TestConfigValidate(t *testing.T) {
	ok := func() Config {
		return Config{Arch: AMD64, ModuleDir: "/src", CacheDir: "/cache", OutDir: "/out"}.withDefaults()
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"good", func(*Config) {}, ""},
		{"arch", func(c *Config) { c.Arch = "riscv64" }, "Arch"},
		{"suite", func(c *Config) { c.Suite = "trixie; rm -rf /" }, "Suite"},
		{"relative out", func(c *Config) { c.OutDir = "out" }, "OutDir"},
		{"name", func(c *Config) { c.Name = "../x" }, "Name"},
		{"small system", func(c *Config) { c.SystemSize = 100 << 20 }, "SystemSize"},
		{"unaligned data", func(c *Config) { c.DataSize = 100<<20 + 1 }, "DataSize"},
		{"samples without key", func(c *Config) { c.Samples = &Samples{Catalog: []byte("x"), Layout: "/l"} }, "Samples"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok()
			tc.edit(&c)
			err := c.validate()
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tc.field != "" && (err == nil || !strings.Contains(err.Error(), tc.field+":")):
				t.Fatalf("got %v, want an error naming %s", err, tc.field)
			}
		})
	}
}

func TestNewIDs(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		t.Run(string(arch), func(t *testing.T) {
			a, err := NewIDs(arch)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := NewIDs(arch)
			if a == b {
				t.Errorf("got the same IDs twice: %+v", a)
			}
			if arch == ARM64 && (len(a.Disk) != 10 || !strings.HasPrefix(a.Disk, "0x")) {
				t.Errorf("MBR disk id: got %q, want 0x and 8 hex digits", a.Disk)
			}
			if arch == AMD64 && len(a.Disk) != 36 {
				t.Errorf("GPT disk id: got %q, want a UUID", a.Disk)
			}
			if got := fmt.Sprint(len(a.BootVolID)); got != "8" {
				t.Errorf("FAT volume id: got %d hex digits, want 8", len(a.BootVolID))
			}
		})
	}
}
