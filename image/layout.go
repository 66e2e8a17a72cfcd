package osimage

import (
	"fmt"
	"strings"
)

// Sizes are in bytes; every partition starts and ends on a MiB boundary.
const (
	mib = 1 << 20
	// sector is the logical sector size the table is written for.
	sector = 512
	// espSize holds systemd-boot and a kernel and initrd per slot (amd64),
	// or the Pi firmware, device trees, kernel and initrd (arm64).
	espSize = 256 * mib
)

// GPT partition types (the Discoverable Partitions Specification).
const (
	typeESP       = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	typeRootAMD64 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
	typeRootARM64 = "B921B045-1DF0-41C3-AF44-4C6F280D3FAE"
	typeLinux     = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
)

// Role says what a partition is for.
type Role string

// The partitions of every image, in table order.
const (
	RoleBoot    Role = "boot"     // ESP (amd64) or Pi firmware (arm64), FAT32
	RoleSystemA Role = "system-a" // the running system, ext4
	RoleSystemB Role = "system-b" // reserved for A/B updates, empty
	RoleData    Role = "data"     // /var/lib/hearth, ext4, grown on first boot
)

// Partition is one entry of the table.
type Partition struct {
	Role   Role
	Number int
	// Start and Size in bytes.
	Start, Size int64
	// Type is a GPT type UUID or an MBR type byte in hex.
	Type string
	// UUID is the GPT partition UUID (empty on MBR: the PARTUUID there is
	// <disk id>-<number>).
	UUID string
	Name string
}

// PartUUID is what root=PARTUUID= and /dev/disk/by-partuuid name.
func (p Partition) PartUUID(l Layout) string {
	if l.GPT {
		return strings.ToLower(p.UUID)
	}
	return fmt.Sprintf("%s-%02x", strings.TrimPrefix(strings.ToLower(l.DiskID), "0x"), p.Number)
}

// Layout is the partition table of an image.
type Layout struct {
	GPT bool
	// DiskID is the GPT disk UUID, or the MBR disk signature (0x12345678).
	DiskID     string
	Partitions []Partition
	// Size is the whole disk image's size.
	Size int64
}

// IDs are the identifiers a layout uses, random per build (NewIDs) and
// fixed in tests.
type IDs struct {
	Disk                   string
	Boot, A, B, Data       string
	BootVolID              string // FAT volume id, 8 hex digits
	RootFSUUID, DataFSUUID string
}

// PlanLayout places the partitions: boot, system A, system B, data, each
// MiB-aligned from 1 MiB, and 1 MiB left at the end for GPT's backup.
func PlanLayout(arch Arch, systemSize, dataSize int64, ids IDs) Layout {
	gpt := arch == AMD64
	rootType, bootType, dataType := typeRootAMD64, typeESP, typeLinux
	if !gpt {
		rootType, bootType, dataType = "83", "c", "83"
	}
	l := Layout{GPT: gpt, DiskID: ids.Disk}
	off := int64(mib)
	add := func(r Role, size int64, typ, uuid, name string) {
		l.Partitions = append(l.Partitions, Partition{Role: r, Number: len(l.Partitions) + 1, Start: off, Size: size, Type: typ, UUID: uuid, Name: name})
		off += size
	}
	if !gpt {
		ids.Boot, ids.A, ids.B, ids.Data = "", "", "", ""
	}
	add(RoleBoot, espSize, bootType, ids.Boot, "hearth-boot")
	add(RoleSystemA, systemSize, rootType, ids.A, "hearth-system-a")
	add(RoleSystemB, systemSize, rootType, ids.B, "hearth-system-b")
	add(RoleData, dataSize, dataType, ids.Data, "hearth-data")
	l.Size = off + mib
	return l
}

// Part returns the partition with role r.
func (l Layout) Part(r Role) Partition {
	for _, p := range l.Partitions {
		if p.Role == r {
			return p
		}
	}
	panic("osimage: no partition " + string(r))
}

// SfdiskScript is the input sfdisk reads to write the table.
func (l Layout) SfdiskScript() string {
	var b strings.Builder
	if l.GPT {
		b.WriteString("label: gpt\n")
	} else {
		b.WriteString("label: dos\n")
	}
	fmt.Fprintf(&b, "label-id: %s\nunit: sectors\nsector-size: %d\n\n", l.DiskID, sector)
	for _, p := range l.Partitions {
		fmt.Fprintf(&b, "start=%d, size=%d, type=%s", p.Start/sector, p.Size/sector, p.Type)
		if l.GPT {
			fmt.Fprintf(&b, ", uuid=%s, name=%q", p.UUID, p.Name)
		} else if p.Role == RoleBoot {
			b.WriteString(", bootable")
		}
		b.WriteString("\n")
	}
	return b.String()
}
